"""NER backend interface and the gate that decides which texts can hold a name or a place."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

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
