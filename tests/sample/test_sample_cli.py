"""`privtune sample tickets` through the real CLI, and the sample bundled in the package."""

from __future__ import annotations

import gzip
import json

import faker
import pytest

from privtune.sample import (
    BUNDLED_FAKER_VERSION,
    BUNDLED_N,
    BUNDLED_SEED,
    bundled_gold_path,
    bundled_path,
    generate_tickets,
)
from privtune.sample.io import read_gold, read_records


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_round_trip(cli, tmp_path, fmt):
    out = tmp_path / f"tickets.{fmt}"
    res = cli("sample", "tickets", "--n", "60", "--seed", "4", "--out", out, "--json")
    assert res.code == 0, res.err
    summary = json.loads(res.out)
    assert summary["records"] == 60 and summary["format"] == fmt
    gold_file = tmp_path / "tickets.gold.jsonl"
    assert summary["gold"] == str(gold_file)
    expected = list(generate_tickets(60, seed=4))
    assert list(read_records(out)) == [r for r, _ in expected]
    gold = list(read_gold(gold_file))
    assert gold == [(r["id"], spans) for r, spans in expected]
    records = list(read_records(out))
    for (rid, spans), record in zip(gold, records, strict=True):
        assert rid == record["id"]
        for s in spans:
            assert record[s["field"]][s["start"]:s["end"]]
    assert sum(summary["entity_counts"].values()) == sum(len(s) for _, s in gold)
    assert oct(out.stat().st_mode & 0o777) == "0o600"


def test_same_seed_same_bytes_and_gzip(cli, tmp_path):
    a, b = tmp_path / "a.jsonl.gz", tmp_path / "b.jsonl.gz"
    assert cli("sample", "tickets", "--n", "40", "--seed", "8", "--out", a).code == 0
    assert cli("sample", "tickets", "--n", "40", "--seed", "8", "--out", b).code == 0
    assert a.read_bytes() == b.read_bytes()
    assert (tmp_path / "a.gold.jsonl.gz").read_bytes() == (tmp_path / "b.gold.jsonl.gz").read_bytes()
    lines = gzip.decompress(a.read_bytes()).decode().splitlines()
    assert [json.loads(x) for x in lines] == [r for r, _ in generate_tickets(40, seed=8)]


def test_stdout_and_locale_option(cli, tmp_path):
    res = cli("sample", "tickets", "--n", "25", "--seed", "1", "--locale", "it_IT", "--locale", "nl_NL")
    assert res.code == 0, res.err
    records = [json.loads(line) for line in res.out.splitlines()]
    assert records == [r for r, _ in generate_tickets(25, seed=1, locales=["it_IT", "nl_NL"])]
    gold = tmp_path / "g.jsonl"
    res = cli("sample", "tickets", "--n", "5", "--seed", "1", "--gold", gold)
    assert res.code == 0 and len(gold.read_text().splitlines()) == 5


@pytest.mark.parametrize("args", [
    ["--locale", "xx_XX"],
    ["--format", "xml", "--out", "{tmp}/t.xml"],
    ["--json"],
    ["--n", "-3"],
])
def test_bad_arguments_exit_2_and_write_nothing(cli, tmp_path, args):
    args = [a.replace("{tmp}", str(tmp_path)) for a in args]
    res = cli("sample", "tickets", "--seed", "1", *args)
    assert res.code == 2
    assert "Traceback" not in res.err
    assert list(tmp_path.iterdir()) == []


def test_bundled_sample_loads_and_lines_up():
    records = list(read_records(bundled_path()))
    gold = list(read_gold(bundled_gold_path()))
    assert len(records) == len(gold) == BUNDLED_N
    assert [r["id"] for r in records] == [g[0] for g in gold]
    types = set()
    for record, (_, spans) in zip(records, gold, strict=True):
        for s in spans:
            assert record[s["field"]][s["start"]:s["end"]]
            types.add(s["entity_type"])
    assert len(types) == 11


@pytest.mark.skipif(faker.VERSION != BUNDLED_FAKER_VERSION,
                    reason=f"bundled sample was made with Faker {BUNDLED_FAKER_VERSION}; names differ in others")
def test_bundled_sample_matches_the_generator():
    expected = list(generate_tickets(BUNDLED_N, seed=BUNDLED_SEED))
    assert list(read_records(bundled_path())) == [r for r, _ in expected]
    assert list(read_gold(bundled_gold_path())) == [(r["id"], s) for r, s in expected]
