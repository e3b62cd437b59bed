"""The server's small SQLite stores (API keys, review queue): private files, schema applied on open."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path

from privtune.fsutil import ensure_private_dir


class PrivateSqlite:
    """A SQLite file readable by its owner only (0600 in a 0700 directory).

    A fresh connection per operation keeps it safe to share between the server's worker threads and
    the CLI (revocations are seen by the next request).
    """

    schema = ""
    row_factory: type | None = None

    def __init__(self, path: Path) -> None:
        self.path = path
        ensure_private_dir(path.parent)
        with self._db() as db:
            db.executescript(self.schema)
        path.chmod(0o600)

    @contextlib.contextmanager
    def _db(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        if self.row_factory is not None:
            db.row_factory = self.row_factory
        try:
            yield db
        finally:
            db.close()
