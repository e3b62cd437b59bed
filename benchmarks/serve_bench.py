"""Guarded serving under load on loopback: latency p50/p99, throughput and errors, guard on vs off.

One process builds (or reuses) a tiny trained run, starts two servers on 127.0.0.1 — same model,
guard on and guard off — and drives each with the same concurrent client load (bounded count and
time). Guard overhead per response excluding generation is measured inside the server (time spent
in the guard per response, /admin/stats), next to the end-to-end latencies.

    python benchmarks/serve_bench.py                       # 64 concurrent clients, 256 requests per mode
    python benchmarks/serve_bench.py --run runs/demo --clients 64 --requests 512
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import socket
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

PROMPTS = ["Ticket 3:", "Ticket 12:", "Hello", "my account PIN is", "Please help with my order", "Ticket 7:"]


def build_run(base: Path) -> Path:
    from privtune.cli import main

    data = base / "data.jsonl"
    data.write_text(
        "".join(
            json.dumps(
                {
                    "text": f"Ticket {i}: write to jane.roe@example.org for help. "
                    "The order ships in five days, thanks for waiting."
                }
            )
            + "\n"
            for i in range(16)
        )
    )
    run = base / "benchrun"
    for args in (
        ["ingest", data, "--schema", "text", "--out", run],
        ["scan", run, "--ner", "none", "--json"],
        [
            "train",
            run,
            "--model",
            "tiny-gpt2",
            "--method",
            "full",
            "--no-dp",
            "--max-steps",
            "60",
            "--batch-size",
            "16",
            "--lr",
            "0.01",
            "--quiet",
            "--json",
        ],
    ):
        try:
            with contextlib.redirect_stdout(sys.stderr):
                main([str(a) for a in args])
        except SystemExit as exc:
            if exc.code not in (0, None):
                sys.exit(f"building the benchmark run failed at `privtune {args[0]}`")
    return run


def start_server(run: Path, guard: bool, concurrency: int) -> tuple[Any, int, str, Any]:
    import uvicorn

    from privtune.config import PipelineConfig
    from privtune.serve.app import create_app
    from privtune.serve.service import load_state

    cfg = PipelineConfig.model_validate(
        {
            "serve": {
                "guard": {"enabled": guard},
                "concurrency": concurrency,
                "rate_limit": {"requests_per_minute": 1e6, "tokens_per_minute": 1e9},
                "extraction": {"enabled": False},
            }
        }
    )
    state = load_state(run, cfg)
    _, token = state.keys.create(f"bench-{'on' if guard else 'off'}", "admin")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(state),
            host="127.0.0.1",
            port=port,
            log_level="error",
            backlog=256,
            limit_concurrency=1024,
        )
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, port, token, state


async def load(
    port: int,
    token: str,
    model: str,
    clients: int,
    requests: int,
    stream: bool,
    max_tokens: int,
    deadline_s: float,
) -> dict[str, Any]:
    import httpx

    lat: list[float] = []
    errors: dict[str, int] = {}
    next_i = 0
    t_end = time.perf_counter() + deadline_s
    headers = {"Authorization": f"Bearer {token}"}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal next_i
        while next_i < requests and time.perf_counter() < t_end:
            i = next_i
            next_i += 1
            body = {
                "model": model,
                "prompt": PROMPTS[i % len(PROMPTS)],
                "max_tokens": max_tokens,
                "temperature": 0.7,
                "seed": i,
                "stream": stream,
            }
            t0 = time.perf_counter()
            try:
                r = await client.post("/v1/completions", json=body, headers=headers)
                ok = r.status_code == 200 and (not stream or r.text.rstrip().endswith("data: [DONE]"))
                if not ok:
                    errors[str(r.status_code)] = errors.get(str(r.status_code), 0) + 1
                    continue
            except httpx.HTTPError as exc:
                errors[type(exc).__name__] = errors.get(type(exc).__name__, 0) + 1
                continue
            lat.append((time.perf_counter() - t0) * 1000)

    t0 = time.perf_counter()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(clients)))
        stats = (await client.get("/admin/stats", headers=headers)).json()
    wall = time.perf_counter() - t0
    import numpy as np

    return {
        "completed": len(lat),
        "errors": errors,
        "wall_s": round(wall, 2),
        "throughput_rps": round(len(lat) / wall, 2),
        "latency_ms_p50": round(float(np.percentile(lat, 50)), 1) if lat else None,
        "latency_ms_p99": round(float(np.percentile(lat, 99)), 1) if lat else None,
        "guard_ms_per_response_p50": round(stats.get("guard_ms_p50", 0.0), 3)
        if "guard_ms_p50" in stats
        else None,
        "guard_ms_per_response_p99": round(stats.get("guard_ms_p99", 0.0), 3)
        if "guard_ms_p99" in stats
        else None,
    }


def main() -> None:
    from privtune.serve.service import Stats

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--run", type=Path, help="Trained run to serve (default: build a tiny one).")
    ap.add_argument("--clients", type=int, default=64, help="Concurrent clients (bounded to 256).")
    ap.add_argument("--requests", type=int, default=256, help="Requests per server and mode.")
    ap.add_argument("--max-tokens", type=int, default=24)
    ap.add_argument("--concurrency", type=int, default=2, help="Generations at once inside the server.")
    ap.add_argument("--max-seconds", type=float, default=180.0, help="Time bound per server and mode.")
    args = ap.parse_args()
    clients = max(1, min(args.clients, 256))
    os.environ.setdefault("PRIVTUNE_HOME", tempfile.mkdtemp(prefix="privtune-bench-home-"))
    with tempfile.TemporaryDirectory() as tmp:
        run = args.run or build_run(Path(tmp))
        servers = {
            name: start_server(run, guard, args.concurrency)
            for name, guard in (("guard_on", True), ("guard_off", False))
        }
        model = run.resolve().name
        out: dict[str, Any] = {
            "clients": clients,
            "requests": args.requests,
            "max_tokens": args.max_tokens,
            "server_concurrency": args.concurrency,
            "cpu_count": os.cpu_count(),
        }
        for mode, stream in (("non_streaming", False), ("streaming", True)):
            for name in ("guard_off", "guard_on"):
                _, port, token, state = servers[name]
                state.stats = Stats()  # this mode's responses only
                res = asyncio.run(
                    load(
                        port, token, model, clients, args.requests, stream, args.max_tokens, args.max_seconds
                    )
                )
                out[f"{mode}.{name}"] = res
        for mode in ("non_streaming", "streaming"):
            on, off = out[f"{mode}.guard_on"], out[f"{mode}.guard_off"]
            out[f"{mode}.latency_p99_ratio_on_off"] = (
                round(on["latency_ms_p99"] / off["latency_ms_p99"], 3)
                if on["latency_ms_p99"] and off["latency_ms_p99"]
                else None
            )
        out["guard_overhead_ms_p99"] = max(
            out[f"{m}.guard_on"]["guard_ms_per_response_p99"] or 0.0 for m in ("non_streaming", "streaming")
        )
        out["target_guard_overhead_ms_p99"] = 5.0
        out["errors_total"] = sum(
            sum(v["errors"].values()) for k, v in out.items() if isinstance(v, dict) and "errors" in v
        )
        for server, *_ in servers.values():
            server.should_exit = True
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
