"""Envelope encryption: a fresh AES-256 data key per artifact, content in authenticated chunks.

File layout (version 1)::

    MAGIC (8 bytes) | header length (u32, big-endian) | header (JSON) | chunk 0 | chunk 1 | ... | final chunk

The header holds the format, chunk size, the wrapping key's id, the data key wrapped by the key
provider, a random 7-byte nonce prefix and the artifact name the content is bound to. Each chunk is
AES-256-GCM over `chunk` plaintext bytes (the final one over 0..chunk bytes) with the STREAM
construction's nonce `prefix | counter (u32) | final flag (u8)` and associated data binding the
artifact name, the chunk index and the final flag. So a flipped byte, reordered or dropped chunks,
a truncated or extended file, and a file renamed to another artifact all fail authentication.
The header itself is not authenticated on purpose: re-wrapping the data key under a rotated key
rewrites only the header; an altered wrapped key cannot yield the data key that opens the chunks.
Memory use is about two chunks whatever the file size.
"""

from __future__ import annotations

import io
import json
import secrets
import struct
from pathlib import Path
from typing import Any, BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from privtune.errors import IntegrityError, KeyUnavailable, PrivtuneError
from privtune.fsutil import atomic_writer
from privtune.secure.keys.base import KeyProvider, b64d, b64e

MAGIC = b"\x89PTENC\r\n"
ALG = "AES-256-GCM/STREAM/v1"
TAG = 16
MAX_HEADER = 64 << 10
DEFAULT_CHUNK = 1 << 20


def _aad(name: bytes, index: int, final: bool) -> bytes:
    return b"privtune-enc-v1|" + struct.pack(">H", len(name)) + name + struct.pack(">QB", index, final)


def _nonce(prefix: bytes, index: int, final: bool) -> bytes:
    if index >= 1 << 32:
        raise PrivtuneError("artifact too large for one encrypted stream (2^32 chunks)")
    return prefix + struct.pack(">IB", index, final)


def is_encrypted(head: bytes) -> bool:
    return head[: len(MAGIC)] == MAGIC


def read_header(raw: BinaryIO, artifact: str) -> tuple[dict[str, Any], int]:
    """Parse the header; returns it and the header's total length in bytes."""
    head = raw.read(len(MAGIC) + 4)
    if len(head) < len(MAGIC) + 4 or not is_encrypted(head):
        raise IntegrityError(f"{artifact}: not a privtune-encrypted file (bad magic or truncated header)")
    (n,) = struct.unpack(">I", head[len(MAGIC) :])
    if n > MAX_HEADER:
        raise IntegrityError(f"{artifact}: corrupt encryption header (length {n})")
    body = raw.read(n)
    try:
        hdr = json.loads(body)
        if hdr["alg"] != ALG:
            raise IntegrityError(f"{artifact}: unsupported encryption format {hdr['alg']!r}")
        chunk = int(hdr["chunk"])
        if not 1 <= chunk <= 256 << 20 or len(b64d(hdr["nonce_prefix"])) != 7:
            raise ValueError("chunk")
        b64d(hdr["wrapped"])
        str(hdr["name"])
    except (ValueError, KeyError, TypeError):
        raise IntegrityError(f"{artifact}: corrupt encryption header") from None
    return hdr, len(head) + n


def _header_bytes(hdr: dict[str, Any]) -> bytes:
    body = json.dumps(hdr, sort_keys=True).encode()
    return MAGIC + struct.pack(">I", len(body)) + body


class EncryptingWriter(io.RawIOBase):
    """Buffers at most one chunk; close() writes the final chunk to `raw` without closing `raw`."""

    def __init__(self, raw: BinaryIO, data_key: bytes, header: dict[str, Any]) -> None:
        self._raw = raw
        self._aead = AESGCM(data_key)
        self._chunk = int(header["chunk"])
        self._prefix = b64d(header["nonce_prefix"])
        self._name = header["name"].encode()
        self._buf = bytearray()
        self._out = bytearray(self._chunk + TAG)
        self._index = 0
        raw.write(_header_bytes(header))

    def writable(self) -> bool:
        return True

    def _emit(self, data: Any, final: bool) -> None:
        out = memoryview(self._out)[: len(data) + TAG]
        self._aead.encrypt_into(
            _nonce(self._prefix, self._index, final), data, _aad(self._name, self._index, final), out
        )
        self._raw.write(out)
        self._index += 1

    def write(self, b: Any) -> int:
        if self.closed:
            raise ValueError("write to closed encrypting writer")
        mv = memoryview(b).cast("B")
        n, pos, chunk = len(mv), 0, self._chunk
        while pos < n:
            if len(self._buf) == chunk:  # more data follows, so the pending chunk is not the last
                self._emit(self._buf, final=False)
                self._buf.clear()
            if not self._buf and n - pos > chunk:  # large write: encrypt straight from the caller's buffer
                self._emit(mv[pos : pos + chunk], final=False)
                pos += chunk
                continue
            take = min(chunk - len(self._buf), n - pos)
            self._buf += mv[pos : pos + take]
            pos += take
        return n

    def close(self) -> None:
        if not self.closed:
            self._emit(self._buf, final=True)
            self._buf = bytearray()
        super().close()


class DecryptingReader(io.RawIOBase):
    """Plaintext reader over an encrypted stream; raises IntegrityError naming the artifact on tampering."""

    def __init__(self, raw: BinaryIO, data_key: bytes, header: dict[str, Any], artifact: str) -> None:
        self._raw = raw
        self._aead = AESGCM(data_key)
        self._chunk = int(header["chunk"])
        self._prefix = b64d(header["nonce_prefix"])
        self._name = header["name"].encode()
        self._artifact = artifact
        self._index = 0
        self._plain = memoryview(b"")
        self._done = False
        self._lookahead = b""

    def readable(self) -> bool:
        return True

    def _read_exact(self, n: int) -> bytes:
        parts, got = [self._lookahead], len(self._lookahead)
        self._lookahead = b""
        while got < n:
            b = self._raw.read(n - got)
            if not b:
                break
            parts.append(b)
            got += len(b)
        return b"".join(parts)

    def _fail(self, what: str) -> IntegrityError:
        return IntegrityError(f"{self._artifact}: integrity check failed at chunk {self._index} ({what})")

    def _next_chunk(self) -> None:
        size = self._chunk + TAG
        ct = self._read_exact(size)
        final = len(ct) < size
        if not final:
            self._lookahead = self._raw.read(1)
            final = not self._lookahead
        if len(ct) < TAG:
            raise self._fail("file truncated")
        try:
            pt = self._aead.decrypt(
                _nonce(self._prefix, self._index, final), ct, _aad(self._name, self._index, final)
            )
        except InvalidTag:
            raise self._fail(self._diagnose(ct, final)) from None
        self._plain = memoryview(pt)
        self._index += 1
        self._done = final

    def _diagnose(self, ct: bytes, final: bool) -> str:
        """Tell truncation/extension apart from tampering, for a clearer message."""
        try:
            self._aead.decrypt(
                _nonce(self._prefix, self._index, not final), ct, _aad(self._name, self._index, not final)
            )
        except InvalidTag:
            return "tampered, reordered, wrong key or renamed artifact"
        return (
            "file truncated: the final chunk is missing" if final else "data appended after the final chunk"
        )

    def readinto(self, b: Any) -> int:
        out = memoryview(b).cast("B")
        while not self._plain and not self._done:
            self._next_chunk()
        n = min(len(out), len(self._plain))
        out[:n] = self._plain[:n]
        self._plain = self._plain[n:]
        return n

    def close(self) -> None:
        self._plain = memoryview(b"")
        super().close()


class EnvelopeCipher:
    """ArtifactCipher (see store.py) backed by a KeyProvider: one fresh data key per artifact."""

    def __init__(self, provider: KeyProvider, chunk_size: int = DEFAULT_CHUNK) -> None:
        self.provider = provider
        self.chunk_size = chunk_size

    @property
    def key_id(self) -> str:
        return self.provider.key_id

    def is_encrypted(self, head: bytes) -> bool:
        return is_encrypted(head)

    def encrypting_writer(self, raw: BinaryIO, artifact: str) -> EncryptingWriter:
        data_key = AESGCM.generate_key(256)
        header = {
            "alg": ALG,
            "chunk": self.chunk_size,
            "key_id": self.provider.key_id,
            "wrapped": b64e(self.provider.wrap(data_key)),
            "nonce_prefix": b64e(secrets.token_bytes(7)),
            "name": artifact,
        }
        return EncryptingWriter(raw, data_key, header)

    def decrypting_reader(self, raw: BinaryIO, artifact: str) -> DecryptingReader:
        hdr, _ = read_header(raw, artifact)
        if hdr["name"] != artifact:
            raise IntegrityError(
                f"{artifact}: this file was encrypted as artifact {hdr['name']!r} (renamed or swapped file)"
            )
        try:
            data_key = self.provider.unwrap(b64d(hdr["wrapped"]))
        except (KeyUnavailable, IntegrityError) as exc:
            raise KeyUnavailable(
                f"{artifact}: cannot unwrap its data key (key {hdr['key_id']}): {exc}"
            ) from None
        if len(data_key) != 32:
            raise KeyUnavailable(f"{artifact}: unwrapped data key has the wrong length")
        return DecryptingReader(raw, data_key, hdr, artifact)


def rewrap_file(path: Path, provider: KeyProvider, artifact: str | None = None) -> bool:
    """Re-wrap the data key under the provider's current key; the content chunks are copied unchanged.

    Returns False when the file is already wrapped by the current key. Atomic.
    """
    label = artifact or str(path)
    with open(path, "rb") as raw:
        hdr, hlen = read_header(raw, label)
        if hdr["key_id"] == provider.key_id:
            return False
        try:
            data_key = provider.unwrap(b64d(hdr["wrapped"]))
        except (KeyUnavailable, IntegrityError) as exc:
            raise KeyUnavailable(
                f"{label}: cannot unwrap its data key (key {hdr['key_id']}): {exc}"
            ) from None
        hdr.update(key_id=provider.key_id, wrapped=b64e(provider.wrap(data_key)))
        raw.seek(hlen)
        with atomic_writer(path) as out:
            out.write(_header_bytes(hdr))
            while block := raw.read(1 << 20):
                out.write(block)
    return True
