"""`privtune reveal`: vault tokens -> original values, with an audit-log entry (never the values)."""

from __future__ import annotations

import getpass
from pathlib import Path
from typing import Any

from privtune.errors import InputError


def run_reveal(run_path: str, input_path: Path, out: Path, reason: str, cfg: Any) -> tuple[int, int]:
    from privtune.fsutil import write_atomic
    from privtune.pii.stage import derived_key
    from privtune.pii.vault import VAULT_ARTIFACT, Vault
    from privtune.rundir import RunDir
    from privtune.secure.store import open_store

    if not reason.strip():
        raise InputError("--reason must not be empty")
    run = RunDir(run_path, create=False)
    store = open_store(run, getattr(cfg, "security", None))
    if not store.exists(VAULT_ARTIFACT):
        raise InputError(f"{run_path}: no vault (no `encrypt` operator was used by protect)")
    try:
        text = input_path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"{input_path}: cannot read ({type(exc).__name__})") from None
    vault = Vault.from_bytes(derived_key(cfg, "vault"), store.read_bytes(VAULT_ARTIFACT))
    revealed, n, unknown = vault.reveal(text)
    write_atomic(out, revealed.encode("utf-8"))
    from privtune.secure.auditlog import append_event

    append_event(
        "reveal",
        getpass.getuser(),
        {VAULT_ARTIFACT: store.hash(VAULT_ARTIFACT)},
        "ok",
        {"revealed": n, "unknown_tokens": unknown, "reason": reason, "input": str(input_path)},
        security=getattr(cfg, "security", None),
    )
    return n, unknown
