"""`privtune run`: ingest → scan → protect → train → audit → release, as the config enables them.

Every stage records in run.json the hashes of what it read and of its config section. A stage is
skipped when it finished before and neither changed; otherwise it runs again (and every stage
after it, since their inputs change). An interrupted training resumes from its last checkpoint.
Stages write atomically, so a killed run leaves either the old output or none.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privtune.config import PipelineConfig
from privtune.errors import GateFailed
from privtune.fsutil import sha256_file
from privtune.rundir import RunDir

STAGES = ("ingest", "scan", "protect", "train", "audit", "release")

Notify = Callable[[str, str], None]
"""(stage, event) with event in started / skipped / done / failed: lets the CLI show progress."""


@dataclass
class StageResult:
    stage: str
    status: str  # done | skipped (unchanged) | disabled | failed
    seconds: float = 0.0
    summary: dict[str, Any] = field(default_factory=dict)


def config_hash(cfg: PipelineConfig, stage: str) -> str | None:
    """The hash each stage itself records in run.json at begin_stage."""
    if stage == "ingest":
        return cfg.section_hash("ingest")
    if stage == "scan":
        return cfg.section_hash("pii")
    if stage == "protect":
        return cfg.section_hash("protect")
    if stage == "train":
        return cfg.section_hash("train") + cfg.section_hash("dp")
    if stage == "audit":
        return cfg.section_hash("audit")
    return None


def _current_hash(run: RunDir, store: Any, name: str) -> str | None:
    if name in run.read()["artifacts"]:
        return store.hash(name)
    path = Path(name)
    if path.is_file():
        return sha256_file(path)
    if path.is_dir():  # a `datasets` directory: its reader records a combined hash; re-read to be safe
        return None
    return None


def is_current(run: RunDir, store: Any, cfg: PipelineConfig, stage: str) -> bool:
    """Finished before, same config section, and every recorded input still has the same hash."""
    st = run.stage(stage)
    if st.get("status") != "done" or st.get("config_hash") != config_hash(cfg, stage):
        return False
    for name in st.get("outputs", {}):
        if not store.exists(name):
            return False
    return all(_current_hash(run, store, name) == h for name, h in st.get("inputs", {}).items())


def enabled(cfg: PipelineConfig, stage: str) -> bool:
    return {
        "scan": cfg.pipeline.protect_pii,
        "protect": cfg.pipeline.protect_pii,
        "train": cfg.pipeline.train,
        "audit": cfg.pipeline.train and cfg.pipeline.audit,
        "release": cfg.pipeline.release,
    }.get(stage, True)


def run_pipeline(cfg: PipelineConfig, notify: Notify | None = None, force: bool = False) -> list[StageResult]:
    from privtune.secure.store import open_store

    notify = notify or (lambda s, e: None)
    run = RunDir(Path(cfg.run.dir) / cfg.run.name)
    store = open_store(run, cfg.security)
    _record_config(run, cfg)
    results: list[StageResult] = []
    upstream_changed = force
    for stage in STAGES:
        if not enabled(cfg, stage):
            results.append(StageResult(stage, "disabled"))
            notify(stage, "disabled")
            continue
        if not upstream_changed and stage != "release" and is_current(run, store, cfg, stage):
            results.append(StageResult(stage, "skipped", summary=run.stage(stage).get("summary", {})))
            notify(stage, "skipped")
            continue
        upstream_changed = True
        notify(stage, "started")
        t0 = time.perf_counter()
        try:
            summary = _execute(stage, cfg, run, store)
        except GateFailed:
            results.append(StageResult(stage, "failed", time.perf_counter() - t0))
            notify(stage, "failed")
            _execute("release", cfg, run, store) if enabled(cfg, "release") else None
            raise
        except BaseException:
            notify(stage, "failed")
            raise
        results.append(StageResult(stage, "done", time.perf_counter() - t0, summary))
        notify(stage, "done")
    return results


def _record_config(run: RunDir, cfg: PipelineConfig) -> None:
    with run.update() as data:
        data["config"] = cfg.model_dump(mode="json", by_alias=True)


def _execute(stage: str, cfg: PipelineConfig, run: RunDir, store: Any) -> dict[str, Any]:
    path = str(run.path)
    if stage == "ingest":
        from privtune.ingest import run_ingest

        s = run_ingest(cfg.ingest.inputs, cfg.ingest, store)
        return {k: s[k] for k in ("read", "kept", "quarantined", "duplicates_removed")}
    if stage == "scan":
        from privtune.pii.stage import run_scan

        return _small(run_scan(path, cfg, findings=None))
    if stage == "protect":
        from privtune.pii.protect import run_protect

        return _small(run_protect(path, cfg))
    if stage == "train":
        from privtune.train.trainer import train_run

        resume = run.stage("train").get("status") in ("running", "failed") and store.exists(
            "train/checkpoint/state.safetensors"
        )
        return _small(train_run(path, cfg, resume=resume, quiet=True))
    if stage == "audit":
        from privtune.audit.stage import run_audit

        return _small(run_audit(path, cfg))
    if stage == "release":
        from privtune.pipeline.release import release

        return release(cfg, run, store)
    raise ValueError(stage)


def _small(summary: dict[str, Any]) -> dict[str, Any]:
    """Scalars only: what the final table and run.json need."""
    return {k: v for k, v in summary.items() if isinstance(v, int | float | str | bool) or v is None}
