"""Streaming ingest at scale: records/s, MB/s and peak RSS of `privtune ingest` on a large JSONL.

Writes a synthetic JSONL of the requested size (varied records, some bad lines and duplicates), runs
the real CLI in a child process and reports its peak resident memory (ru_maxrss of the child) next to
a baseline child that only reads the file line by line with json.loads — the floor any loader pays.

    python benchmarks/ingest_bench.py --gb 2          # acceptance run (peak RSS must stay < 500 MB)
    python benchmarks/ingest_bench.py --gb 0.05       # smoke check
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WORDS = ["order", "refund", "card", "delivery", "account", "password", "shipping", "invoice", "charge", "broken", "late", "parcel", "address", "email", "phone", "support", "ticket", "customer", "agent", "reply", "thanks", "please", "urgent", "help"]


def make_jsonl(path: Path, target_bytes: int, seed: int = 0) -> int:
    rng = random.Random(seed)
    n = 0
    written = 0
    prev = '{"prompt": "p", "completion": "c"}'
    with open(path, "w", encoding="utf-8") as fh:
        while written < target_bytes:
            if n % 997 == 5:
                line = '{"prompt": "broken json\n'
            elif n % 1009 == 7 and n:
                line = prev + "\n"
            else:
                body = " ".join(rng.choice(WORDS) for _ in range(rng.randint(20, 120)))
                rec = {
                    "prompt": f"Ticket {n}: {body}",
                    "completion": "Summary: " + " ".join(rng.choice(WORDS) for _ in range(12)),
                    "customer_id": f"c{rng.randint(0, 50000)}",
                    "agent_notes": "internal " * rng.randint(0, 5),
                }
                line = json.dumps(rec) + "\n"
                prev = line.rstrip("\n")
            fh.write(line)
            written += len(line)
            n += 1
    return n


def child_peak_rss_mb(cmd: list[str]) -> tuple[float, float, subprocess.CompletedProcess]:
    """Run `cmd` in a fresh process and return (seconds, peak RSS MB of that child, result)."""
    wrapper = (
        "import resource,subprocess,sys,json,time;t=time.perf_counter();"
        "r=subprocess.run(sys.argv[1:],capture_output=True,text=True);"
        "print(json.dumps({'s':time.perf_counter()-t,'rss_kb':resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,"
        "'rc':r.returncode,'out':r.stdout[-4000:],'err':r.stderr[-2000:]}))"
    )
    res = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, check=True)
    info = json.loads(res.stdout)
    return info["s"], info["rss_kb"] / 1024, info


BASELINE = (
    "import json,sys\nn=0\nwith open(sys.argv[1],'rb') as f:\n for line in f:\n  try: json.loads(line); n+=1\n"
    "  except ValueError: pass\nprint(n)"
)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gb", type=float, default=2.0)
    ap.add_argument("--workdir", default=None)
    args = ap.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="ingest-bench-"))
    src = work / "big.jsonl"
    t = time.perf_counter()
    n = make_jsonl(src, int(args.gb * (1 << 30)))
    gen_s = time.perf_counter() - t
    size_mb = src.stat().st_size / (1 << 20)
    env = dict(os.environ, PRIVTUNE_HOME=str(work / "home"))
    os.environ.update(env)
    base_s, base_rss, _ = child_peak_rss_mb([sys.executable, "-c", BASELINE, str(src)])
    exe = str(Path(sys.executable).parent / "privtune")
    cmd = [
        exe,
        "ingest",
        str(src),
        "--out",
        str(work / "run"),
        "--schema",
        "prompt_completion",
        "--user-id-field",
        "customer_id",
        "--json",
    ]
    ing_s, ing_rss, info = child_peak_rss_mb(cmd)
    if info["rc"] != 0:
        print(json.dumps({"error": info["err"]}))
        sys.exit(1)
    report = json.loads(info["out"])
    print(
        json.dumps(
            {
                "input_mb": round(size_mb, 1),
                "records": n,
                "generate_s": round(gen_s, 1),
                "privtune": {
                    "seconds": round(ing_s, 2),
                    "records_per_s": round(n / ing_s),
                    "mb_per_s": round(size_mb / ing_s, 1),
                    "peak_rss_mb": round(ing_rss, 1),
                    "kept": report["kept"],
                    "quarantined": report["quarantined"],
                    "duplicates_removed": report["duplicates_removed"],
                    "encrypted_output": True,
                },
                "baseline_json_loads": {
                    "seconds": round(base_s, 2),
                    "records_per_s": round(n / base_s),
                    "peak_rss_mb": round(base_rss, 1),
                },
                "ratio_time_vs_baseline": round(ing_s / base_s, 2),
                "reconciles": report["read"]
                == report["kept"] + report["quarantined"] + report["duplicates_removed"],
                "peak_rss_under_500mb": ing_rss < 500,
            },
            indent=2,
        )
    )
    if not args.workdir:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
