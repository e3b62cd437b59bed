"""Operator interface and the per-record context operators share.

`apply(value, entity_type, ctx) -> str | None` returns the replacement text (None: drop the record).
The context carries the HMAC keys, the record's subject (for date shifts), per-record numbering and
name-variant maps, and the real-value fingerprint set surrogates must avoid.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass
class OperatorContext:
    """Keys and state for one dataset (`dataset`) and one record (reset by `new_record`)."""

    keys: dict[str, bytes]
    options: Any  # ProtectConfig
    real_fingerprints: Any = None  # FingerprintSet of real values (surrogates must not be one of them)
    fp_key: bytes | None = None
    vault: Any = None
    subject: str = ""
    numbering: dict[tuple[str, str], int] = field(default_factory=dict)
    counters: dict[str, int] = field(default_factory=dict)
    name_parts: dict[str, tuple[str, str]] = field(default_factory=dict)  # token -> ("first"|"last", norm)

    def new_record(self, subject: str) -> None:
        self.subject = subject
        self.numbering.clear()
        self.counters.clear()
        self.name_parts.clear()

    def key(self, purpose: str) -> bytes:
        from privtune.errors import KeyUnavailable

        k = self.keys.get(purpose)
        if k is None:
            raise KeyUnavailable(f"operator needs the {purpose!r} key, but no key provider is available")
        return k

    def prf(self, purpose: str, *parts: str) -> bytes:
        """Keyed pseudo-random bytes for `parts` (stable across runs and workers with the same key)."""
        msg = b"\x00".join(p.encode("utf-8", "surrogatepass") for p in parts)
        return hmac.new(self.key(purpose), msg, hashlib.sha256).digest()


class Operator(Protocol):
    name: str
    #: Key purposes the operator needs (checked before anything is written).
    needs_keys: tuple[str, ...]

    def apply(self, value: str, entity_type: str, ctx: OperatorContext) -> str | None: ...
