"""Signing key and master secret for HSM/KMS providers, kept wrapped by the remote KEK.

The HSM or KMS holds only the key-encryption key; the Ed25519 signing key and the derived-secret
master are generated locally and stored in a 0600 JSON file beside the key config, wrapped by the
provider's current KEK. They are unwrapped in memory when used, and re-wrapped on rotation so that
destroying an old KEK version never orphans them.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from privtune.errors import KeyUnavailable
from privtune.fsutil import ensure_private_dir, write_atomic
from privtune.secure.keys.base import b64d, b64e, check_private_file

FORMAT = "privtune-key-sidecar/1"


class Sidecar:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._sk: Ed25519PrivateKey | None = None
        self._secret: bytes | None = None

    def exists(self) -> bool:
        return self.path.exists()

    def create(self, wrap: Callable[[bytes], bytes], meta: dict[str, Any]) -> None:
        sk = Ed25519PrivateKey.generate().private_bytes_raw()
        self._write(wrap, sk, secrets.token_bytes(32), meta)

    def _write(self, wrap: Callable[[bytes], bytes], sk: bytes, secret: bytes, meta: dict[str, Any]) -> None:
        ensure_private_dir(self.path.parent)
        doc = {"format": FORMAT, **meta, "signing_key": b64e(wrap(sk)), "secret": b64e(wrap(secret))}
        write_atomic(self.path, json.dumps(doc, indent=2).encode())

    def load(self, unwrap: Callable[[bytes], bytes]) -> None:
        check_private_file(self.path, "key state file")
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            if doc.get("format") != FORMAT:
                raise ValueError("format")
            sk_blob, secret_blob = b64d(doc["signing_key"]), b64d(doc["secret"])
        except (ValueError, KeyError, TypeError):
            raise KeyUnavailable(f"{self.path}: not a valid privtune key state file") from None
        self._sk = Ed25519PrivateKey.from_private_bytes(unwrap(sk_blob))
        self._secret = unwrap(secret_blob)

    def meta(self) -> dict[str, Any]:
        doc = json.loads(self.path.read_text(encoding="utf-8"))
        return {k: v for k, v in doc.items() if k not in {"signing_key", "secret", "format"}}

    def rewrap(self, wrap: Callable[[bytes], bytes], meta: dict[str, Any] | None = None) -> None:
        """Re-wrap under the current KEK (after rotation), optionally updating the metadata."""
        self._write(wrap, self.signing_key().private_bytes_raw(), self.secret(), meta or self.meta())

    def signing_key(self) -> Ed25519PrivateKey:
        if self._sk is None:
            raise KeyUnavailable(f"{self.path}: key state not loaded")
        return self._sk

    def secret(self) -> bytes:
        if self._secret is None:
            raise KeyUnavailable(f"{self.path}: key state not loaded")
        return self._secret

    def remove(self) -> None:
        from privtune.secure.keys.keyfile import _overwrite_and_unlink

        _overwrite_and_unlink(self.path)
