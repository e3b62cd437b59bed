"""`privtune train` end to end on tiny models: artifacts, public API, errors, canaries, user-level DP."""

from __future__ import annotations

import json
import re

import pytest
import torch

from privtune.rundir import RunDir
from privtune.secure.store import open_store


@pytest.mark.slow
@pytest.mark.parametrize(("model", "method"), [("tiny-gpt2", "lora"), ("tiny-llama", "full")])
def test_train_writes_artifacts_and_loads(cli, tmp_path, tiny_config, make_run, model, method):
    run = make_run(tmp_path / "run")
    r = cli("train", run, "--config", tiny_config(model, method), "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    store = open_store(RunDir(run, create=False))
    summary = store.read_json("train/summary.json")
    assert summary == out
    assert summary["dp"] and summary["unit_of_privacy"] == "record" and summary["accountant"] == "rdp"
    assert summary["steps"] == 4 and summary["noise_multiplier"] == 0.8 and 0 < summary["epsilon"] < 50
    assert summary["val_perplexity"] > 1
    splits = store.read_json("train/splits.json")
    assert splits["validation_ids"] and not set(splits["train_ids"]) & set(splits["validation_ids"])
    assert len(splits["train_ids"]) + len(splits["validation_ids"]) == 48
    meta = RunDir(run, create=False).read()
    assert meta["stages"]["train"]["status"] == "done"
    assert meta["artifacts"]["train/base/tokenizer.json"]["sensitive"] is True
    assert not list(run.rglob("*.bin")) and not list(run.rglob("*.pt"))

    from privtune.train import load_base_model, load_trained_model

    base, tok = load_base_model(run, store)
    tuned, _tok2 = load_trained_model(run, store)
    assert not tuned.training
    ids = torch.tensor([tok("ticket 3: alice cannot log in")["input_ids"]])
    with torch.no_grad():
        assert not torch.allclose(base(ids).logits, tuned(ids).logits)
    assert type(tuned).__name__.endswith(("LMHeadModel", "ForCausalLM"))


def test_prompt_completion_and_chat_loss_masks(tmp_path):
    from privtune.train.data import IGNORE, encode
    from privtune.train.models import train_tokenizer

    tok = train_tokenizer(["Summarise the ticket: login failure", "hello there, how can I help"], 120)
    ids, labels = encode({"prompt": "Summarise the ticket:", "completion": " login failure"}, tok, 64)
    n_prompt = len(tok("Summarise the ticket:", add_special_tokens=False)["input_ids"])
    assert labels[:n_prompt] == [IGNORE] * n_prompt and all(x != IGNORE for x in labels[n_prompt:])
    assert ids[-1] == tok.eos_token_id
    msgs = [{"role": "user", "content": "hello there"}, {"role": "assistant", "content": "how can I help"}]
    ids, labels = encode({"messages": msgs}, tok, 64)
    trained = tok.decode([i for i, lab in zip(ids, labels, strict=True) if lab != IGNORE])
    assert "how can I help" in trained and "hello there" not in trained
    tok.chat_template = (
        "{% for m in messages %}<{{ m['role'] }}>{{ m['content'] }}</s>{% endfor %}"
        "{% if add_generation_prompt %}<assistant>{% endif %}"
    )
    ids, labels = encode({"messages": msgs}, tok, 64)
    trained = tok.decode([i for i, lab in zip(ids, labels, strict=True) if lab != IGNORE])
    assert "how can I help" in trained and "hello" not in trained


def test_canaries_audit_mode(cli, tmp_path, tiny_config, make_run):
    run = make_run(tmp_path / "run")
    extra = "  canaries: {count: 3, repetitions: [1, 2], audit_mode: true, length: 4}"
    cfg = tiny_config(steps=2, extra=extra)
    r = cli("train", run, "--config", cfg, "--json")
    assert r.code == 0, r.err
    store = open_store(RunDir(run, create=False))
    spec = store.read_json("train/canaries.json")
    assert RunDir(run, create=False).read()["artifacts"]["train/canaries.json"]["sensitive"] is True
    assert spec["reference_space_size"] == 10**4 and spec["format"] == "my account PIN is {secret}"
    assert len(spec["canaries"]) == 6
    assert sorted({c["repetitions"] for c in spec["canaries"]}) == [1, 2]
    for c in spec["canaries"]:
        assert len(c["secret"]) == 4 and c["secret"].isdigit() and isinstance(c["included"], bool)
    secrets = [c["secret"] for c in spec["canaries"]]
    # whole digit runs: a random 4-digit secret is by chance a substring of some float in the summary
    summary_numbers = set(re.findall(r"\d+", (run / "train" / "summary.json").read_text()))
    assert not any(s in summary_numbers for s in secrets)


def test_user_level_unit(cli, tmp_path, tiny_config, make_run):
    run = make_run(tmp_path / "run", users=True)
    r = cli("train", run, "--config", tiny_config(steps=2), "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["unit_of_privacy"] == "user" and out["units"] < 48
    store = open_store(RunDir(run, create=False))
    splits = store.read_json("train/splits.json")
    recs = {r["id"]: r["user_id"] for r in store.iter_jsonl("ingest/records.jsonl")}
    assert not {recs[i] for i in splits["train_ids"]} & {recs[i] for i in splits["validation_ids"]}


def test_clear_errors(cli, tmp_path, tiny_config, make_run):
    run = make_run(tmp_path / "run")
    cfg = tiny_config()
    r = cli("train", run, "--config", cfg, "--model", tmp_path / "nope")
    assert r.code == 2 and "model directory not found" in r.err
    pickled = tmp_path / "pickled"
    pickled.mkdir()
    (pickled / "config.json").write_text("{}")
    (pickled / "pytorch_model.bin").write_bytes(b"x")
    r = cli("train", run, "--config", cfg, "--model", pickled)
    assert r.code == 2 and "safetensors only" in r.err

    from transformers import BertConfig, BertModel

    bert = tmp_path / "bert"
    BertModel(BertConfig(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=32)).save_pretrained(bert)
    r = cli("train", run, "--config", cfg, "--model", bert)
    assert r.code == 2 and "causal language-model head" in r.err

    bad = tiny_config(extra="  lora: {rank: 4, target_modules: [q_proj]}")
    r = cli("train", run, "--config", bad)
    assert r.code == 2 and "q_proj" in r.err and "c_attn" in r.err

    r = cli("train", run, "--config", cfg, "--target-epsilon", "0.001", "--accountant", "rdp", "--max-steps", "100000")
    assert r.code == 2 and "unreachable" in r.err
    r = cli("train", tmp_path / "run", "--config", cfg, "--resume")
    assert r.code == 2 and "nothing to resume" in r.err


def test_stops_before_budget_is_exceeded(cli, tmp_path, tiny_config, make_run):
    run = make_run(tmp_path / "run")
    cfg = tiny_config(steps=30)
    r = cli("train", run, "--config", cfg, "--noise-multiplier", "0.8", "--target-epsilon", "3", "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["stopped_for_budget"] and 0 < out["steps"] < 30
    assert out["epsilon"] <= 3.0

    from privtune.train.accounting import epsilon

    assert epsilon(0.8, out["sample_rate"], out["steps"] + 1, out["delta"], "rdp") > 3.0
