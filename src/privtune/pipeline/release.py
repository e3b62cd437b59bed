"""The release step: purge temporaries per retention, then the report and the signed manifest."""

from __future__ import annotations

from typing import Any

from privtune.config import PipelineConfig
from privtune.rundir import RunDir


def release(cfg: PipelineConfig, run: RunDir, store: Any) -> dict[str, Any]:
    from privtune.report.build import sign_release
    from privtune.secure.purge import purge_run

    run.begin_stage("release", {}, cfg.section_hash("security"))
    try:
        removed = purge_run(run, cfg.security.retention)
        result = sign_release(run, store, cfg.security, cfg.model_dump(mode="json", by_alias=True))
    except BaseException as exc:
        run.fail_stage("release", type(exc).__name__)
        raise
    outputs = {
        n: store.hash(n) for n in ("release/manifest.json", "release/report.html", "release/report.json")
    }
    run.finish_stage(
        "release", outputs, {"purged": len(removed), "signed": True, "verified": result["verified"]}
    )
    return {
        "purged": len(removed),
        "verified": result["verified"],
        "report": str(run.path / "release/report.html"),
    }
