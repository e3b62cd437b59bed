"""Refuse pickle-based checkpoints: loading one can execute arbitrary code from the file.

Models load from safetensors only. `require_safetensors` accepts a `.safetensors` file (or a
folder whose weights are all safetensors) after checking its header, and refuses pickle formats
(`.bin`, `.pt`, `.pth`, `.ckpt`, `.pkl`, zip-packed torch saves) with an explanation.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

from privtune.errors import InputError

PICKLE_SUFFIXES = {".bin", ".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".joblib"}
_WHY = (
    "pickle-based checkpoints can run arbitrary code when loaded; privtune loads safetensors only. "
    "Convert it once in a trusted, isolated environment (e.g. `safetensors.torch.save_file`)"
)


def _looks_pickled(head: bytes) -> bool:
    return (head[:1] == b"\x80" and head[1:2] in (b"\x02", b"\x03", b"\x04", b"\x05")) or head[:2] == b"PK"


def _check_file(path: Path) -> None:
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise InputError(f"{path}: refused: {_WHY}")
    with open(path, "rb") as fh:
        head = fh.read(8)
        if len(head) < 8:
            raise InputError(f"{path}: not a safetensors file (too short)")
        (n,) = struct.unpack("<Q", head)
        try:
            if n > 100 << 20:
                raise ValueError
            header = json.loads(fh.read(n))
            if not isinstance(header, dict):
                raise ValueError
        except (ValueError, UnicodeDecodeError):
            if _looks_pickled(head):
                raise InputError(f"{path}: refused: {_WHY}") from None
            raise InputError(f"{path}: not a safetensors file (bad header)") from None


def require_safetensors(path: str | Path) -> Path:
    """Return `path` if it is (or only contains) safetensors weights; InputError otherwise."""
    p = Path(path)
    if p.is_dir():
        pickled = sorted(f for f in p.iterdir() if f.suffix.lower() in PICKLE_SUFFIXES)
        if pickled:
            raise InputError(f"{pickled[0]}: refused: {_WHY}")
        weights = sorted(p.glob("*.safetensors"))
        if not weights:
            raise InputError(f"{p}: no .safetensors weights found")
        for w in weights:
            _check_file(w)
        return p
    if not p.is_file():
        raise InputError(f"{p}: checkpoint not found")
    _check_file(p)
    return p
