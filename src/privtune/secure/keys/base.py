"""The KeyProvider interface every key custody backend implements.

A provider holds a key-encryption key (KEK, possibly in several versions after rotation) that wraps
per-artifact data keys, an Ed25519 signing key for manifests and audit-log checkpoints, and a master
secret from which stable per-purpose secrets are derived (HKDF-SHA256). Rotation adds a KEK version
and keeps the old ones, so artifacts wrapped earlier stay readable until they are re-wrapped.
"""

from __future__ import annotations

import base64
import os
import struct
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from privtune.errors import IntegrityError, KeyUnavailable

WRAP_MAGIC = b"PTWK"
_HKDF_SALT = b"privtune-derived-secret-v1"


def privtune_home() -> Path:
    """Per-user state folder: $PRIVTUNE_HOME, else $XDG_CONFIG_HOME/privtune, else ~/.config/privtune."""
    if os.environ.get("PRIVTUNE_HOME"):
        return Path(os.environ["PRIVTUNE_HOME"]).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "privtune"


def b64e(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def b64d(s: str) -> bytes:
    return base64.b64decode(s.encode("ascii"), validate=True)


def pack_wrapped(version: str, payload: bytes) -> bytes:
    """Wrapped-key blob: magic, the KEK version that wrapped it, then the provider's ciphertext."""
    vid = version.encode()
    return WRAP_MAGIC + struct.pack(">B", len(vid)) + vid + payload


def unpack_wrapped(blob: bytes) -> tuple[str, bytes]:
    if len(blob) < 5 or blob[:4] != WRAP_MAGIC or len(blob) < 5 + blob[4]:
        raise IntegrityError("wrapped data key is malformed")
    n = blob[4]
    return blob[5 : 5 + n].decode(errors="replace"), blob[5 + n :]


def public_pem(pub: Ed25519PublicKey) -> str:
    return pub.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def verify_signature(public_key_pem: str, data: bytes, sig: bytes) -> None:
    """Raise IntegrityError unless `sig` is a valid Ed25519 signature of `data` under the given key."""
    try:
        pub = serialization.load_pem_public_key(public_key_pem.encode())
    except ValueError:
        raise IntegrityError("public key is not a valid PEM Ed25519 key") from None
    if not isinstance(pub, Ed25519PublicKey):
        raise IntegrityError("public key is not an Ed25519 key")
    try:
        pub.verify(sig, data)
    except InvalidSignature:
        raise IntegrityError("signature does not verify") from None


class KeyProvider(ABC):
    """Key custody backend. Subclasses implement wrap/unwrap and supply the signing key and secret."""

    name: str = "abstract"

    @property
    @abstractmethod
    def key_id(self) -> str:
        """Identifier of the current KEK version, e.g. `keyfile:kf-1a2b...` (not secret)."""

    @abstractmethod
    def wrap(self, data_key: bytes) -> bytes:
        """Encrypt a data key under the current KEK version."""

    @abstractmethod
    def unwrap(self, blob: bytes) -> bytes:
        """Recover a data key wrapped by any retained KEK version; KeyUnavailable if it cannot."""

    @abstractmethod
    def _signing_key(self) -> Ed25519PrivateKey: ...

    @abstractmethod
    def _master_secret(self) -> bytes: ...

    @abstractmethod
    def rotate(self) -> str:
        """Create a new KEK version and make it current (old versions stay); return its key id."""

    @abstractmethod
    def destroy(self, version: str | None = None) -> list[str]:
        """Crypto-shred: irrecoverably delete one KEK version, or all key material when None."""

    @abstractmethod
    def describe(self) -> dict[str, Any]:
        """Non-secret facts for `privtune keys show`."""

    def sign(self, data: bytes) -> bytes:
        return self._signing_key().sign(data)

    def verify(self, data: bytes, sig: bytes) -> None:
        try:
            self._signing_key().public_key().verify(sig, data)
        except InvalidSignature:
            raise IntegrityError("signature does not verify with this key provider's signing key") from None

    def public_key_pem(self) -> str:
        return public_pem(self._signing_key().public_key())

    def derived_secret(self, purpose: str) -> bytes:
        """32 secret bytes, stable for (this key, purpose) across KEK rotation."""
        if not purpose:
            raise ValueError("purpose must be a non-empty string")
        hkdf = HKDF(
            algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=b"privtune:" + purpose.encode()
        )
        return hkdf.derive(self._master_secret())


def check_private_file(path: Path, what: str) -> None:
    """Refuse key material that group/others can read or write (a leaked key voids all encryption)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        raise KeyUnavailable(f"{path}: {what} not found") from None
    if st.st_mode & 0o077:
        raise KeyUnavailable(
            f"{path}: {what} is accessible by group/others (mode {st.st_mode & 0o777:o}); "
            f"fix with: chmod 600 {path}"
        )
    if st.st_uid != os.getuid() and os.getuid() != 0:
        raise KeyUnavailable(f"{path}: {what} is owned by another user")
