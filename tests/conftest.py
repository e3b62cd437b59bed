"""Shared fixtures: `cli` runs the real entry point in-process and returns (exit code, stdout, stderr)."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass

import pytest

# Keys created by the tests live in a throwaway home, never in the developer's ~/.config.
os.environ["PRIVTUNE_HOME"] = tempfile.mkdtemp(prefix="privtune-test-home-")
# Compiled regex prefilters are cached once per test session, not in the developer's ~/.cache.
os.environ["PRIVTUNE_CACHE_DIR"] = tempfile.mkdtemp(prefix="privtune-test-cache-")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def cli(capsys):
    from privtune.cli import main

    def run(*args: str) -> CliResult:
        capsys.readouterr()
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return run


@pytest.fixture
def read_jsonl_artifact():
    """Decrypting read of a run artifact, the way stages read it."""
    from privtune.rundir import RunDir
    from privtune.secure.store import open_store

    def read(run_dir, name: str) -> list[dict]:
        return list(open_store(RunDir(run_dir, create=False)).iter_jsonl(name))

    return read
