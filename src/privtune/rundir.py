"""The run directory: one folder per stage and a `run.json` recording stage status and artifact hashes.

Layout::

    runs/<name>/            0700
      run.json              stage status, inputs/outputs by SHA-256, artifact index
      ingest/ scan/ protect/ train/ audit/ release/ serve/

`run.json` is updated under an exclusive file lock and rewritten atomically, so concurrent
processes (e.g. distributed workers, a server and a CLI) never lose an update.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from privtune import __version__
from privtune.errors import InputError
from privtune.fsutil import ensure_private_dir, write_atomic

STAGES = ("ingest", "scan", "protect", "train", "audit", "release", "serve")


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


class RunDir:
    """A run directory; created private (0700) and refused when others can write to it."""

    def __init__(self, path: str | Path, create: bool = True) -> None:
        self.path = Path(path)
        # Set by open_store: records every stage transition in the tamper-evident audit log.
        self.event_sink: Callable[[str, dict[str, str], str], None] | None = None
        if self.path.is_dir():
            self.check_permissions()
        elif create:
            if self.path.exists():
                raise InputError(f"{self.path}: exists and is not a directory")
            ensure_private_dir(self.path)
        else:
            raise InputError(f"{self.path}: not a run directory (missing)")
        self.run_json = self.path / "run.json"
        if not self.run_json.exists():
            if not create:
                raise InputError(f"{self.path}: not a run directory (no run.json)")
            self._write(
                {
                    "name": self.path.name,
                    "created": _now(),
                    "privtune_version": __version__,
                    "stages": {},
                    "artifacts": {},
                }
            )

    def check_permissions(self) -> None:
        mode = self.path.stat().st_mode
        if mode & (stat.S_IWGRP | stat.S_IWOTH):
            raise InputError(
                f"{self.path}: run directory is writable by group/others (mode {stat.S_IMODE(mode):o}); "
                "fix with: chmod 700"
            )

    def stage_dir(self, stage: str) -> Path:
        if stage not in STAGES:
            raise ValueError(f"unknown stage {stage!r}")
        return ensure_private_dir(self.path / stage)

    # -- run.json -----------------------------------------------------------------------------
    def read(self) -> dict[str, Any]:
        with open(self.run_json, encoding="utf-8") as fh:
            return json.load(fh)

    def _write(self, data: dict[str, Any]) -> None:
        write_atomic(self.run_json, (json.dumps(data, indent=2, sort_keys=True) + "\n").encode())

    @contextlib.contextmanager
    def update(self) -> Iterator[dict[str, Any]]:
        """Lock, load, let the caller mutate, write back atomically."""
        lock_path = self.path / ".run.lock"
        fd = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            data = self.read()
            yield data
            self._write(data)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def stage(self, stage: str) -> dict[str, Any]:
        return self.read()["stages"].get(stage, {})

    def begin_stage(self, stage: str, inputs: dict[str, str], config_hash: str | None = None) -> None:
        with self.update() as data:
            data["stages"][stage] = {
                "status": "running",
                "started": _now(),
                "inputs": inputs,
                "config_hash": config_hash,
                "outputs": {},
            }
        self._event(f"{stage}_start", inputs, "started")

    def finish_stage(
        self, stage: str, outputs: dict[str, str], summary: dict[str, Any] | None = None
    ) -> None:
        with self.update() as data:
            st = data["stages"].setdefault(stage, {})
            st.update(status="done", finished=_now(), outputs=outputs, summary=summary or {})
        self._event(stage, outputs, "ok")

    def fail_stage(self, stage: str, reason: str) -> None:
        with self.update() as data:
            st = data["stages"].setdefault(stage, {})
            st.update(status="failed", finished=_now(), error=reason)
        self._event(stage, {}, "failed")

    def _event(self, action: str, artifacts: dict[str, str], outcome: str) -> None:
        if self.event_sink is not None:
            hashes = {k: v for k, v in artifacts.items() if isinstance(v, str) and len(v) == 64}
            self.event_sink(action, hashes, outcome)

    def record_artifact(self, name: str, info: dict[str, Any]) -> None:
        with self.update() as data:
            data["artifacts"][name] = info

    def forget_artifact(self, name: str) -> None:
        with self.update() as data:
            data["artifacts"].pop(name, None)
