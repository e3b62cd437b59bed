"""`keyfile` provider: key-encryption keys, signing key and master secret in one local 0600 file.

The default when nothing is configured: created on first use in the per-user privtune home. It
protects artifacts against anyone who gets the run directory but not this file (backups, shared
storage, a copied disk image); it does not protect against the user's own account.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import sys
import time
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privtune.errors import KeyUnavailable
from privtune.fsutil import ensure_private_dir, write_atomic
from privtune.secure.keys.base import (
    KeyProvider,
    b64d,
    b64e,
    check_private_file,
    pack_wrapped,
    privtune_home,
    unpack_wrapped,
)

FORMAT = "privtune-keyfile/1"


def default_keyfile_path() -> Path:
    return privtune_home() / "keys" / "keyfile.json"


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _new_state() -> dict[str, Any]:
    kid = "kf-" + secrets.token_hex(8)
    return {
        "format": FORMAT,
        "created": _now(),
        "current": kid,
        "keks": {kid: {"key": b64e(AESGCM.generate_key(256)), "created": _now()}},
        "signing_key": b64e(Ed25519PrivateKey.generate().private_bytes_raw()),
        "secret": b64e(secrets.token_bytes(32)),
    }


def _create_exclusive(path: Path, state: dict[str, Any]) -> bool:
    """Write the new key file unless one appeared meanwhile (two processes starting at once)."""
    ensure_private_dir(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(json.dumps(state, indent=2).encode())
            fh.flush()
            os.fsync(fh.fileno())
        try:
            os.link(tmp, path)
            return True
        except FileExistsError:
            return False
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)


class KeyfileProvider(KeyProvider):
    name = "keyfile"

    def __init__(self, path: Path | None = None, create: bool = True) -> None:
        self.path = Path(path).expanduser() if path else default_keyfile_path()
        self.created = False
        if not self.path.exists():
            if not create:
                raise KeyUnavailable(f"{self.path}: key file not found (create it with: privtune keys init)")
            self.created = _create_exclusive(self.path, _new_state())
            if self.created:
                sys.stderr.write(
                    f"privtune: created a new key file at {self.path} (mode 0600). Back it up: "
                    "encrypted artifacts cannot be read without it.\n"
                )
        self._state = self._load()

    def _load(self) -> dict[str, Any]:
        check_private_file(self.path, "key file")
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
            if state.get("format") != FORMAT:
                raise ValueError("format")
            self._sk = Ed25519PrivateKey.from_private_bytes(b64d(state["signing_key"]))
            self._secret = b64d(state["secret"])
            if state["current"] not in state["keks"]:
                raise ValueError("current")
        except (ValueError, KeyError, TypeError):
            raise KeyUnavailable(f"{self.path}: not a valid privtune key file") from None
        return state

    def _save(self) -> None:
        write_atomic(self.path, json.dumps(self._state, indent=2).encode())

    @property
    def key_id(self) -> str:
        return f"keyfile:{self._state['current']}"

    def _kek(self, version: str) -> bytes:
        entry = self._state["keks"].get(version)
        if entry is None:
            raise KeyUnavailable(
                f"data key was wrapped by key version {version!r}, which is not in {self.path} "
                "(wrong key file, or that version was destroyed)"
            )
        return b64d(entry["key"])

    def wrap(self, data_key: bytes) -> bytes:
        version = self._state["current"]
        nonce = secrets.token_bytes(12)
        ct = AESGCM(self._kek(version)).encrypt(nonce, data_key, b"privtune-kek|" + version.encode())
        return pack_wrapped(version, nonce + ct)

    def unwrap(self, blob: bytes) -> bytes:
        version, payload = unpack_wrapped(blob)
        try:
            return AESGCM(self._kek(version)).decrypt(
                payload[:12], payload[12:], b"privtune-kek|" + version.encode()
            )
        except InvalidTag:
            raise KeyUnavailable(
                f"cannot unwrap data key with key version {version!r} (damaged header)"
            ) from None

    def _signing_key(self) -> Ed25519PrivateKey:
        return self._sk

    def _master_secret(self) -> bytes:
        return self._secret

    def rotate(self) -> str:
        kid = "kf-" + secrets.token_hex(8)
        self._state["keks"][kid] = {"key": b64e(AESGCM.generate_key(256)), "created": _now()}
        self._state["current"] = kid
        self._save()
        return self.key_id

    def destroy(self, version: str | None = None) -> list[str]:
        if version is None:
            gone = [f"keyfile:{v}" for v in self._state["keks"]]
            _overwrite_and_unlink(self.path)
            return gone
        version = version.removeprefix("keyfile:")
        if version not in self._state["keks"]:
            raise KeyUnavailable(f"{self.path}: no key version {version!r}")
        if version == self._state["current"]:
            raise KeyUnavailable(
                f"key version {version!r} is current; rotate first, then destroy the old one"
            )
        del self._state["keks"][version]
        self._save()
        return [f"keyfile:{version}"]

    def describe(self) -> dict[str, Any]:
        return {
            "provider": self.name,
            "key_id": self.key_id,
            "path": str(self.path),
            "versions": [
                {"key_id": f"keyfile:{v}", "created": e["created"], "current": v == self._state["current"]}
                for v, e in self._state["keks"].items()
            ],
            "signing_public_key": self.public_key_pem(),
        }


def _overwrite_and_unlink(path: Path) -> None:
    """Best-effort overwrite before unlinking (no guarantee on SSD/CoW; see docs/security.md)."""
    with contextlib.suppress(OSError):
        size = path.stat().st_size
        with open(path, "r+b") as fh:
            fh.write(secrets.token_bytes(size))
            fh.flush()
            os.fsync(fh.fileno())
    path.unlink(missing_ok=True)
