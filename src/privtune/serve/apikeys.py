"""API keys in SQLite: only a SHA-256 of each secret is stored; roles `user` and `admin`.

A key reads `ptk_<id>_<secret>`: the id (not secret) finds the row, the secret is compared in
constant time with the stored hash. Every request reads the row, so a revocation made by another
process (`privtune serve keys revoke`) applies to the very next request. Secrets are 256-bit random,
so a fast hash is enough (no password stretching needed). Failures return None without saying why.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from dataclasses import dataclass
from typing import Any

from privtune.errors import InputError
from privtune.serve.store import PrivateSqlite

ROLES = ("user", "admin")
_TOKEN = re.compile(r"^ptk_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")
_NAME = re.compile(r"^[A-Za-z0-9_.@-]{1,64}$")
_DUMMY = hashlib.sha256(b"privtune-no-such-key").hexdigest()

_SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL, secret_sha256 TEXT NOT NULL,
  created REAL NOT NULL, revoked REAL);
"""


@dataclass(frozen=True)
class ApiKey:
    id: str
    name: str
    role: str
    created: float
    revoked: float | None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "role": self.role,
            "created": self.created,
            "revoked": self.revoked,
        }


class KeyStore(PrivateSqlite):
    schema = _SCHEMA

    def create(self, name: str, role: str = "user") -> tuple[ApiKey, str]:
        """A new key; the returned token is shown once and never stored."""
        if role not in ROLES:
            raise InputError(f"role must be one of {', '.join(ROLES)}")
        if not _NAME.match(name):
            raise InputError("key name: 1-64 letters, digits, or . _ @ -")
        kid, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        key = ApiKey(kid, name, role, time.time(), None)
        with self._db() as db:
            db.execute(
                "INSERT INTO keys VALUES (?,?,?,?,?,NULL)",
                (kid, name, role, hashlib.sha256(secret.encode()).hexdigest(), key.created),
            )
        return key, f"ptk_{kid}_{secret}"

    def list(self) -> list[ApiKey]:
        with self._db() as db:
            rows = db.execute("SELECT id, name, role, created, revoked FROM keys ORDER BY created").fetchall()
        return [ApiKey(*r) for r in rows]

    def revoke(self, key_id: str) -> ApiKey:
        with self._db() as db:
            n = db.execute(
                "UPDATE keys SET revoked=? WHERE id=? AND revoked IS NULL", (time.time(), key_id)
            ).rowcount
            row = db.execute(
                "SELECT id, name, role, created, revoked FROM keys WHERE id=?", (key_id,)
            ).fetchone()
        if row is None:
            raise InputError(f"no API key with id {key_id}")
        if n == 0:
            raise InputError(f"API key {key_id} is already revoked")
        return ApiKey(*row)

    def verify(self, token: str | None) -> ApiKey | None:
        """The active key for a bearer token, or None (missing, malformed, unknown, wrong or revoked)."""
        m = _TOKEN.match(token or "")
        kid, secret = (m.group(1), m.group(2)) if m else ("", "")
        with self._db() as db:
            row = db.execute(
                "SELECT id, name, role, created, revoked, secret_sha256 FROM keys WHERE id=?", (kid,)
            ).fetchone()
        stored = row[5] if row else _DUMMY
        ok = hmac.compare_digest(hashlib.sha256(secret.encode()).hexdigest(), stored)
        if not (m and row and ok) or row[4] is not None:
            return None
        return ApiKey(*row[:5])
