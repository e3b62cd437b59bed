"""Signed manifest + `privtune verify`, safetensors-only loading, audit log, purge."""

from __future__ import annotations

import json
import multiprocessing
import os
import sqlite3
import struct

import pytest

from privtune.errors import InputError, IntegrityError
from privtune.rundir import RunDir
from privtune.secure.auditlog import CHECKPOINT_EVERY, AuditLog
from privtune.secure.keys import load_key_provider
from privtune.secure.manifest import build_manifest
from privtune.secure.safeload import require_safetensors
from privtune.secure.store import open_store

H = "ab" * 32


def make_release(tmp_path):
    run = RunDir(tmp_path / "run")
    store = open_store(run)
    store.write("protect/train.jsonl", b'{"id": 1}\n')
    store.write("train/model/adapter.safetensors", b"weights")
    kp = load_key_provider(None)
    m = build_manifest(
        run, store, kp, {"privacy": {"epsilon": 8.0, "delta": 1e-5}, "parent": None, "config": {"x": 1}}
    )
    return run, m


def test_manifest_signed_and_verifies(cli, tmp_path):
    run, m = make_release(tmp_path)
    assert set(m["artifacts"]) == {"protect/train.jsonl", "train/model/adapter.safetensors"}
    assert m["encryption"]["enabled"] is True and m["privacy"]["epsilon"] == 8.0
    r = cli("verify", run.path, "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["verified"] is True


def test_verify_names_every_mismatch(cli, tmp_path):
    run, _ = make_release(tmp_path)
    (run.path / "protect/train.jsonl").write_bytes(b"changed")
    (run.path / "train/model/adapter.safetensors").unlink()
    r = cli("verify", run.path)
    assert r.code == 4
    assert "protect/train.jsonl: SHA-256 mismatch" in r.err
    assert "train/model/adapter.safetensors: missing" in r.err


def test_verify_detects_edited_manifest_and_foreign_key(cli, tmp_path, monkeypatch):
    run, _ = make_release(tmp_path)
    mp = run.path / "release/manifest.json"
    doc = json.loads(mp.read_text())
    doc["privacy"]["epsilon"] = 1.0
    mp.write_text(json.dumps(doc))
    r = cli("verify", run.path)
    assert r.code == 4 and "signature does not verify" in r.err
    monkeypatch.setenv("PRIVTUNE_HOME", str(tmp_path / "other"))
    load_key_provider(None)
    r = cli("verify", run.path)
    assert r.code == 4 and "different key" in r.err


def test_require_safetensors(tmp_path):
    header = json.dumps({"__metadata__": {}}).encode()
    good = tmp_path / "m.safetensors"
    good.write_bytes(struct.pack("<Q", len(header)) + header)
    assert require_safetensors(good) == good
    assert require_safetensors(tmp_path) == tmp_path
    bad = tmp_path / "pytorch_model.bin"
    bad.write_bytes(b"\x80\x04\x95" + b"\0" * 20)
    with pytest.raises(InputError, match="arbitrary code"):
        require_safetensors(bad)
    with pytest.raises(InputError, match="arbitrary code"):
        require_safetensors(tmp_path)
    disguised = tmp_path / "x.safetensors"
    disguised.write_bytes(b"PK\x03\x04" + b"\0" * 40)
    with pytest.raises(InputError, match="arbitrary code"):
        require_safetensors(disguised)


def _append_many(home: str, who: str, n: int) -> None:
    os.environ["PRIVTUNE_HOME"] = home
    log = AuditLog()
    for i in range(n):
        log.append("train_step", who, {"ckpt": H}, "ok", {"i": i})


def test_concurrent_writers_keep_chain(privtune_home):
    load_key_provider(None)
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_append_many, args=(str(privtune_home), f"w{k}", 60)) for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    log = AuditLog()
    res = log.verify()
    assert res["entries"] == 120
    assert res["checkpoints"] == 120 // CHECKPOINT_EVERY
    assert {e["actor"] for e in log.entries()} == {"w0", "w1"}


def _tamper(path, sql):
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER IF EXISTS entries_no_update")
    db.execute("DROP TRIGGER IF EXISTS entries_no_delete")
    db.execute(sql)
    db.commit()
    db.close()


@pytest.fixture
def filled_log():
    load_key_provider(None)
    log = AuditLog()
    for i in range(40):
        log.append("scan", "alice", {"records": H}, "ok", {"n": i})
    log.verify()
    return log


def test_log_detects_edit(filled_log, cli):
    _tamper(filled_log.path, "UPDATE entries SET outcome='failed' WHERE seq=7")
    r = cli("log", "verify")
    assert r.code == 4 and "entry 7 was edited" in r.err


def test_log_detects_delete(filled_log):
    _tamper(filled_log.path, "DELETE FROM entries WHERE seq=12")
    with pytest.raises(IntegrityError, match="entry 12 is missing"):
        filled_log.verify()


def test_log_detects_reorder(filled_log):
    _tamper(filled_log.path, "UPDATE entries SET seq=-5 WHERE seq=5")
    _tamper(filled_log.path, "UPDATE entries SET seq=5 WHERE seq=6")
    _tamper(filled_log.path, "UPDATE entries SET seq=6 WHERE seq=-5")
    with pytest.raises(IntegrityError, match="entry 5 does not follow"):
        filled_log.verify()


def test_log_detects_insert_and_rechained_rewrite(filled_log):
    from privtune.secure.auditlog import _entry_hash

    # An attacker without the signing key rewrites entry 3 and recomputes the whole chain.
    rows = filled_log.entries()
    rows[2]["outcome"] = "denied"
    prev = "0" * 64
    db = sqlite3.connect(filled_log.path)
    db.execute("DROP TRIGGER entries_no_update")
    for r in rows:
        r["prev_hash"] = prev
        r["hash"] = _entry_hash(r)
        prev = r["hash"]
        db.execute(
            "UPDATE entries SET outcome=?, prev_hash=?, hash=? WHERE seq=?",
            (r["outcome"], r["prev_hash"], r["hash"], r["seq"]),
        )
    db.commit()
    with pytest.raises(IntegrityError, match="up to 16 were rewritten"):
        filled_log.verify()
    db.close()


def test_log_detects_tail_deletion_under_checkpoint(filled_log):
    _tamper(filled_log.path, "DELETE FROM entries WHERE seq >= 30")
    with pytest.raises(IntegrityError, match="entry 30 is missing"):
        filled_log.verify()


def test_log_refuses_free_text(privtune_home):
    with pytest.raises(InputError, match=r"details\.note"):
        AuditLog().append("scan", "alice", {}, "ok", {"note": "Call John Smith at 555-0100"})
    with pytest.raises(InputError, match="SHA-256"):
        AuditLog().append("scan", "alice", {"x": "not-a-hash"}, "ok", {})


def test_log_cli_show_export(cli, tmp_path, filled_log):
    r = cli("log", "show", "--last", "3", "--json")
    assert [e["seq"] for e in json.loads(r.out)] == [38, 39, 40]
    out = tmp_path / "export.json"
    assert cli("log", "export", out).code == 0
    doc = json.loads(out.read_text())
    assert len(doc["entries"]) == 40 and doc["checkpoints"][-1]["seq"] == 40


def test_purge_retention_idempotent_logged(cli, tmp_path):
    run = RunDir(tmp_path / "run")
    store = open_store(run)
    for step in (100, 200, 300):
        store.write(f"train/checkpoints/step-{step}/adapter.safetensors", b"w")
    store.write("train/model/adapter.safetensors", b"final")
    store.write("scan/plain/cache.jsonl", b"x")
    r = cli("purge", run.path, "--json")
    assert r.code == 0, r.err
    removed = json.loads(r.out)["removed"]
    assert removed == [
        "scan/plain/cache.jsonl",
        "train/checkpoints/step-100/adapter.safetensors",
        "train/checkpoints/step-200/adapter.safetensors",
    ]
    assert (run.path / "train/checkpoints/step-300/adapter.safetensors").exists()
    assert (run.path / "train/model/adapter.safetensors").exists()
    assert not (run.path / "train/checkpoints/step-100").exists()
    assert "train/checkpoints/step-100/adapter.safetensors" not in run.read()["artifacts"]
    assert json.loads(cli("purge", run.path, "--json").out)["removed"] == []
    purges = [e for e in AuditLog().entries() if e["action"] == "purge"]
    assert [json.loads(e["details"])["removed"] for e in purges] == [3, 0]
    assert len(json.loads(purges[0]["artifacts"])) == 3
