"""Tamper-evident audit log: append-only SQLite, SHA-256 hash chain, periodic Ed25519 checkpoints.

Where it lives: one log per user, `<privtune home>/audit.db` (or `security.audit_log`), so that a
run directory being deleted or copied does not take its history with it; each entry names the run
in its `details`. Every entry stores the previous entry's hash; every CHECKPOINT_EVERY entries the
head hash is signed with the key provider's Ed25519 key. `verify` recomputes the chain and checks
the signatures, naming the first edited, deleted, inserted or reordered entry. Rewriting the whole
chain after an edit is caught by any checkpoint that covers the edited entry; dropping entries after
the last checkpoint is the one change a holder of the database alone can make undetected (see
docs/security.md).

Concurrency: an append is one `BEGIN IMMEDIATE` transaction (SQLite's write lock), so concurrent
processes serialize and none loses an entry or forks the chain.

No raw PII: entries carry action names, actors (OS user or API key id), artifact SHA-256 hashes,
outcomes and small scalar details (counts, ids); free text is refused.
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import json
import re
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from privtune.errors import InputError, IntegrityError, KeyUnavailable
from privtune.fsutil import ensure_private_dir
from privtune.secure.keys.base import KeyProvider, b64d, b64e, privtune_home, verify_signature

GENESIS = "0" * 64
CHECKPOINT_EVERY = 16
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_TOKEN = re.compile(r"^[A-Za-z0-9_.:/@+-]{1,200}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS entries (
  seq INTEGER PRIMARY KEY, ts TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
  artifacts TEXT NOT NULL, outcome TEXT NOT NULL, details TEXT NOT NULL,
  prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (
  seq INTEGER PRIMARY KEY, hash TEXT NOT NULL, key_id TEXT NOT NULL, public_key TEXT NOT NULL,
  signature TEXT NOT NULL, ts TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS entries_no_update BEFORE UPDATE ON entries
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS entries_no_delete BEFORE DELETE ON entries
  BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;
"""


def default_log_path(security: Any = None) -> Path:
    if security is not None and getattr(security, "audit_log", None):
        return Path(security.audit_log).expanduser()
    return privtune_home() / "audit.db"


def _entry_hash(e: dict[str, Any]) -> str:
    body = {k: e[k] for k in ("seq", "ts", "actor", "action", "artifacts", "outcome", "details", "prev_hash")}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def _checkpoint_message(seq: int, head: str) -> bytes:
    return f"privtune-auditlog-checkpoint|{seq}|{head}".encode()


def _check_scalar(where: str, v: Any) -> None:
    if v is None or isinstance(v, bool | int | float):
        return
    if isinstance(v, str) and _TOKEN.match(v):
        return
    if isinstance(v, list) and len(v) <= 100:
        for x in v:
            _check_scalar(where, x)
        return
    raise InputError(
        f"audit log: {where}: only numbers, booleans, ids and hashes are recorded (no free text)"
    )


def _validate(
    action: str, actor: str, artifacts: dict[str, Any], outcome: str, details: dict[str, Any]
) -> None:
    for label, v in (("action", action), ("actor", actor), ("outcome", outcome)):
        if not isinstance(v, str) or not _TOKEN.match(v):
            raise InputError(f"audit log: {label} must be a short identifier")
    for name, h in artifacts.items():
        if not _TOKEN.match(str(name)) or not (h is None or (isinstance(h, str) and _HEX64.match(h))):
            raise InputError(
                f"audit log: artifacts[{name!r}] must map an artifact name to a SHA-256 hex digest"
            )
    for k, v in details.items():
        if not _TOKEN.match(str(k)):
            raise InputError("audit log: details keys must be identifiers")
        _check_scalar(f"details.{k}", v)


class AuditLog:
    def __init__(
        self, path: Path | None = None, provider: KeyProvider | None = None, security: Any = None
    ) -> None:
        self.path = path or default_log_path(security)
        self._provider = provider
        self._security = security
        ensure_private_dir(self.path.parent)
        with self._connect() as db:
            db.executescript(_SCHEMA)
        self.path.chmod(0o600)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=60, isolation_level=None)
        try:
            # Switching to WAL needs a moment of exclusive access and SQLite does not wait on its busy
            # handler for it: two processes opening a new log at once would see "database is locked".
            deadline = time.monotonic() + 60
            while True:
                try:
                    db.execute("PRAGMA journal_mode=WAL")
                    break
                except sqlite3.OperationalError as exc:
                    if "locked" not in str(exc) or time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            db.execute("PRAGMA synchronous=FULL")
            yield db
        finally:
            db.close()

    def provider(self) -> KeyProvider:
        if self._provider is None:
            from privtune.secure.keys import load_key_provider

            self._provider = load_key_provider(self._security, create=False)
        return self._provider

    def append(
        self,
        action: str,
        actor: str | None = None,
        artifacts: dict[str, str | None] | None = None,
        outcome: str = "ok",
        details: dict[str, Any] | None = None,
    ) -> int:
        """Append one entry (validated: no free text); returns its sequence number."""
        actor = actor or getpass.getuser()
        artifacts, details = dict(artifacts or {}), dict(details or {})
        _validate(action, actor, artifacts, outcome, details)
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
                seq, prev = (row[0] + 1, row[1]) if row else (1, GENESIS)
                e = {
                    "seq": seq,
                    "ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                    "actor": actor,
                    "action": action,
                    "artifacts": json.dumps(artifacts, sort_keys=True),
                    "outcome": outcome,
                    "details": json.dumps(details, sort_keys=True),
                    "prev_hash": prev,
                }
                e["hash"] = _entry_hash(e)
                db.execute(
                    "INSERT INTO entries VALUES (:seq,:ts,:actor,:action,:artifacts,:outcome,:details,:prev_hash,:hash)",
                    e,
                )
                last_cp = db.execute("SELECT COALESCE(MAX(seq), 0) FROM checkpoints").fetchone()[0]
                if seq - last_cp >= CHECKPOINT_EVERY:
                    self._checkpoint(db, seq, e["hash"])
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return seq

    def _checkpoint(self, db: sqlite3.Connection, seq: int, head: str) -> None:
        try:
            kp = self.provider()
            sig = kp.sign(_checkpoint_message(seq, head))
        except KeyUnavailable:
            return  # retried on the next append; verify reports the uncovered tail
        db.execute(
            "INSERT INTO checkpoints VALUES (?,?,?,?,?,?)",
            (
                seq,
                head,
                kp.key_id,
                kp.public_key_pem(),
                b64e(sig),
                time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            ),
        )

    def seal(self) -> int | None:
        """Sign the current head now (e.g. before exporting); returns the sealed seq."""
        with self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            row = db.execute("SELECT seq, hash FROM entries ORDER BY seq DESC LIMIT 1").fetchone()
            if row and not db.execute("SELECT 1 FROM checkpoints WHERE seq=?", (row[0],)).fetchone():
                self._checkpoint(db, row[0], row[1])
            db.execute("COMMIT")
        return row[0] if row else None

    def entries(self, last: int | None = None) -> list[dict[str, Any]]:
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            q = "SELECT * FROM entries ORDER BY seq"
            rows = [dict(r) for r in db.execute(q)]
        return rows[-last:] if last else rows

    def checkpoints(self) -> list[dict[str, Any]]:
        with self._connect() as db:
            db.row_factory = sqlite3.Row
            return [dict(r) for r in db.execute("SELECT * FROM checkpoints ORDER BY seq")]

    def verify(self, public_key_pem: str | None = None) -> dict[str, Any]:
        """Check chain and checkpoints; raise IntegrityError naming the first bad entry."""
        rows = self.entries()
        prev, expected = GENESIS, 1
        by_seq: dict[int, str] = {}
        for r in rows:
            if r["seq"] != expected:
                what = "missing (deleted)" if r["seq"] > expected else "duplicated"
                raise IntegrityError(f"{self.path}: audit log entry {expected} is {what}")
            if r["prev_hash"] != prev:
                raise IntegrityError(
                    f"{self.path}: audit log entry {r['seq']} does not follow entry {r['seq'] - 1} "
                    "(deleted, inserted or reordered entries)"
                )
            if _entry_hash(r) != r["hash"]:
                raise IntegrityError(f"{self.path}: audit log entry {r['seq']} was edited (hash mismatch)")
            by_seq[r["seq"]] = r["hash"]
            prev, expected = r["hash"], expected + 1
        trusted = public_key_pem or self.provider().public_key_pem()
        cps = self.checkpoints()
        for cp in cps:
            if cp["public_key"].strip() != trusted.strip():
                raise IntegrityError(
                    f"{self.path}: checkpoint at entry {cp['seq']} is signed by an unknown key"
                )
            try:
                verify_signature(trusted, _checkpoint_message(cp["seq"], cp["hash"]), b64d(cp["signature"]))
            except IntegrityError:
                raise IntegrityError(
                    f"{self.path}: checkpoint at entry {cp['seq']} has a bad signature"
                ) from None
            if cp["seq"] not in by_seq:
                raise IntegrityError(
                    f"{self.path}: audit log entry {len(rows) + 1} is missing (deleted; checkpoint at entry {cp['seq']})"
                )
            if by_seq[cp["seq"]] != cp["hash"]:
                raise IntegrityError(
                    f"{self.path}: audit log entries up to {cp['seq']} were rewritten (checkpoint hash mismatch)"
                )
        last_cp = cps[-1]["seq"] if cps else 0
        return {"entries": len(rows), "checkpoints": len(cps), "unsigned_tail": len(rows) - last_cp}


def append_event(
    action: str,
    actor: str | None,
    artifacts: dict[str, str | None],
    outcome: str,
    details: dict[str, Any],
    *,
    security: Any = None,
    provider: KeyProvider | None = None,
) -> int:
    """Record one action in the per-user audit log (see module docstring); returns its seq."""
    return AuditLog(provider=provider, security=security).append(action, actor, artifacts, outcome, details)
