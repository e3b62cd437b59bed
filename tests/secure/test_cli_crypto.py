"""`privtune encrypt|decrypt|keys` through the CLI, and the artifact store with encryption on."""

from __future__ import annotations

import json
import os

import pytest

from privtune.rundir import RunDir
from privtune.secure.config import SecurityConfig
from privtune.secure.store import open_store


def test_encrypt_decrypt_round_trip(cli, tmp_path, privtune_home):
    src = tmp_path / "data.jsonl"
    src.write_bytes(os.urandom(300_000))
    enc, out = tmp_path / "data.enc", tmp_path / "back.jsonl"
    r = cli("encrypt", src, enc)
    assert r.code == 0, r.err
    assert "keyfile.json" in r.err  # first use says where the key file is
    assert src.read_bytes()[:100] not in enc.read_bytes()
    assert cli("decrypt", enc, out).code == 0
    assert out.read_bytes() == src.read_bytes()
    assert oct(out.stat().st_mode & 0o777) == "0o600"
    assert cli("decrypt", enc, tmp_path / "x", "--name", "other.jsonl").code == 4


def test_decrypt_tampered_exit_4_nothing_written(cli, tmp_path):
    src = tmp_path / "d.bin"
    src.write_bytes(os.urandom(3 << 20))
    enc = tmp_path / "d.enc"
    assert cli("encrypt", src, enc).code == 0
    blob = bytearray(enc.read_bytes())
    blob[len(blob) // 2] ^= 0x40
    enc.write_bytes(bytes(blob))
    out = tmp_path / "out.bin"
    r = cli("decrypt", enc, out)
    assert r.code == 4
    assert "d.enc" in r.err and "integrity" in r.err
    assert not out.exists()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out.bin")]
    enc.write_bytes(bytes(blob[: len(blob) - 100]))
    assert cli("decrypt", enc, out).code == 4
    assert not out.exists()


def test_decrypt_wrong_or_missing_key_exit_5(cli, tmp_path, monkeypatch):
    src = tmp_path / "d.txt"
    src.write_text("hello")
    enc = tmp_path / "d.enc"
    assert cli("encrypt", src, enc).code == 0
    monkeypatch.setenv("PRIVTUNE_HOME", str(tmp_path / "other-home"))
    r = cli("decrypt", enc, tmp_path / "o.txt")
    assert r.code == 5 and "keys init" in r.err
    assert cli("keys", "init").code == 0
    r = cli("decrypt", enc, tmp_path / "o.txt")
    assert r.code == 5 and "d.enc" in r.err
    assert not (tmp_path / "o.txt").exists()


def test_keys_cli_rotate_rewrap_destroy(cli, tmp_path):
    src = tmp_path / "a.txt"
    src.write_text("payload")
    enc1, enc2 = tmp_path / "enc" / "a1.enc", tmp_path / "a2.enc"
    enc1.parent.mkdir()
    assert cli("encrypt", src, enc1).code == 0
    assert cli("encrypt", src, enc2).code == 0
    old = json.loads(cli("keys", "show", "--json").out)["key_id"]
    r = cli("keys", "rotate", "--rewrap", tmp_path / "enc", "--json")
    assert r.code == 0, r.err
    res = json.loads(r.out)
    assert res["rewrapped"] == 1 and res["key_id"] != old
    info = json.loads(cli("keys", "show", "--json").out)
    assert len(info["versions"]) == 2
    assert cli("decrypt", enc2, tmp_path / "o2").code == 0  # old version still readable
    assert cli("keys", "destroy", "--version", old).code == 2  # needs --yes
    assert cli("keys", "destroy", "--version", old, "--yes").code == 0
    assert cli("decrypt", enc1, tmp_path / "o1").code == 0  # re-wrapped: survives
    assert cli("decrypt", enc2, tmp_path / "o3").code == 5  # crypto-shredded
    assert cli("keys", "destroy", "--yes").code == 0
    assert cli("decrypt", enc1, tmp_path / "o4").code == 5


def test_store_encrypts_sensitive_and_records(tmp_path):
    run = RunDir(tmp_path / "run")
    store = open_store(run, None)
    store.write("protect/train.jsonl", b'{"id": 1, "text": "Alice"}\n' * 1000)
    store.write_json("ingest/report.json", {"records": 1})
    raw = (run.path / "protect/train.jsonl").read_bytes()
    assert b"Alice" not in raw
    assert next(store.iter_jsonl("protect/train.jsonl"))["text"] == "Alice"
    assert store.read_json("ingest/report.json") == {"records": 1}
    info = run.read()
    assert info["artifacts"]["protect/train.jsonl"]["encrypted"] is True
    assert info["artifacts"]["ingest/report.json"]["encrypted"] is False
    assert info["security"] == {"encrypt": True, "provider": "keyfile"}
    # A store without encryption cannot read it, and says why.
    from privtune.errors import KeyUnavailable

    plain = open_store(run, SecurityConfig(encrypt=False))
    with pytest.raises(KeyUnavailable, match=r"protect/train\.jsonl"):
        plain.read_bytes("protect/train.jsonl")
    assert run.read()["security"] == {"encrypt": False, "provider": None}


def test_store_detects_swapped_artifacts(tmp_path):
    from privtune.errors import IntegrityError

    run = RunDir(tmp_path / "run")
    store = open_store(run)
    store.write("protect/a.jsonl", b"a")
    store.write("protect/b.jsonl", b"b")
    a, b = run.path / "protect/a.jsonl", run.path / "protect/b.jsonl"
    da, db = a.read_bytes(), b.read_bytes()
    a.write_bytes(db)
    b.write_bytes(da)
    with pytest.raises(IntegrityError, match="renamed or swapped"):
        store.read_bytes("protect/a.jsonl")


def test_run_dir_writable_by_others_refused(cli, tmp_path):
    run = RunDir(tmp_path / "run")
    os.chmod(run.path, 0o777)
    r = cli("purge", run.path)
    assert r.code == 2 and "chmod 700" in r.err
