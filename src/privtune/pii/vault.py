"""The reveal vault: SQLite, one row per distinct value, each AES-256-GCM encrypted.

The token is derived from HMAC(vault key, type + normalized value), so one value has one token and
one row. The token is the AES-GCM associated data: a row cannot be moved under another token.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import sqlite3
from pathlib import Path

from privtune.errors import IntegrityError
from privtune.pii.normalize import normalize

TOKEN_RE = re.compile(r"\[\[PT:([A-Z_]+):([0-9a-f]{20})\]\]")
VAULT_ARTIFACT = "protect/vault.sqlite"


class Vault:
    def __init__(self, key: bytes, path: str | Path = ":memory:") -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._key = key
        self._aead = AESGCM(hashlib.sha256(b"privtune-vault-aead" + key).digest())
        self.db = sqlite3.connect(str(path))
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS vault (token TEXT PRIMARY KEY, entity_type TEXT, nonce BLOB, ct BLOB)"
        )

    def token(self, entity_type: str, value: str) -> str:
        mac = hmac.new(self._key, f"{entity_type}\x00{normalize(entity_type, value)}".encode(), hashlib.sha256)
        return f"[[PT:{entity_type}:{mac.hexdigest()[:20]}]]"

    def put(self, entity_type: str, value: str) -> str:
        tok = self.token(entity_type, value)
        if self.db.execute("SELECT 1 FROM vault WHERE token=?", (tok,)).fetchone() is None:
            nonce = os.urandom(12)
            ct = self._aead.encrypt(nonce, value.encode("utf-8", "surrogatepass"), tok.encode())
            self.db.execute("INSERT INTO vault VALUES (?,?,?,?)", (tok, entity_type, nonce, ct))
        return tok

    def get(self, token: str) -> str | None:
        from cryptography.exceptions import InvalidTag

        row = self.db.execute("SELECT nonce, ct FROM vault WHERE token=?", (token,)).fetchone()
        if row is None:
            return None
        try:
            return self._aead.decrypt(row[0], row[1], token.encode()).decode("utf-8", "surrogatepass")
        except InvalidTag:
            raise IntegrityError("vault entry failed authentication (tampered vault or wrong key)") from None

    def __len__(self) -> int:
        return self.db.execute("SELECT COUNT(*) FROM vault").fetchone()[0]

    def to_bytes(self) -> bytes:
        self.db.commit()
        return self.db.serialize()

    @classmethod
    def from_bytes(cls, key: bytes, data: bytes) -> Vault:
        v = cls(key)
        v.db.deserialize(data)
        return v

    def reveal(self, text: str) -> tuple[str, int, int]:
        """Replace every token by its value; returns (text, revealed, unknown tokens)."""
        counts = [0, 0]

        def sub(m: re.Match[str]) -> str:
            val = self.get(m.group(0))
            counts[0 if val is not None else 1] += 1
            return val if val is not None else m.group(0)

        return TOKEN_RE.sub(sub, text), counts[0], counts[1]
