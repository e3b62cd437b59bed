"""`privtune purge`: delete temporary checkpoints and intermediate files a retention policy names.

Idempotent (a second run removes nothing) and recorded in the audit log by the caller. Deletion
unlinks files after a best-effort overwrite; on SSDs and copy-on-write filesystems that does not
guarantee the old blocks are gone, which is why sensitive artifacts are encrypted and the real
guarantee is crypto-shredding (`privtune keys destroy`), see docs/security.md.
"""

from __future__ import annotations

import contextlib
import os
import re
from fnmatch import fnmatchcase
from pathlib import Path

from privtune.rundir import RunDir
from privtune.secure.config import RetentionConfig

_PROTECTED = {"run.json", ".run.lock"}


def _natural(p: Path) -> list[object]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", p.name)]


def plan_purge(run: RunDir, retention: RetentionConfig) -> list[str]:
    """Run-relative files the policy removes (sorted)."""
    root = run.path
    doomed: set[str] = set()
    ckpt_root = root / "train" / "checkpoints"
    if ckpt_root.is_dir():
        ckpts = sorted((p for p in ckpt_root.iterdir()), key=_natural)
        old = ckpts[: max(0, len(ckpts) - retention.keep_checkpoints)]
        for c in old:
            files = [c] if c.is_file() else [f for f in c.rglob("*") if f.is_file() or f.is_symlink()]
            doomed.update(f.relative_to(root).as_posix() for f in files)
    for f in root.rglob("*"):
        if not (f.is_file() or f.is_symlink()):
            continue
        rel = f.relative_to(root).as_posix()
        if any(fnmatchcase(rel, pat) for pat in retention.purge_patterns):
            doomed.add(rel)
    return sorted(
        r
        for r in doomed
        if r not in _PROTECTED and not any(fnmatchcase(r, k) for k in retention.keep_patterns)
    )


def _shred(path: Path) -> None:
    """Overwrite then unlink (best effort only; see the module docstring)."""
    with contextlib.suppress(OSError):
        if path.is_file() and not path.is_symlink():
            size = path.stat().st_size
            with open(path, "r+b") as fh:
                left = size
                while left > 0:
                    n = min(left, 1 << 20)
                    fh.write(b"\0" * n)
                    left -= n
                fh.flush()
                os.fsync(fh.fileno())
    path.unlink(missing_ok=True)


def purge_run(run: RunDir, retention: RetentionConfig, dry_run: bool = False) -> dict[str, str | None]:
    """Remove what `plan_purge` lists; returns {name: SHA-256 recorded before removal}."""
    names = plan_purge(run, retention)
    index = run.read()["artifacts"]
    removed = {n: index.get(n, {}).get("sha256") for n in names}
    if dry_run:
        return removed
    for n in names:
        _shred(run.path / n)
    with run.update() as data:
        for n in names:
            data["artifacts"].pop(n, None)
    for d in sorted((p for p in run.path.rglob("*") if p.is_dir()), key=lambda p: -len(p.parts)):
        if d.parent == run.path:
            continue  # keep the stage folders
        with contextlib.suppress(OSError):
            d.rmdir()  # only succeeds when empty
    return removed
