"""ArtifactStore: the only way stages read and write run artifacts.

Every write is atomic (temp file + rename, mode 0600) and recorded in `run.json` with the SHA-256
of the stored bytes and of the content. Sensitive artifacts are encrypted when a cipher is set, so
stages never decide about encryption themselves and never leave plaintext behind by accident.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from privtune.errors import InputError, KeyUnavailable
from privtune.fsutil import atomic_writer, ensure_private_dir, sha256_file
from privtune.rundir import RunDir


class ArtifactCipher(Protocol):
    """Streaming authenticated encryption bound to an artifact name (implemented in secure/)."""

    key_id: str

    def encrypting_writer(self, raw: BinaryIO, artifact: str) -> BinaryIO:
        """Writable object; its close() writes the final authenticated chunk to `raw` (not closing it)."""
        ...

    def decrypting_reader(self, raw: BinaryIO, artifact: str) -> BinaryIO:
        """Readable object yielding plaintext; raises IntegrityError on any tampering."""
        ...

    def is_encrypted(self, head: bytes) -> bool:
        """Whether stored bytes starting with `head` are in this cipher's format."""
        ...


class _HashingWriter(io.RawIOBase):
    """Counts and hashes plaintext on its way to the (possibly encrypting) sink."""

    def __init__(self, sink: BinaryIO) -> None:
        self._sink = sink
        self.sha = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def write(self, b: Any) -> int:
        mv = memoryview(b)
        self.sha.update(mv)
        self.size += mv.nbytes
        self._sink.write(mv)
        return mv.nbytes


class ArtifactStore:
    def __init__(self, run: RunDir, cipher: ArtifactCipher | None = None) -> None:
        self.run = run
        self.cipher = cipher

    def path(self, name: str) -> Path:
        p = (self.run.path / name).resolve()
        if self.run.path.resolve() not in p.parents:
            raise ValueError(f"artifact name escapes the run directory: {name!r}")
        return p

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    @contextlib.contextmanager
    def writer(self, name: str, sensitive: bool = True) -> Iterator[BinaryIO]:
        """Stream an artifact; it appears (atomically) only if the block exits without error."""
        target = self.path(name)
        ensure_private_dir(target.parent)
        encrypt = sensitive and self.cipher is not None
        with atomic_writer(target) as raw:
            sink: BinaryIO = self.cipher.encrypting_writer(raw, name) if encrypt else raw  # type: ignore[union-attr]
            hashing = _HashingWriter(sink)
            buffered = io.BufferedWriter(hashing, buffer_size=1 << 20)
            yield buffered  # type: ignore[misc]
            buffered.flush()
            if encrypt:
                sink.close()
        self.run.record_artifact(
            name,
            {
                "sha256": sha256_file(target),
                "content_sha256": hashing.sha.hexdigest(),
                "bytes": hashing.size,
                "sensitive": sensitive,
                "encrypted": encrypt,
                "key_id": self.cipher.key_id if encrypt else None,  # type: ignore[union-attr]
            },
        )

    def write(self, name: str, data: bytes | Iterable[bytes], sensitive: bool = True) -> str:
        with self.writer(name, sensitive=sensitive) as fh:
            if isinstance(data, bytes | bytearray | memoryview):
                fh.write(data)
            else:
                for chunk in data:
                    fh.write(chunk)
        return self.hash(name)

    def write_json(self, name: str, obj: Any, sensitive: bool = False) -> str:
        return self.write(name, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode(), sensitive)

    def open(self, name: str) -> BinaryIO:
        """Plaintext reader (decrypting in memory when the artifact is encrypted)."""
        p = self.path(name)
        try:
            raw = open(p, "rb")  # noqa: SIM115 - returned to the caller
        except FileNotFoundError:
            raise InputError(f"{self.run.path}: missing artifact {name}") from None
        head = raw.read(16)
        raw.seek(0)
        if self.cipher is not None and self.cipher.is_encrypted(head):
            return io.BufferedReader(self.cipher.decrypting_reader(raw, name), buffer_size=1 << 20)  # type: ignore[arg-type]
        info = self.run.read()["artifacts"].get(name, {})
        if info.get("encrypted") or head.startswith(b"\x89PTENC"):
            raw.close()
            raise KeyUnavailable(f"{name}: artifact is encrypted but no key provider is configured")
        return raw

    def read_bytes(self, name: str) -> bytes:
        with self.open(name) as fh:
            return fh.read()

    def read_json(self, name: str) -> Any:
        return json.loads(self.read_bytes(name))

    def iter_jsonl(self, name: str) -> Iterator[dict[str, Any]]:
        with self.open(name) as fh:
            for line in fh:
                if line.strip():
                    yield json.loads(line)

    def hash(self, name: str) -> str:
        """SHA-256 of the stored bytes (what a manifest signs)."""
        info = self.run.read()["artifacts"].get(name)
        return info["sha256"] if info else sha256_file(self.path(name))

    def delete(self, name: str) -> None:
        with contextlib.suppress(FileNotFoundError):
            self.path(name).unlink()
        self.run.forget_artifact(name)


def open_store(run: RunDir, security: Any = None) -> ArtifactStore:
    """The store a stage uses: encryption of sensitive artifacts as the `security:` config says.

    Stages call this rather than constructing ArtifactStore, so encryption applies to all of them.
    `security` is a SecurityConfig (None: the defaults, i.e. encryption on with the per-user key
    file, created on first use). The choice is recorded in run.json for the manifest and report.
    """
    from privtune.secure.config import SecurityConfig

    cfg = security if security is not None else SecurityConfig()
    cipher = None
    if cfg.encrypt:
        from privtune.secure.envelope import EnvelopeCipher
        from privtune.secure.keys import load_key_provider

        cipher = EnvelopeCipher(load_key_provider(cfg), chunk_size=cfg.chunk_size)
    _log_stage_events(run, cfg)
    record = {"encrypt": cfg.encrypt, "provider": cfg.provider if cfg.encrypt else None}
    if run.read().get("security") != record:
        with run.update() as data:
            data["security"] = record
    return ArtifactStore(run, cipher)


def _log_stage_events(run: RunDir, security: Any) -> None:
    """Every stage start/finish/failure on this run goes to the tamper-evident audit log."""
    from privtune.secure.auditlog import append_event

    def sink(action: str, artifacts: dict[str, str], outcome: str) -> None:
        # inputs may be user paths: the log keeps identifiers only (see auditlog's token rule)
        names = {_token(k): v for k, v in artifacts.items()}
        append_event(action, None, names, outcome, {"run": _token(run.path.name)}, security=security)

    run.event_sink = sink


def _token(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.:/@+-]", "_", text)[-200:] or "_"
