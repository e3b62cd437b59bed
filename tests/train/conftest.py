"""Helpers for training tests: a run directory with ingested records and a tiny-model config."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

TINY = """
run: {{seed: 3}}
train:
  model: {{path: {model}, layers: 2, width: 32, heads: 2, vocab_size: 160}}
  method: {method}
  max_length: 32
  batch_size: 8
  micro_batch_size: 4
  max_steps: {steps}
  eval_every: 2
  learning_rate: 0.01
  lora: {{rank: 4}}
{extra}
dp: {{noise_multiplier: 0.8, target_epsilon: null, accountant: rdp, max_grad_norm: 1.0}}
"""


def _make_run(path: Path, n: int = 48, users: bool = False, shape: str = "text") -> Path:
    from privtune.rundir import RunDir
    from privtune.secure.store import open_store

    rng = random.Random(0)
    lines = []
    for i in range(n):
        who = rng.choice(["alice", "bob", "carol", "dave"])
        if shape == "text":
            rec = {"id": i, "text": f"ticket {i}: {who} cannot log in after the update; reset password"}
        elif shape == "prompt_completion":
            rec = {"id": i, "prompt": f"Summarise ticket {i} from {who}:", "completion": " login failure, reset"}
        else:
            rec = {"id": i, "messages": [{"role": "user", "content": f"hi, {who} here"},
                                         {"role": "assistant", "content": "how can I help?"}]}
        if users:
            rec["user_id"] = f"u{i % 6}"
        lines.append(json.dumps(rec) + "\n")
    store = open_store(RunDir(path))
    store.write("ingest/records.jsonl", "".join(lines).encode())
    return path


@pytest.fixture
def tiny_config(tmp_path):
    def write(model: str = "tiny-gpt2", method: str = "lora", steps: int = 4, extra: str = "") -> Path:
        p = tmp_path / f"cfg-{model}-{method}-{steps}-{abs(hash(extra))}.yaml"
        p.write_text(TINY.format(model=model, method=method, steps=steps, extra=extra))
        return p

    return write


@pytest.fixture
def make_run():
    return _make_run
