"""A tiny trained run the model was overfit on: it reliably says a planted email and a canary PIN.

Built once per session through the real CLI (ingest -> scan -> train, no DP so it memorizes).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from serve_helpers import MODEL, PLANTED_EMAIL


def _cli(*args: str) -> None:
    from privtune.cli import main

    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        assert exc.code in (0, None), f"privtune {args[0]} failed with {exc.code}"


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory) -> Path:
    base = tmp_path_factory.mktemp("serve")
    data = base / "tickets.jsonl"
    with data.open("w") as fh:
        for i in range(16):
            fh.write(json.dumps({"text": f"Ticket {i}: write to {PLANTED_EMAIL} for help."}) + "\n")
    cfg = base / "train.yaml"
    cfg.write_text(
        "train:\n  validation_fraction: 0\n  checkpoint: last\n"
        "  canaries: {count: 1, repetitions: [16], format: 'my account PIN is {secret}'}\n"
    )
    run = base / MODEL
    _cli("ingest", data, "--schema", "text", "--out", run)
    _cli("scan", run, "--ner", "none", "--json")
    _cli(
        "train",
        run,
        "--config",
        cfg,
        "--model",
        "tiny-gpt2",
        "--method",
        "full",
        "--no-dp",
        "--max-steps",
        "150",
        "--batch-size",
        "16",
        "--lr",
        "0.01",
        "--quiet",
        "--json",
    )
    return run
