"""Keyed fingerprints of detected values: HMAC-SHA256(key, entity type + normalized value).

Findings and the training "PII fingerprint set" hold only these, never values. Audit and serving
recognise regurgitated training PII by fingerprinting what they see with the same key
(`find_leaks`), without any copy of the data.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from typing import Any

from privtune.pii.normalize import normalize

FINGERPRINT_ARTIFACT = "scan/fingerprints.json"
KEY_PURPOSE = "pii-fingerprint"
#: Types found by NER (no pattern to re-find them in new text): matched by word n-grams instead.
_NGRAM_TYPES = ("PERSON", "LOCATION", "ORGANIZATION")
_WORD = re.compile(r"[^\W\d_][\w'’.-]*", re.UNICODE)


def fingerprint(key: bytes, entity_type: str, value: str) -> str:
    """Hex HMAC-SHA256 of `type \\x00 normalized value`."""
    msg = entity_type.encode() + b"\x00" + normalize(entity_type, value).encode("utf-8", "surrogatepass")
    return hmac.new(key, msg, hashlib.sha256).hexdigest()


class FingerprintSet:
    """The training fingerprint set: (hex HMAC, entity type) pairs."""

    def __init__(self, entries: Iterable[tuple[str, str]] = ()) -> None:
        self.entries: set[tuple[str, str]] = set(entries)
        self._fps = {fp for fp, _ in self.entries}

    def add(self, fp: str, entity_type: str) -> None:
        self.entries.add((fp, entity_type))
        self._fps.add(fp)

    def __contains__(self, fp: object) -> bool:
        return fp in self._fps

    def __len__(self) -> int:
        return len(self.entries)

    @property
    def types(self) -> set[str]:
        return {t for _, t in self.entries}

    def to_json(self) -> dict[str, Any]:
        return {
            "version": 1,
            "algorithm": "hmac-sha256",
            "key_purpose": KEY_PURPOSE,
            "count": len(self.entries),
            "entries": [{"fp": fp, "type": t} for fp, t in sorted(self.entries)],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FingerprintSet:
        return cls((e["fp"], e["type"]) for e in data.get("entries", []))


def save_fingerprint_set(store: Any, fps: FingerprintSet) -> str:
    return store.write_json(FINGERPRINT_ARTIFACT, fps.to_json(), sensitive=True)


def load_fingerprint_set(store: Any) -> FingerprintSet:
    """The fingerprint set of a run (written by `privtune scan RUN` / `privtune protect RUN`)."""
    return FingerprintSet.from_json(store.read_json(FINGERPRINT_ARTIFACT))


_default_analyzer: Any = None


def _analyzer() -> Any:
    global _default_analyzer
    if _default_analyzer is None:
        from privtune.pii.analyzer import Analyzer
        from privtune.pii.config import PiiConfig

        cfg = PiiConfig(score_threshold=0.3)
        cfg.ner.model = "none"
        _default_analyzer = Analyzer(cfg)
    return _default_analyzer


def _identifying(entity_type: str, value: str) -> bool:
    """False for a lone common given name: alone it identifies nobody (see find_leaks)."""
    if entity_type != "PERSON" or len(value.split()) != 1:
        return True
    from privtune.pii.gazetteer import first_names, fold

    return fold(value.strip(" .,")) not in first_names()


def find_leaks(
    text: str, key: bytes, fingerprint_set: FingerprintSet, analyzer: Any = None
) -> list[tuple[str, int, int]]:
    """(entity_type, start, end) of every value in `text` whose fingerprint is in the set.

    Structured values are re-found by the regex recognizers (a low threshold: a leaked value need
    not sit next to its original context word); names and places by word n-grams (1-4 words). A
    common given name on its own ("Tom") identifies nobody and is what any language model says, so
    a one-word PERSON match counts only when the word is not a common first name.
    """
    if not text or not len(fingerprint_set):
        return []
    an = analyzer or _analyzer()
    hits: dict[tuple[int, int], str] = {}
    for s in an.analyze(text):
        value = text[s.start : s.end]
        if _identifying(s.entity_type, value) and fingerprint(key, s.entity_type, value) in fingerprint_set:
            hits[(s.start, s.end)] = s.entity_type
    ngram_types = [t for t in _NGRAM_TYPES if t in fingerprint_set.types]
    if ngram_types:
        words = [(m.start(), m.end()) for m in _WORD.finditer(text)]
        for i in range(len(words)):
            for n in range(1, 5):
                if i + n > len(words):
                    break
                start, end = words[i][0], words[i + n - 1][1]
                for t in ngram_types:
                    if n == 1 and not _identifying(t, text[start:end]):
                        continue
                    if fingerprint(key, t, text[start:end]) in fingerprint_set:
                        hits[(start, end)] = t
    return [(t, s, e) for (s, e), t in sorted(hits.items())]
