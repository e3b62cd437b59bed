"""Ingest through the public CLI: every format, every bad-input class, reconciled counts."""

from __future__ import annotations

import base64
import gzip
import json
import stat
from pathlib import Path

import pytest


def _read(run: Path, name: str) -> list[dict]:
    from privtune.rundir import RunDir
    from privtune.secure.store import open_store

    return list(open_store(RunDir(run, create=False)).iter_jsonl(name))


def records(run: Path) -> list[dict]:
    return _read(run, "ingest/records.jsonl")


def quarantine(run: Path) -> list[dict]:
    return _read(run, "ingest/quarantine.jsonl")


def report(run: Path) -> dict:
    return json.loads((run / "ingest/report.json").read_text())


def reconciles(r: dict) -> bool:
    return r["read"] == r["kept"] + r["quarantined"] + r["duplicates_removed"]


def test_jsonl_bad_records_are_quarantined_with_location_and_raw_bytes(tmp_path, cli):
    src = tmp_path / "in.jsonl"
    lines = [
        b'{"text": "first record", "secret_field": "x", "channel": "email"}',
        b'{"text": ""}',
        b"{not json",
        b'{"text": "first record"}',
        b"[1, 2]",
        b'{"text": 42}',
        b'\xff\xfe{"text": "x"}',
        b'{"other": "no text"}',
        b'{"text": "' + b"a" * 300 + b'"}',
    ]
    src.write_bytes(b"\n".join(lines) + b"\n")
    run = tmp_path / "run"
    res = cli("ingest", src, "--out", run, "--keep", "channel", "--max-record-bytes", "200", "--json")
    assert res.code == 0, res.err
    out = json.loads(res.out)
    assert (out["read"], out["kept"], out["quarantined"], out["duplicates_removed"]) == (9, 1, 7, 1)
    q = {e["line"]: e for e in quarantine(run)}
    assert q[2]["reason"] == "empty_text" and q[2]["field"] == "text"
    assert q[3]["reason"] == "malformed_json"
    assert q[5]["reason"] == "not_an_object"
    assert q[6]["reason"] == "wrong_type" and q[6]["field"] == "text"
    assert q[7]["reason"] == "invalid_utf8"
    assert q[8]["reason"] == "missing_field" and q[8]["field"] == "text"
    assert q[9]["reason"] == "too_large"
    for line_no, entry in q.items():
        assert base64.b64decode(entry["raw_b64"]) == lines[line_no - 1]
        assert entry["file"] == str(src)
    recs = records(run)
    assert recs == [
        {
            "id": 0,
            "text": "first record",
            "meta": {"channel": "email"},
            "source": {"file": str(src), "line": 1},
        }
    ]
    assert out["dropped_fields"] == {"secret_field": 1}


def test_csv_prompt_completion_rename_user_id_and_bad_rows(tmp_path, cli):
    src = tmp_path / "t.csv"
    src.write_bytes(
        b"body,summary,customer,notes\n"
        b'"Hello, my card broke",Card issue,c1,internal\n'
        b"only,three,fields\n"
        b'"multi\nline body",Summary,c2,n\n'
        b",empty prompt,c3,n\n"
        b"ok body,ok summary,,n\n"
        b"caf\xe9 latin1,s,c4,n\n"
    )
    run = tmp_path / "run"
    res = cli(
        "ingest", src, "--out", run, "--schema", "prompt_completion", "--rename", "body=prompt",
        "--rename", "summary=completion", "--user-id-field", "customer", "--json",
    )  # fmt: skip
    assert res.code == 0, res.err
    r = json.loads(res.out)
    assert reconciles(r) and r["kept"] == 2 and r["quarantined"] == 4
    recs = records(run)
    assert recs[0]["prompt"] == "Hello, my card broke" and recs[0]["completion"] == "Card issue"
    assert recs[0]["user_id"] == "c1" and "meta" not in recs[0]
    assert recs[1]["prompt"] == "multi\nline body" and recs[1]["source"]["line"] == 4
    reasons = {e["line"]: (e["reason"], e["field"]) for e in quarantine(run)}
    assert reasons == {
        3: ("wrong_field_count", None),
        6: ("empty_text", "prompt"),
        7: ("missing_field", "customer"),
        8: ("invalid_utf8", "body"),
    }
    assert r["dropped_fields"] == {"notes": 2}


def test_tsv_and_gzip(tmp_path, cli):
    src = tmp_path / "t.tsv.gz"
    with gzip.open(src, "wb") as fh:
        fh.write(b"text\tlang\nhola mundo\tes\nhello\ten\n")
    run = tmp_path / "run"
    res = cli("ingest", src, "--out", run, "--json")
    assert res.code == 0, res.err
    assert [r["text"] for r in records(run)] == ["hola mundo", "hello"]


def test_json_array_streaming_and_chat_schema(tmp_path, cli):
    src = tmp_path / "chat.json"
    data = [
        {
            "messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
            "u": "a",
        },
        {"messages": [{"role": "wizard", "content": "x"}], "u": "b"},
        {"messages": "not a list", "u": "c"},
        {"messages": [], "u": "d"},
        {"messages": [{"role": "user"}], "u": "e"},
    ]
    src.write_text("[\n" + ",\n".join(json.dumps(d) for d in data) + "\n]\n")
    run = tmp_path / "run"
    res = cli("ingest", src, "--out", run, "--schema", "chat", "--user-id-field", "u", "--json")
    assert res.code == 0, res.err
    r = json.loads(res.out)
    assert (r["kept"], r["quarantined"]) == (1, 4)
    q = {e["line"]: (e["reason"], e["field"]) for e in quarantine(run)}
    assert q == {
        3: ("wrong_type", "messages[0].role"),
        4: ("wrong_type", "messages"),
        5: ("empty_text", "messages"),
        6: ("missing_field", "messages[0].content"),
    }
    assert records(run)[0]["messages"][1] == {"role": "assistant", "content": "hello"}


def test_json_array_truncated_keeps_the_rest_as_raw(tmp_path, cli):
    src = tmp_path / "a.json"
    src.write_text('[{"text": "one"}, {"text": "two"}, {"text": "thr')
    run = tmp_path / "run"
    res = cli("ingest", src, "--out", run, "--json")
    assert res.code == 0, res.err
    q = quarantine(run)
    assert len(q) == 1 and q[0]["reason"] == "malformed_json"
    assert base64.b64decode(q[0]["raw_b64"]) == b'{"text": "thr'
    assert [r["text"] for r in records(run)] == ["one", "two"]


def test_parquet_and_hf_datasets_directory(tmp_path, cli):
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.table({"text": ["a b", None, "c d"], "n": [1, 2, 3]})
    pq.write_table(table, tmp_path / "d.parquet")
    run = tmp_path / "run"
    res = cli("ingest", tmp_path / "d.parquet", "--out", run, "--json")
    assert res.code == 0, res.err
    assert [r["text"] for r in records(run)] == ["a b", "c d"]
    assert quarantine(run)[0] | {"raw_b64": None} == {
        "file": str(tmp_path / "d.parquet"), "row": 1, "field": "text", "reason": "missing_field",
        "message": "missing required field", "raw_b64": None,
    }  # fmt: skip

    datasets = pytest.importorskip("datasets")
    dd = datasets.DatasetDict(
        {
            "train": datasets.Dataset.from_dict({"text": ["x1", "x2"], "label": [0, 1]}),
            "test": datasets.Dataset.from_dict({"text": ["y1"], "label": [1]}),
        }
    )
    dd.save_to_disk(str(tmp_path / "hf"))
    run2 = tmp_path / "run2"
    res = cli("ingest", tmp_path / "hf", "--out", run2, "--split", "train", "--json")
    assert res.code == 0, res.err
    assert [r["text"] for r in records(run2)] == ["x1", "x2"]
    res = cli("ingest", tmp_path / "hf", "--out", tmp_path / "run3", "--json")
    assert json.loads(res.out)["kept"] == 3


@pytest.mark.parametrize(
    ("setup", "expect"),
    [
        (lambda p: None, "file not found"),
        (lambda p: p.write_text(""), "empty input"),
        (lambda p: p.write_text("\n\n"), "empty input"),
    ],
)
def test_file_level_errors_exit_2_without_traceback(tmp_path, cli, setup, expect):
    src = tmp_path / "in.jsonl"
    setup(src)
    run = tmp_path / "run"
    res = cli("ingest", src, "--out", run)
    assert res.code == 2
    assert expect in res.err and "Traceback" not in res.err
    assert not (run / "ingest/records.jsonl").exists()


def test_unknown_format_and_unreadable_file(tmp_path, cli):
    (tmp_path / "x.docx").write_text("hi")
    res = cli("ingest", tmp_path / "x.docx", "--out", tmp_path / "r")
    assert res.code == 2 and "unknown input format" in res.err
    f = tmp_path / "locked.jsonl"
    f.write_text('{"text": "x"}\n')
    f.chmod(0)
    import os

    if os.geteuid() != 0:  # root can read anything
        res = cli("ingest", f, "--out", tmp_path / "r2")
        assert res.code == 2 and "cannot read" in res.err
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"PAR1 not really")
    res = cli("ingest", bad, "--out", tmp_path / "r3")
    assert res.code == 2 and "Parquet" in res.err


def test_strict_stops_at_first_bad_record_and_writes_nothing(tmp_path, cli):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "ok"}\n{"text": "also ok"}\n{"text": 5}\n')
    run = tmp_path / "run"
    res = cli("ingest", src, "--out", run, "--strict")
    assert res.code == 2
    assert f"{src}:3" in res.err and "'text'" in res.err
    assert not (run / "ingest/records.jsonl").exists()
    assert not (run / "ingest/quarantine.jsonl").exists()
    assert not list((run / "ingest").glob(".*tmp"))
    assert json.loads((run / "run.json").read_text())["stages"]["ingest"]["status"] == "failed"


def test_error_messages_never_contain_record_values(tmp_path, cli):
    secret = "SSN-987-65-4321-PLANTED"
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"text": 1, "note": secret}) + "\n" + '{"text": "' + secret + '"\n')
    res = cli("ingest", src, "--out", tmp_path / "run", "--strict")
    assert res.code == 2 and secret not in res.err + res.out
    res = cli("ingest", src, "--out", tmp_path / "run2")
    assert secret not in res.err + res.out
    assert secret not in (tmp_path / "run2/ingest/report.json").read_text()
    assert secret not in (tmp_path / "run2/run.json").read_text()


def test_run_directory_permissions(tmp_path, cli):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "x"}\n')
    run = tmp_path / "run"
    assert cli("ingest", src, "--out", run).code == 0
    assert stat.S_IMODE(run.stat().st_mode) == 0o700
    for p in run.rglob("*"):
        assert stat.S_IMODE(p.stat().st_mode) == (0o700 if p.is_dir() else 0o600), p
    state = json.loads((run / "run.json").read_text())
    st = state["stages"]["ingest"]
    assert st["status"] == "done" and set(st["outputs"]) == {
        "ingest/records.jsonl", "ingest/quarantine.jsonl", "ingest/report.json",
    }  # fmt: skip
    assert st["inputs"][str(src)] == __import__("hashlib").sha256(src.read_bytes()).hexdigest()
    run.chmod(0o777)
    res = cli("ingest", src, "--out", run)
    assert res.code == 2 and "writable by group/others" in res.err


def test_dedupe_can_be_disabled(tmp_path, cli):
    src = tmp_path / "in.jsonl"
    src.write_text('{"text": "same"}\n{"text": "same"}\n')
    r = json.loads(cli("ingest", src, "--out", tmp_path / "a", "--json").out)
    assert (r["kept"], r["duplicates_removed"]) == (1, 1)
    r = json.loads(cli("ingest", src, "--out", tmp_path / "b", "--no-dedupe", "--json").out)
    assert (r["kept"], r["duplicates_removed"]) == (2, 0)


def test_config_file_drives_ingest_and_flags_override(tmp_path, cli):
    src = tmp_path / "in.jsonl"
    src.write_text('{"q": "question", "a": "answer", "x": 1}\n')
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"ingest:\n  inputs: [{src}]\n  schema: prompt_completion\n  rename: {{q: prompt, a: completion}}\n"
    )
    r = json.loads(cli("ingest", "--config", cfg, "--out", tmp_path / "r", "--json").out)
    assert r["kept"] == 1 and r["dropped_fields"] == {"x": 1}
    r = json.loads(cli("ingest", "--config", cfg, "--keep", "x", "--out", tmp_path / "r2", "--json").out)
    assert r["dropped_fields"] == {}
