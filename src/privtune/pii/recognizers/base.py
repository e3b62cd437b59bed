"""The recognizer interface and the pattern recognizer every built-in family is made of.

A pattern recognizer is: regexes with base scores, context words (matched as whole words near the
match), an optional validator (checksum, range rules) and a cheap prefilter so that most texts skip
the regex entirely. Context words are whole-word matches on purpose: substring context ("dl" inside
"handle") is a known source of false positives in other tools.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from privtune.pii.span import Span

#: Text features computed once per text and shared by all prefilters.
DIGIT = "digit"
AT = "at"
ANY = "any"


@runtime_checkable
class Recognizer(Protocol):
    name: str
    entity_types: tuple[str, ...]
    #: Which cheap text feature must be present for this recognizer to run (`digit`, `at`, `any`).
    needs: str

    def analyze(self, text: str) -> list[Span]: ...


def context_regex(words: Sequence[str]) -> re.Pattern[str] | None:
    """One case-insensitive whole-word alternation for a recognizer's context words."""
    if not words:
        return None
    alts = sorted({re.escape(w.lower()).replace(r"\ ", r"\s+") for w in words}, key=len, reverse=True)
    return re.compile(r"(?<![\w])(?:" + "|".join(alts) + r")(?![\w])", re.IGNORECASE)


def context_gap(ctx: re.Pattern[str] | None, text: str, start: int, end: int, before: int, after: int) -> int | None:
    """Characters between the span and the nearest whole-word context word in the window, or None."""
    if ctx is None:
        return None
    gap = None
    for m in ctx.finditer(text, max(0, start - before), start):
        gap = start - m.end()
    stop = min(len(text), end + after)
    m = ctx.search(text, end, stop)
    # endpos truncates the text, so a match ending exactly at `stop` may be part of a longer word
    if m and (m.end() < stop or stop == len(text) or not text[stop].isalnum()):
        gap = min(gap, m.start() - end) if gap is not None else m.start() - end
    return gap


def has_context(ctx: re.Pattern[str] | None, text: str, start: int, end: int, before: int, after: int) -> bool:
    """Whether a context word occurs as a whole word within `before`/`after` characters of the span."""
    return context_gap(ctx, text, start, end, before, after) is not None


Validator = Callable[[str], "bool | None"]


@dataclass
class PatternRecognizer:
    """Regexes + context + validator. `validate(value)` returns True (certain: score 1.0), False
    (reject) or None (keep the base score)."""

    name: str
    entity_type: str
    patterns: Sequence[tuple[str, float]]
    context: Sequence[str] = ()
    validate: Validator | None = None
    needs: str = ANY
    group: int | str = 0
    flags: int = 0
    context_boost: float = 0.35
    before: int = 48
    after: int = 24
    #: The base score cannot pass without context: skip the regexes when no context word is in the text.
    requires_context: bool = False
    entity_types: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.entity_types = (self.entity_type,)
        self._compiled = [(re.compile(p, self.flags), s) for p, s in self.patterns]
        self._ctx = context_regex(self.context)

    def analyze(self, text: str) -> list[Span]:
        out: list[Span] = []
        if self.requires_context and (self._ctx is None or not self._ctx.search(text)):
            return out
        for rx, base in self._compiled:
            for m in rx.finditer(text):
                start, end = m.span(self.group)
                if start < 0 or start == end:
                    continue
                score = base
                if self.validate is not None:
                    verdict = self.validate(text[start:end])
                    if verdict is False:
                        continue
                    if verdict is True:
                        score = 1.0
                if score < 1.0:
                    gap = context_gap(self._ctx, text, start, end, self.before, self.after)
                    if gap is not None:  # nearer context counts more: the closest label wins a tie
                        score = min(1.0, score + self.context_boost - 0.1 * gap / self.before)
                out.append(Span(start, end, self.entity_type, score, self.name))
        return out
