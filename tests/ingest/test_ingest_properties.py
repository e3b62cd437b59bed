"""Property tests: arbitrary bytes and mangled rows never crash a loader, and counts always reconcile."""

from __future__ import annotations

import csv
import io
import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from privtune.errors import InputError
from privtune.ingest.config import IngestConfig
from privtune.ingest.stage import IngestReport, process

SETTINGS = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def run_process(data: bytes, suffix: str, **cfg) -> tuple[IngestReport, list]:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / f"in{suffix}"
        path.write_bytes(data)
        report = IngestReport("text")
        try:
            outcomes = list(process([str(path)], IngestConfig(**cfg), report))
        except InputError as exc:
            # file-level problems are allowed, but only as a clean one-line InputError
            assert "\n" not in str(exc) and str(path) in str(exc)
            return report, []
    return report, outcomes


def check(report: IngestReport, outcomes: list) -> None:
    t = report.totals()
    assert t["read"] == t["kept"] + t["quarantined"] + t["duplicates_removed"] == len(outcomes)
    for o in outcomes:
        assert (o.record is not None) + (o.bad is not None) + o.duplicate == 1


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".tsv", ".json", ".parquet", ".jsonl.gz"])
@SETTINGS
@given(data=st.binary(max_size=400))
def test_random_bytes_never_crash(suffix, data):
    report, outcomes = run_process(data, suffix, max_record_bytes=200)
    check(report, outcomes)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=5), c, max_size=3),
    max_leaves=6,
)
rows = st.lists(
    st.one_of(
        st.fixed_dictionaries({"text": st.text(max_size=30)}, optional={"x": json_values}),
        st.dictionaries(
            st.sampled_from(["text", "prompt", "completion", "messages", "y"]), json_values, max_size=4
        ),
        json_values,
    ),
    max_size=12,
)


@SETTINGS
@given(rows=rows, cut=st.integers(0, 50), flip=st.integers(0, 400))
def test_mangled_jsonl_and_json_arrays(rows, cut, flip):
    for schema in ("text", "prompt_completion", "chat"):
        body = "\n".join(json.dumps(r) for r in rows).encode()
        if body and flip < len(body):
            body = body[:flip] + bytes([body[flip] ^ 0x80]) + body[flip + 1 :]
        check(*run_process(body, ".jsonl", schema=schema))
        arr = json.dumps(rows).encode()
        check(*run_process(arr[: max(0, len(arr) - cut)], ".json", schema=schema))


@SETTINGS
@given(
    table=st.lists(st.lists(st.text(max_size=12), min_size=0, max_size=5), min_size=1, max_size=10),
    drop=st.integers(0, 30),
)
def test_mangled_csv_rows(table, drop):
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["text", "other"])
    for row in table:
        w.writerow(row)
    data = buf.getvalue().encode("utf-8", "surrogatepass")
    data = data[: max(0, len(data) - drop)]
    check(*run_process(data, ".csv"))
