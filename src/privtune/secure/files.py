"""File-level encryption for `privtune encrypt|decrypt` and re-wrapping after key rotation."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from privtune.errors import InputError, IntegrityError, KeyUnavailable
from privtune.fsutil import atomic_writer
from privtune.secure.envelope import EnvelopeCipher, is_encrypted, read_header, rewrap_file
from privtune.secure.keys.base import KeyProvider

_BLOCK = 1 << 20


def _check_paths(src: Path, dst: Path, force: bool) -> None:
    if not src.is_file():
        raise InputError(f"{src}: input file not found")
    if dst.exists() and dst.resolve() == src.resolve():
        raise InputError(f"{dst}: output must differ from the input")
    if dst.exists() and not force:
        raise InputError(f"{dst}: output exists (pass --force to replace it)")


def encrypt_file(
    src: Path, dst: Path, cipher: EnvelopeCipher, name: str | None = None, force: bool = False
) -> str:
    """Encrypt `src` to `dst` atomically, bound to `name` (default: the input's file name)."""
    _check_paths(src, dst, force)
    name = name or src.name
    with open(src, "rb") as fin:
        if is_encrypted(fin.read(len(b"\x89PTENC\r\n"))):
            raise InputError(f"{src}: already encrypted")
        fin.seek(0)
        with atomic_writer(dst) as raw:
            w = cipher.encrypting_writer(raw, name)
            shutil.copyfileobj(fin, w, _BLOCK)
            w.close()
    return name


def decrypt_file(
    src: Path, dst: Path, cipher: EnvelopeCipher, name: str | None = None, force: bool = False
) -> str:
    """Decrypt `src` to `dst` (0600) atomically; nothing is written unless every chunk authenticates.

    With `name`, the file must have been encrypted as that name (detects swapped files).
    """
    _check_paths(src, dst, force)
    with open(src, "rb") as raw:
        hdr, _ = read_header(raw, str(src))
        raw.seek(0)
        bound = hdr["name"]
        if name is not None and name != bound:
            raise IntegrityError(f"{src}: was encrypted as {bound!r}, not {name!r} (swapped or renamed file)")
        try:
            reader = io.BufferedReader(cipher.decrypting_reader(raw, bound), buffer_size=_BLOCK)
            with atomic_writer(dst) as out:
                shutil.copyfileobj(reader, out, _BLOCK)
        except (IntegrityError, KeyUnavailable) as exc:
            raise type(exc)(f"{src}: {exc}") from None
    return bound


def rewrap_tree(paths: list[Path], provider: KeyProvider) -> tuple[int, int]:
    """Re-wrap every encrypted file under `paths` to the current key; returns (rewrapped, unchanged).

    Artifacts in a run directory keep their run.json entry consistent (stored hash, key id).
    """
    from privtune.fsutil import sha256_file
    from privtune.rundir import RunDir

    done = same = 0
    for root in paths:
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        run = RunDir(root, create=False) if (root / "run.json").is_file() else None
        for f in files:
            with open(f, "rb") as fh:
                if not is_encrypted(fh.read(8)):
                    continue
            rel = f.relative_to(root).as_posix() if run else None
            with open(f, "rb") as fh:
                bound = read_header(fh, str(f))[0]["name"]
            if rewrap_file(f, provider, rel or bound):
                done += 1
                if run and rel:
                    with run.update() as data:
                        info = data["artifacts"].get(rel)
                        if info is not None:
                            info.update(sha256=sha256_file(f), key_id=provider.key_id)
            else:
                same += 1
    return done, same
