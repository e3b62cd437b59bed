"""The ingest stage: read every input, map to records, minimize, quarantine bad ones, remove duplicates.

Counts reconcile exactly: read = kept + quarantined + duplicates_removed, per input and in total.
Records and quarantine hold raw data and are written as sensitive artifacts through the store.
"""

from __future__ import annotations

import base64
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privtune.errors import InputError
from privtune.ingest.config import IngestConfig
from privtune.ingest.dedupe import DigestSet
from privtune.ingest.formats import RawItem, ReadContext, detect_format, progress_total, read_items
from privtune.ingest.schema import BadRecord, canonical_content, map_record
from privtune.records import SCHEMA_FIELDS

RECORDS = "ingest/records.jsonl"
QUARANTINE = "ingest/quarantine.jsonl"
REPORT = "ingest/report.json"

ProgressHook = Callable[[str, int, str], Callable[[int], None]]
"""(description, total, unit) -> advance(n): lets the CLI show one progress bar per input."""


@dataclass
class InputStats:
    file: str
    format: str
    read: int = 0
    kept: int = 0
    quarantined: int = 0
    duplicates_removed: int = 0
    sha256: str | None = None


@dataclass
class Outcome:
    """One record's fate: `record` when kept, `bad` (code, field, message) when quarantined."""

    item: RawItem
    record: dict[str, Any] | None = None
    bad: tuple[str, str | None, str] | None = None
    duplicate: bool = False


@dataclass
class IngestReport:
    schema: str
    inputs: list[InputStats] = field(default_factory=list)
    reasons: Counter[str] = field(default_factory=Counter)
    dropped_fields: Counter[str] = field(default_factory=Counter)
    kept_fields: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    bytes_read: int = 0

    def totals(self) -> dict[str, int]:
        keys = ("read", "kept", "quarantined", "duplicates_removed")
        return {k: sum(getattr(s, k) for s in self.inputs) for k in keys}

    def to_json(self) -> dict[str, Any]:
        t = self.totals()
        return {
            "schema": self.schema,
            **t,
            "quarantine_reasons": dict(sorted(self.reasons.items())),
            "dropped_fields": dict(sorted(self.dropped_fields.items())),
            "kept_fields": self.kept_fields,
            "inputs": [vars(s) for s in self.inputs],
            "elapsed_s": round(self.elapsed_s, 3),
            "records_per_s": round(t["read"] / self.elapsed_s, 1) if self.elapsed_s else None,
            "bytes_read": self.bytes_read,
        }


def resolve_inputs(paths: list[str], fmt: str) -> list[tuple[Path, str]]:
    if not paths:
        raise InputError("no input files given")
    out = []
    for p in paths:
        path = Path(p)
        if not path.exists():
            raise InputError(f"{path}: file not found")
        out.append((path, detect_format(path, fmt)))
    return out


def process(
    paths: list[str], cfg: IngestConfig, report: IngestReport, progress: ProgressHook | None = None
) -> Iterator[Outcome]:
    """Every input item with its fate, in input order; updates `report` as it goes."""
    seen = DigestSet() if cfg.dedupe else None
    for path, fmt in resolve_inputs(paths, cfg.format):
        stats = InputStats(str(path), fmt)
        report.inputs.append(stats)
        ctx = ReadContext(max_record_bytes=cfg.max_record_bytes, splits=tuple(cfg.splits))
        if progress is not None:
            total, unit = progress_total(path, fmt, ctx)
            advance = progress(path.name, total, unit)
            if unit == "bytes":

                def on_progress(n: int, _adv: Callable[[int], None] = advance) -> None:
                    report.bytes_read += n
                    _adv(n)

                ctx.on_progress = on_progress
            else:
                ctx.on_progress = advance
        for item in read_items(path, fmt, ctx):
            stats.read += 1
            outcome = _judge(item, cfg, report, seen)
            if outcome.bad is not None:
                stats.quarantined += 1
                report.reasons[outcome.bad[0]] += 1
            elif outcome.duplicate:
                stats.duplicates_removed += 1
            else:
                stats.kept += 1
            yield outcome
        stats.sha256 = ctx.sha256
        if stats.read == 0:
            raise InputError(f"{path}: empty input (no records)")


def _judge(item: RawItem, cfg: IngestConfig, report: IngestReport, seen: DigestSet | None) -> Outcome:
    if item.error is not None:
        return Outcome(item, bad=item.error)
    if len(item.raw) > cfg.max_record_bytes:
        msg = f"record is {len(item.raw)} bytes, over max_record_bytes={cfg.max_record_bytes}"
        return Outcome(item, bad=("too_large", None, msg))
    assert item.value is not None
    try:
        mapped = map_record(item.value, cfg)
    except BadRecord as exc:
        return Outcome(item, bad=(exc.code, exc.field, exc.message))
    if seen is not None and not seen.add(canonical_content(mapped.content)):
        return Outcome(item, duplicate=True)
    for name in mapped.dropped:
        report.dropped_fields[name] += 1
    record: dict[str, Any] = dict(mapped.content)
    if mapped.user_id is not None:
        record["user_id"] = mapped.user_id
    if mapped.meta:
        record["meta"] = mapped.meta
    record["source"] = {"file": item.file, item.locator[0]: item.locator[1]}
    return Outcome(item, record=record)


def quarantine_entry(o: Outcome) -> dict[str, Any]:
    assert o.bad is not None
    code, fld, msg = o.bad
    return {
        "file": o.item.file,
        o.item.locator[0]: o.item.locator[1],
        "field": fld,
        "reason": code,
        "message": msg,
        "raw_b64": base64.b64encode(o.item.raw).decode("ascii"),
    }


def location(o: Outcome) -> str:
    kind, n = o.item.locator
    return f"{o.item.file}:{n}" if kind == "line" else f"{o.item.file} row {n}"


def iter_input_records(paths: list[str], cfg: IngestConfig) -> Iterator[dict[str, Any]]:
    """Valid records of any supported input, with sequential ids (bad ones are skipped, not fatal)."""
    report = IngestReport(cfg.record_schema)
    next_id = 0
    for o in process(paths, cfg, report):
        if o.record is not None:
            yield {"id": next_id, **o.record}
            next_id += 1


def run_ingest(
    paths: list[str], cfg: IngestConfig, store: Any, progress: ProgressHook | None = None
) -> dict[str, Any]:
    """Write records, quarantine and report into the run; atomic: on error nothing new appears."""
    from privtune.config import PipelineConfig

    run = store.run
    report = IngestReport(cfg.record_schema)
    report.kept_fields = [
        *SCHEMA_FIELDS[cfg.record_schema],
        *cfg.keep,
        *([cfg.user_id_field] if cfg.user_id_field else []),
    ]
    run.begin_stage(
        "ingest", inputs={p: "" for p in paths}, config_hash=PipelineConfig(ingest=cfg).section_hash("ingest")
    )
    start = time.perf_counter()
    next_id = 0
    try:
        with (
            store.writer(RECORDS, sensitive=True) as rec_fh,
            store.writer(QUARANTINE, sensitive=True) as q_fh,
        ):
            for o in process(paths, cfg, report, progress):
                if o.record is not None:
                    line = {"id": next_id, **o.record}
                    rec_fh.write(json.dumps(line, ensure_ascii=False).encode() + b"\n")
                    next_id += 1
                elif o.bad is not None:
                    if cfg.strict:
                        code, fld, msg = o.bad
                        where = f" field {fld!r}:" if fld else ""
                        raise InputError(
                            f"{location(o)}:{where} {msg} ({code}); --strict stops at the first bad record"
                        )
                    q_fh.write(json.dumps(quarantine_entry(o)).encode() + b"\n")
    except BaseException as exc:
        run.fail_stage("ingest", type(exc).__name__)
        raise
    report.elapsed_s = time.perf_counter() - start
    summary = report.to_json()
    store.write_json(REPORT, summary, sensitive=False)
    inputs = {s.file: s.sha256 or "" for s in report.inputs}
    with run.update() as data:
        data["stages"]["ingest"]["inputs"] = inputs
    run.finish_stage(
        "ingest",
        outputs={name: store.hash(name) for name in (RECORDS, QUARANTINE, REPORT)},
        summary={k: summary[k] for k in ("read", "kept", "quarantined", "duplicates_removed")},
    )
    return summary
