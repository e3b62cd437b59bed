"""Entry points of the `scan` stage for the CLI: file or run-directory input, summary, artifacts."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from privtune.errors import InputError, KeyUnavailable
from privtune.pii.fingerprints import KEY_PURPOSE, save_fingerprint_set
from privtune.pii.scan import (
    FINDINGS_ARTIFACT,
    RECORDS_ARTIFACT,
    REPORT_ARTIFACT,
    ScanResult,
    is_run_dir,
    ner_info,
    scan_records,
    summarize,
    timer,
)

NO_NER_WARNING = (
    "no NER model: running regex-only. Person names, organizations and places without a street "
    "number are NOT detected."
)


def derived_key(cfg: Any, purpose: str) -> bytes:
    """32 secret bytes for `purpose` from the configured key provider; KeyUnavailable otherwise."""
    try:
        from privtune.secure.keys import load_key_provider
    except ImportError:
        raise KeyUnavailable(f"no key provider available for {purpose!r} (privtune.secure.keys)") from None
    try:
        return load_key_provider(getattr(cfg, "security", None)).derived_secret(purpose)
    except KeyUnavailable:
        raise
    except (OSError, ValueError) as exc:
        raise KeyUnavailable(f"cannot load the key for {purpose!r}: {type(exc).__name__}") from None


def iter_input(path: str, cfg: Any) -> Iterator[dict[str, Any]]:
    """Records of a file in any format ingest reads."""
    from privtune.ingest import iter_input_records

    if not Path(path).exists():
        raise InputError(f"{path}: input not found")
    return iter_input_records([path], cfg.ingest)


def run_scan(
    input_path: str,
    cfg: Any,
    *,
    findings: Path | None,
    workers: int | None = None,
    warn: Callable[[str], None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Scan INPUT (file or run directory); write findings (and, for a run, fingerprints + report)."""
    from privtune.fsutil import atomic_writer

    pii = cfg.pii
    info = ner_info(pii)
    if info is None and warn:
        warn(NO_NER_WARNING)
    workers = workers or pii.workers
    key = derived_key(cfg, KEY_PURPOSE)
    from privtune.pii.recognizers import build_recognizers

    recognizers = [r.name for r in build_recognizers(pii)]  # fails fast on a malformed custom regex
    result = ScanResult()
    t0 = timer()
    run_mode = is_run_dir(input_path)
    if run_mode:
        from privtune.config import PipelineConfig  # noqa: F401 - section hash below
        from privtune.rundir import RunDir
        from privtune.secure.store import open_store

        run = RunDir(input_path, create=False)
        store = open_store(run, getattr(cfg, "security", None))
        if not store.exists(RECORDS_ARTIFACT):
            raise InputError(f"{input_path}: run has no {RECORDS_ARTIFACT}; run `privtune ingest` first")
        records: Any = store.iter_jsonl(RECORDS_ARTIFACT)
        run.begin_stage("scan", {RECORDS_ARTIFACT: store.hash(RECORDS_ARTIFACT)}, cfg.section_hash("pii"))
    else:
        if findings is None:
            raise InputError("--findings OUT.jsonl is required when INPUT is a file")
        records = iter_input(input_path, cfg)

    def lines() -> Iterator[bytes]:
        for line, n in scan_records(records, pii, key, workers=workers, ner=info is not None, progress=progress):
            result.add(line, n)
            yield (json.dumps(line, separators=(",", ":")) + "\n").encode()

    try:
        if run_mode:
            with store.writer(FINDINGS_ARTIFACT, sensitive=True) as fh:
                for b in lines():
                    fh.write(b)
        else:
            assert findings is not None
            with atomic_writer(findings) as fh:
                for b in lines():
                    fh.write(b)
        summary = summarize(result, pii, info, timer() - t0, recognizers)
        if run_mode:
            outputs = {FINDINGS_ARTIFACT: store.hash(FINDINGS_ARTIFACT)}
            outputs["scan/fingerprints.json"] = save_fingerprint_set(store, result.fingerprints)
            outputs[REPORT_ARTIFACT] = store.write_json(REPORT_ARTIFACT, summary, sensitive=False)
            if findings is not None:
                with atomic_writer(findings) as fh:
                    fh.write(store.read_bytes(FINDINGS_ARTIFACT))
            run.finish_stage("scan", outputs, summary)
    except BaseException as exc:
        if run_mode:
            run.fail_stage("scan", type(exc).__name__)
        raise
    return summary
