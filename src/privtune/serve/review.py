"""Review queue (SQLite): responses the guard changed or blocked, and extraction flags.

An item holds what a reviewer needs and nothing the guard removed: the key id, endpoint, the
finding types/actions/sources and the redacted output the user received. Admins list and resolve
items through `/admin/review`.
"""

from __future__ import annotations

import json
import sqlite3
import time
from typing import Any

from privtune.serve.store import PrivateSqlite

_SCHEMA = """
CREATE TABLE IF NOT EXISTS review (
  id INTEGER PRIMARY KEY AUTOINCREMENT, created REAL NOT NULL, key_id TEXT NOT NULL,
  endpoint TEXT NOT NULL, reason TEXT NOT NULL, findings TEXT NOT NULL, output TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'open', resolution TEXT, resolved_by TEXT, resolved REAL);
"""
RESOLUTIONS = ("false_positive", "confirmed_leak", "acceptable", "escalated")


class ReviewQueue(PrivateSqlite):
    schema = _SCHEMA
    row_factory = sqlite3.Row

    def add(
        self, key_id: str, endpoint: str, reason: str, findings: list[dict[str, Any]], output: str
    ) -> int:
        with self._db() as db:
            cur = db.execute(
                "INSERT INTO review (created, key_id, endpoint, reason, findings, output) VALUES (?,?,?,?,?,?)",
                (time.time(), key_id, endpoint, reason, json.dumps(findings), output),
            )
            return int(cur.lastrowid or 0)

    def _row(self, r: sqlite3.Row) -> dict[str, Any]:
        d = dict(r)
        d["findings"] = json.loads(d["findings"])
        return d

    def list(self, status: str | None = "open", limit: int = 100) -> list[dict[str, Any]]:
        with self._db() as db:
            if status:
                rows = db.execute("SELECT * FROM review WHERE status=? ORDER BY id LIMIT ?", (status, limit))
            else:
                rows = db.execute("SELECT * FROM review ORDER BY id LIMIT ?", (limit,))
            return [self._row(r) for r in rows]

    def get(self, item_id: int) -> dict[str, Any] | None:
        with self._db() as db:
            r = db.execute("SELECT * FROM review WHERE id=?", (item_id,)).fetchone()
        return self._row(r) if r else None

    def resolve(self, item_id: int, resolution: str, by: str) -> dict[str, Any] | None:
        with self._db() as db:
            db.execute(
                "UPDATE review SET status='resolved', resolution=?, resolved_by=?, resolved=? WHERE id=?",
                (resolution, by, time.time(), item_id),
            )
        return self.get(item_id)
