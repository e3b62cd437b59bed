"""The scan stage: records -> findings (offsets, types, scores, fingerprints; never values).

Works on any input ingest reads or on a run directory. Records are scanned in chunks, in parallel
over processes when asked; `imap` keeps chunk order, so output is identical for any worker count.
"""

from __future__ import annotations

import contextlib
import gc
import itertools
import json
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sized
from pathlib import Path
from typing import Any

from privtune.errors import InputError
from privtune.pii.config import PiiConfig
from privtune.pii.fingerprints import FingerprintSet, fingerprint
from privtune.records import text_fields

CHUNK = 256
MAX_CHUNK = 4096
FINDINGS_ARTIFACT = "scan/findings.jsonl"
REPORT_ARTIFACT = "scan/report.json"
RECORDS_ARTIFACT = "ingest/records.jsonl"


def is_run_dir(path: str | Path) -> bool:
    return Path(path).is_dir() and (Path(path) / "run.json").exists()


def select_fields(record: dict[str, Any], fields: list[str]) -> list[tuple[str, str]]:
    """Text fields of a record, restricted to `fields` (`messages` selects every chat turn)."""
    out = []
    for name, value in text_fields(record):
        if not fields or name in fields or name.split(".", 1)[0] in fields:
            out.append((name, value))
    return out


# -- worker side -------------------------------------------------------------------------------
_state: dict[str, Any] = {}


def _collect_less() -> tuple[int, ...]:
    """Fewer garbage collections while scanning: a scan allocates millions of short-lived dicts and
    spans but makes no reference cycles, and each collection walks the analyzer's tables (~4% of a
    regex-only scan). Objects alive now are frozen out of collection. Returns the old thresholds."""
    threshold = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(max(threshold[0], 100_000), *threshold[1:])
    return threshold


@contextlib.contextmanager
def _few_collections() -> Iterator[None]:
    """`_collect_less` for the length of a scan in the calling process, then as before."""
    threshold = _collect_less()
    try:
        yield
    finally:
        gc.set_threshold(*threshold)
        gc.unfreeze()


def _init(cfg_json: str, key: bytes | None, with_ner: bool) -> None:
    """Build this process's analyzer; a worker forked from a process that built the same one keeps it."""
    if _state.get("built") == (cfg_json, key, with_ner):
        return
    from privtune.pii.analyzer import Analyzer
    from privtune.pii.ner import load_ner

    cfg = PiiConfig.model_validate_json(cfg_json)
    analyzer = Analyzer(cfg, load_ner(cfg.ner) if with_ner else None)
    analyzer.warm_up()
    _state["analyzer"] = analyzer
    _state["key"] = key
    _state["built"] = (cfg_json, key, with_ner)


def _worker_init(cfg_json: str, key: bytes | None, with_ner: bool) -> None:
    _init(cfg_json, key, with_ner)
    _collect_less()  # a worker lives for one scan


def _scan_chunk(chunk: list[tuple[Any, list[tuple[str, str]]]]) -> list[dict[str, Any]]:
    analyzer = _state["analyzer"]
    key = _state["key"]
    texts = [value for _, fields in chunk for _, value in fields]
    spans_per_text = iter(analyzer.analyze_many(texts))
    out = []
    for ref, fields in chunk:
        for name, value in fields:
            spans = next(spans_per_text)
            items = []
            for s in spans:
                item = s.to_json()
                if key is not None:
                    item["fingerprint"] = fingerprint(key, s.entity_type, value[s.start : s.end])
                items.append(item)
            out.append({"record": ref, "field": name, "spans": items})
    return out


# -- driver side -------------------------------------------------------------------------------
def chunk_sizes(n_records: int | None, workers: int) -> Iterator[int]:
    """Records per task. In one process: CHUNK. Over workers, bigger tasks cost the parent less
    (each costs it ~1.5 ms of hand-offs; 4,096-record tasks halve its CPU on 100k records) but leave
    a worker idle at the end: with a known count, about a quarter of each worker's share (256 to
    4,096); from a stream, 8 tasks of CHUNK, then doubling up to 4,096."""
    if workers <= 1:
        yield from itertools.repeat(CHUNK)
    elif n_records is not None:
        yield from itertools.repeat(max(CHUNK, min(MAX_CHUNK, n_records // (4 * workers))))
    else:
        yield from itertools.repeat(CHUNK, 8)
        size = CHUNK
        while True:
            size = min(MAX_CHUNK, size * 2)
            yield size


def _chunks(
    records: Iterable[dict[str, Any]], fields: list[str], sizes: Iterator[int] | None = None
) -> Iterator[list[tuple[Any, list[tuple[str, str]]]]]:
    sizes = sizes or itertools.repeat(CHUNK)
    size = next(sizes)
    chunk: list[tuple[Any, list[tuple[str, str]]]] = []
    for i, rec in enumerate(records):
        if not isinstance(rec, dict):
            raise InputError(f"record {i}: not a JSON object")
        ref = rec.get("id", i)
        chunk.append((ref, select_fields(rec, fields)))
        if len(chunk) >= size:
            yield chunk
            chunk = []
            size = next(sizes)
    if chunk:
        yield chunk


class ScanResult:
    """Accumulates the summary while findings stream out."""

    def __init__(self) -> None:
        self.records = 0
        self.fields = 0
        self.chars = 0
        self.by_type: Counter[str] = Counter()
        self.by_field: Counter[str] = Counter()
        self.by_recognizer: Counter[str] = Counter()
        self.fingerprints = FingerprintSet()
        self._last_ref: Any = object()

    def add(self, finding: dict[str, Any], text_len: int) -> None:
        if finding["record"] != self._last_ref:
            self.records += 1
            self._last_ref = finding["record"]
        self.fields += 1
        self.chars += text_len
        for s in finding["spans"]:
            self.by_type[s["entity_type"]] += 1
            self.by_field[finding["field"].split(".", 1)[0]] += 1
            self.by_recognizer[s["recognizer"]] += 1
            if "fingerprint" in s:
                self.fingerprints.add(s["fingerprint"], s["entity_type"])


def scan_records(
    records: Iterable[dict[str, Any]],
    cfg: PiiConfig,
    key: bytes | None,
    *,
    workers: int = 1,
    ner: bool = True,
    progress: Any = None,
    reuse_state: bool = False,
) -> Iterator[tuple[dict[str, Any], int]]:
    """Yield (finding line, length of the scanned text) in input order.

    `reuse_state` keeps an analyzer already loaded in this process by `_init` (benchmarks)."""
    cfg_json = cfg.model_dump_json()
    from privtune.pii.ner import is_off

    use_ner = ner and not is_off(cfg.ner)

    def lengths(chunk: list[tuple[Any, list[tuple[str, str]]]]) -> list[int]:
        return [len(v) for _, fs in chunk for _, v in fs]

    if workers <= 1:
        if not (reuse_state and "analyzer" in _state):
            _init(cfg_json, key, use_ner)
        with _few_collections():
            for chunk in _chunks(records, cfg.fields):
                yield from zip(_scan_chunk(chunk), lengths(chunk), strict=True)
                if progress:
                    progress(len(chunk))
        return
    import multiprocessing as mp

    ctx = mp.get_context("fork" if os.name == "posix" else "spawn")
    if os.name == "posix" and not use_ner:
        _init(cfg_json, key, use_ner)  # built once here; forked workers inherit it (`_init` sees it is built)
    pending: list[list[int]] = []

    def feed() -> Iterator[list[tuple[Any, list[tuple[str, str]]]]]:
        n = len(records) if isinstance(records, Sized) else None
        for chunk in _chunks(records, cfg.fields, chunk_sizes(n, workers)):
            pending.append(lengths(chunk))
            yield chunk

    with ctx.Pool(workers, initializer=_worker_init, initargs=(cfg_json, key, use_ner)) as pool, _few_collections():
        for lines in pool.imap(_scan_chunk, feed(), chunksize=1):
            lens = pending.pop(0)
            yield from zip(lines, lens, strict=True)
            if progress:
                progress(len({line["record"] for line in lines}))


def summarize(result: ScanResult, cfg: PiiConfig, ner_info: dict[str, str] | None, seconds: float,
              recognizers: list[str]) -> dict[str, Any]:
    return {
        "records": result.records,
        "fields_scanned": result.fields,
        "spans": sum(result.by_type.values()),
        "counts_by_type": dict(sorted(result.by_type.items())),
        "counts_by_field": dict(sorted(result.by_field.items())),
        "counts_by_recognizer": dict(sorted(result.by_recognizer.items())),
        "recognizers": recognizers,
        "ner": ner_info,
        "entities": cfg.entities,
        "score_threshold": cfg.score_threshold,
        "fingerprints": len(result.fingerprints),
        "seconds": round(seconds, 3),
        "records_per_s": round(result.records / seconds, 1) if seconds > 0 else None,
        "chars_per_s": round(result.chars / seconds, 1) if seconds > 0 else None,
    }


def ner_info(cfg: PiiConfig) -> dict[str, str] | None:
    """Name and version of the NER model (read from the model's metadata, weights not loaded)."""
    from privtune.pii.ner import model_info

    return model_info(cfg.ner)


def write_findings_file(lines: Iterable[dict[str, Any]], out: Path) -> None:
    from privtune.fsutil import atomic_writer

    with atomic_writer(out) as fh:
        for line in lines:
            fh.write((json.dumps(line, separators=(",", ":")) + "\n").encode())


def timer() -> float:
    return time.perf_counter()
