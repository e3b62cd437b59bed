"""NER backend interface and the gate that decides which texts can hold a name or a place."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol

from privtune.errors import ConfigError
from privtune.pii.gazetteer import STOPWORDS, first_names, fold, last_names
from privtune.pii.span import Span

# A capitalized word that is not the first word of a sentence, or two upper-case words in a row
# (all-caps names). Text with neither (lower-case chat, numbers, most code) cannot hold a proper name
# that a cased model would find, so NER is skipped there.
_CAP_WORD = re.compile(r"(?<![.!?:;>#*\n]\s)(?<![.!?\n\"'(])(?<!^)\b[A-Z][a-z]+(?:[-'][A-Za-z]+)?\b")
_CAPS_PAIR = re.compile(r"\b[A-Z]{2,}\s+[A-Z]{2,}\b")
_CODE_LINE = re.compile(
    r"^\s*(?:def|class|import|from|return|if|elif|for|while|function|var|const|let|public|private|#include|@\w+)\b"
    r"|[;{}]\s*$|^\s*[\w.\[\]]+\s*[+\-*/]?=[^=]|^\s*(?://|#|/\*|\*)"
)
_PLAIN_ALPHA = re.compile(r"^[A-Za-zÀ-ÿ][A-Za-zÀ-ÿ'’.\- ]*[A-Za-zÀ-ÿ.]$")


def worth_ner(text: str) -> bool:
    """Whether any line of `text` could contain a proper name (cheap; run before the model)."""
    if not text:
        return False
    for line in text.splitlines():
        if len(line) < 3 or _CODE_LINE.search(line):
            continue
        if _CAP_WORD.search(line, 1) or _CAPS_PAIR.search(line):
            return True
    return False


def plausible_entity(value: str, entity_type: str) -> bool:
    """Drop model spans that cannot be a person or place name: digits, symbols, all lower case."""
    if not _PLAIN_ALPHA.match(value):
        return False
    if value.islower():
        return False
    words = value.split()
    if all(fold(w) in STOPWORDS for w in words):  # "Danke", "Gracias", "Order": greetings and labels
        return False
    if entity_type == "PERSON" and len(words) == 1 and value.isupper() and fold(value) not in last_names() \
            and fold(value) not in first_names():  # "ECONNRESET", "BRT": codes, not people
        return False
    if entity_type == "PERSON":
        return any(w[:1].isupper() for w in value.split())
    return True


class NerBackend(Protocol):
    name: str
    version: str

    def entities(self, texts: Sequence[str]) -> dict[int, list[Span]]:
        """Spans per text index (texts skipped by the gate are absent)."""
        ...


# -- local model directories (hf:, gliner:) ----------------------------------------------------
_hash_cache: dict[tuple[str, int, int], str] = {}


def local_model_dir(model: str, kind: str, example: str) -> Path:
    """The directory a `prefix:<dir>` model names; ConfigError when it is missing or not a folder."""
    prefix, _, raw = model.strip().partition(":")
    raw = raw.strip()
    if not raw:
        raise ConfigError(f"pii.ner.model: `{prefix}:` needs a local model directory, e.g. {example}")
    d = Path(raw).expanduser()
    if not d.is_dir():
        raise ConfigError(f"pii.ner.model: {kind} model directory {str(d)!r} does not exist")
    return d


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, cached by (path, size, mtime): hashing GBs of weights takes seconds, and
    scan workers inherit the cache."""
    from privtune.fsutil import sha256_file  # imported here: the scan path does not need it

    st = path.stat()
    key = (str(path.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _hash_cache:
        _hash_cache[key] = sha256_file(path)
    return _hash_cache[key]


def files_digest(paths: Iterable[Path]) -> str:
    """12 hex of a SHA-256 over the files' names and contents: the model version's suffix, which
    changes whenever a file that changes the output does."""
    h = hashlib.sha256()
    for p in paths:
        h.update(f"{p.name}\0{file_sha256(p)}\n".encode())
    return h.hexdigest()[:12]
