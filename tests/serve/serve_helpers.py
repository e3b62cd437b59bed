"""Helpers shared by the serve tests (imported by name: tests are not a package)."""

from __future__ import annotations

from pathlib import Path

PLANTED_EMAIL = "jane.roe@example.org"
MODEL = "tinyrun"


def canary_secret(run: Path) -> str:
    from privtune.rundir import RunDir
    from privtune.secure.store import open_store

    return open_store(RunDir(run, create=False)).read_json("train/canaries.json")["canaries"][0]["secret"]


def make_state(run: Path, **serve: object):
    """A ServeState for `run` with `serve:` overrides given as nested dicts."""
    from privtune.config import PipelineConfig
    from privtune.serve.service import load_state

    cfg = PipelineConfig.model_validate({"serve": serve})
    return load_state(run, cfg)


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
