"""Writing generated tickets and their gold spans; reading gold files back for evaluation.

Records: JSONL (`{"id","prompt","completion","user_id"}` per line) or CSV (header
`id,prompt,completion,user_id`, RFC 4180 quoting, "\\n" line ends). Gold sidecar: JSONL, one line per
record, `{"id": int, "spans": [{"field", "start", "end", "entity_type"}, ...]}` (records without PII
have an empty list, so the file lines up with the records). A path ending in `.gz` is gzip-compressed
with a zero timestamp so the same input gives the same bytes.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, BinaryIO

from privtune.fsutil import atomic_writer

FORMATS = ("jsonl", "csv")
CSV_COLUMNS = ("id", "prompt", "completion", "user_id")


@dataclass
class WriteStats:
    records: int = 0
    users: int = 0
    spans: int = 0
    entity_counts: dict[str, int] = field(default_factory=dict)


def gold_path_for(out: Path) -> Path:
    """`tickets.jsonl` -> `tickets.gold.jsonl`; `tickets.csv.gz` -> `tickets.gold.jsonl.gz`."""
    gz = out.suffix == ".gz"
    base = out.with_suffix("") if gz else out
    stem = base.with_suffix("").name if base.suffix else base.name
    return out.with_name(stem + ".gold.jsonl" + (".gz" if gz else ""))


@contextlib.contextmanager
def _text_out(raw: BinaryIO, compress: bool) -> Iterator[IO[str]]:
    if compress:
        with gzip.GzipFile(filename="", fileobj=raw, mode="wb", mtime=0) as gz, \
                io.TextIOWrapper(gz, encoding="utf-8", newline="") as text:
            yield text
    else:
        text = io.TextIOWrapper(raw, encoding="utf-8", newline="")
        try:
            yield text
            text.flush()
        finally:
            text.detach()  # leave closing the raw file to atomic_writer (it fsyncs first)


class _RecordSink:
    def __init__(self, text: IO[str], fmt: str) -> None:
        self.text, self.fmt = text, fmt
        self.csv = None
        if fmt == "csv":
            self.csv = csv.writer(text, lineterminator="\n")
            self.csv.writerow(CSV_COLUMNS)

    def write(self, record: dict) -> None:
        if self.csv is not None:
            self.csv.writerow([record[c] for c in CSV_COLUMNS])
        else:
            self.text.write(json.dumps(record, ensure_ascii=False) + "\n")


def _consume(items: Iterable[tuple[dict, list[dict]]], sink: _RecordSink, gold: IO[str] | None) -> WriteStats:
    stats, counts, users = WriteStats(), Counter(), set()
    for record, spans in items:
        sink.write(record)
        if gold is not None:
            gold.write(json.dumps({"id": record["id"], "spans": spans}, ensure_ascii=False) + "\n")
        stats.records += 1
        stats.spans += len(spans)
        users.add(record["user_id"])
        counts.update(s["entity_type"] for s in spans)
    stats.users = len(users)
    stats.entity_counts = dict(sorted(counts.items()))
    return stats


def write_tickets(items: Iterable[tuple[dict, list[dict]]], out: Path | None, fmt: str = "jsonl",
                  gold: Path | None = None, stdout: IO[str] | None = None) -> WriteStats:
    """Write records to `out` (or `stdout` when `out` is None) and gold spans to `gold` if given.

    Files are written atomically: an interrupted run leaves neither a partial data file nor a partial
    gold file.
    """
    if fmt not in FORMATS:
        raise ValueError(f"unknown format {fmt!r}")
    with contextlib.ExitStack() as stack:
        gold_text = None
        if gold is not None:
            graw = stack.enter_context(atomic_writer(gold))
            gold_text = stack.enter_context(_text_out(graw, gold.suffix == ".gz"))
        if out is None:
            if stdout is None:
                raise ValueError("stdout is required when out is None")
            return _consume(items, _RecordSink(stdout, fmt), gold_text)
        raw = stack.enter_context(atomic_writer(out))
        text = stack.enter_context(_text_out(raw, out.suffix == ".gz"))
        return _consume(items, _RecordSink(text, fmt), gold_text)


def _open_text(path: Path) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, "rt", encoding="utf-8", newline="")
    return open(path, encoding="utf-8", newline="")


def read_records(path: Path) -> Iterator[dict]:
    """Records from a JSONL or CSV file written by `write_tickets` (CSV ids come back as int)."""
    with _open_text(path) as fh:
        if ".csv" in path.suffixes:
            for row in csv.DictReader(fh):
                yield {**row, "id": int(row["id"])}
        else:
            for line in fh:
                yield json.loads(line)


def read_gold(path: Path) -> Iterator[tuple[int, list[dict]]]:
    """`(record id, spans)` per line of a gold sidecar file."""
    with _open_text(path) as fh:
        for line in fh:
            obj = json.loads(line)
            yield obj["id"], obj["spans"]
