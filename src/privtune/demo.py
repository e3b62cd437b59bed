"""`privtune demo`: the pipeline on the bundled synthetic support tickets, no downloads needed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from privtune.config import PipelineConfig
from privtune.ingest.config import IngestConfig


def demo_config(out: Path) -> PipelineConfig:
    from privtune.sample import bundled_path

    return PipelineConfig(
        run={"name": out.name, "dir": str(out.parent)},
        ingest=IngestConfig(
            inputs=[str(bundled_path())],
            record_schema="prompt_completion",
            user_id_field="user_id",
        ),
    )


def run_demo(out: Path, progress: Any = None) -> dict[str, Any]:
    from privtune.ingest import run_ingest
    from privtune.rundir import RunDir
    from privtune.secure.store import open_store

    cfg = demo_config(out)
    run = RunDir(out)
    store = open_store(run, getattr(cfg, "security", None))
    summary = {"ingest": run_ingest(cfg.ingest.inputs, cfg.ingest, store, progress=progress)}
    return summary
