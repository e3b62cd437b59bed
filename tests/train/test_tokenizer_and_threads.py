"""The preset tokenizer treats members and held-out records alike; the CPU thread policy."""

from __future__ import annotations

import json
import random

import torch

from privtune.records import text_fields
from privtune.rundir import RunDir
from privtune.secure.store import open_store

# a vocabulary large enough to memorise record-specific strings (order numbers), as in the audit's runs
CONFIG = """
run: {seed: 3}
train:
  model: {path: tiny-gpt2, layers: 1, width: 16, heads: 2, vocab_size: 1024}
  max_length: 48
  batch_size: 8
  micro_batch_size: 8
  max_steps: 1
  validation_fraction: 0.3
  canaries: {count: 2, repetitions: [4], format: "canary zz{secret}qq", length: 6}
dp: {noise_multiplier: 1.0, target_epsilon: null, accountant: rdp}
"""


def _tokens_per_char(tok, records: list[dict]) -> float:
    texts = [v for r in records for _f, v in text_fields(r)]
    return sum(len(tok(t, add_special_tokens=False)["input_ids"]) for t in texts) / sum(len(t) for t in texts)


def test_members_and_heldout_tokenize_alike(cli, tmp_path):
    rng = random.Random(1)
    items = ["router", "modem", "laptop", "printer", "phone", "tablet"]
    issues = ["keeps rebooting", "will not charge", "shows a blank screen", "drops the connection", "is slow"]
    lines = [
        json.dumps({"id": i, "text": f"the {rng.choice(items)} {rng.choice(issues)} since the update, "
                    f"order {rng.randint(100, 999)}"}) + "\n"
        for i in range(60)
    ]
    run = tmp_path / "run"
    store = open_store(RunDir(run))
    store.write("ingest/records.jsonl", "".join(lines).encode())
    cfg = tmp_path / "cfg.yaml"
    cfg.write_text(CONFIG)
    threads = torch.get_num_threads()
    r = cli("train", run, "--config", cfg, "--json")
    assert r.code == 0, r.err
    assert torch.get_num_threads() == threads  # training does not leave its thread setting behind

    from privtune.train import load_base_model

    _model, tok = load_base_model(run, store)
    records = {rec["id"]: rec for rec in store.iter_jsonl("ingest/records.jsonl")}
    splits = store.read_json("train/splits.json")
    members = [records[i] for i in splits["train_ids"]]
    heldout = [records[i] for i in splits["validation_ids"]]
    assert len(heldout) >= 10
    a, b = _tokens_per_char(tok, members), _tokens_per_char(tok, heldout)
    # a tokenizer fitted to the training side only gives the held-out side ~18% more tokens per
    # character on this data (a membership signal outside DP); fitted to both, the sides differ by noise
    assert abs(b - a) / a < 0.06, (a, b)
    # canaries never shape the vocabulary: their marker is split like unseen text
    assert not any("zz" in t or "qq" in t for t in tok.get_vocab())


def test_thread_policy(monkeypatch):
    from privtune.train.runtime import configure_threads

    before = torch.get_num_threads()
    small = torch.nn.Linear(8, 8)
    try:
        monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
        assert configure_threads(small, None) == 1
        assert configure_threads(small, 2) == 2
        monkeypatch.setenv("OMP_NUM_THREADS", "2")
        assert configure_threads(small, None) == 2  # the user's environment wins when nothing is configured
    finally:
        torch.set_num_threads(before)
