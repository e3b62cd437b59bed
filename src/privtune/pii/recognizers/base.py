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


#: Characters that `re.IGNORECASE` equates with an ASCII letter although `str.lower` does not.
_FOLD_TRAPS = ("ı", "İ", "ſ")


_last_lowered: tuple[str, str | None] = ("", "")


def lowered(text: str) -> str | None:
    """`text.lower()` for keyword gates, or None where `re` case-folds a character differently from
    `str.lower` (then no gate may say no). The last result is kept: every recognizer asks for it."""
    global _last_lowered
    last = _last_lowered  # one tuple read and one tuple write: safe across threads
    if last[0] is text:
        return last[1]
    low = None if not text.isascii() and any(c in text for c in _FOLD_TRAPS) else text.lower()
    _last_lowered = (text, low)
    return low


_last_hits: tuple[str, set[int] | None] = ("", None)


def set_prefilter_hits(text: str, hits: set[int] | None) -> None:
    """Record which prefiltered patterns may match `text` (see `privtune.pii.prefilter`); the
    recognizers then skip the others. None: no verdict, every pattern runs."""
    global _last_hits
    _last_hits = (text, hits)


def prefilter_hits(text: str) -> set[int] | None:
    last = _last_hits
    return last[1] if last[0] is text else None


def may_match(hits: set[int] | None, pid: int | None) -> bool:
    """Whether the pattern with prefilter id `pid` can match the text `hits` were found in (no
    verdict, or a pattern that is not prefiltered: it can)."""
    return hits is None or pid is None or pid in hits


def may_contain(text: str, keys: Sequence[str], low: str | None = "") -> bool:
    """Whether one of the lower-case literals `keys` occurs in `text` ignoring case.

    A substring test on the lower-cased text costs a fraction of a case-insensitive regex scan, so it
    gates regexes that need one of these literals; it never says no where the regex could match.
    `low`: `lowered(text)` when the caller has it already.
    """
    if low == "":
        low = lowered(text)
    if low is None:
        return True
    for k in keys:  # noqa: SIM110 - a plain loop is about twice as fast as any() over a generator
        if k in low:
            return True
    return False


def context_keys(words: Sequence[str]) -> tuple[str, ...]:
    """Literals one of which any match of `context_regex(words)` contains (first word of each phrase)."""
    return tuple(sorted({w.lower().split()[0] for w in words if w.split()}))


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


def _gate(pattern: tuple) -> tuple[str, ...] | re.Pattern[str]:
    """The gate of a `patterns` entry: keywords as a tuple, a compiled regex, or () for none."""
    if len(pattern) < 3:
        return ()
    return pattern[2] if isinstance(pattern[2], re.Pattern) else tuple(pattern[2])


@dataclass
class PatternRecognizer:
    """Regexes + context + validator. `validate(value)` returns True (certain: score 1.0), False
    (reject) or None (keep the base score)."""

    name: str
    entity_type: str
    #: (regex, base score) or (regex, base score, gate). A gate is a tuple of lower-case literals one of
    #: which every match contains ignoring case, or a compiled regex that finds something in every text
    #: where the pattern matches (a cheap necessary condition); texts failing the gate skip the pattern.
    patterns: Sequence[tuple[str, float] | tuple[str, float, Sequence[str] | re.Pattern[str]]]
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
    #: Lower-case literals one of which every match contains (ignoring case): texts without any skip the
    #: regexes. Empty: always run.
    keywords: Sequence[str] = ()
    #: Whether `privtune.pii.prefilter` may skip these patterns (built-in ones; never user regexes).
    prefilter: bool = True
    entity_types: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.entity_types = (self.entity_type,)
        self._compiled = [(re.compile(p[0], self.flags), p[1], _gate(p)) for p in self.patterns]
        #: prefilter id of each pattern (None: not prefiltered, always runs); set by the analyzer
        self.prefilter_ids: list[int | None] = [None] * len(self._compiled)
        self._ctx = context_regex(self.context)
        self._ctx_keys = context_keys(self.context)

    def prefilter_patterns(self) -> list[tuple[str, int]]:
        """(regex, flags) of each pattern, for `privtune.pii.prefilter` (none for user regexes)."""
        return [(p[0], self.flags) for p in self.patterns] if self.prefilter else []

    def analyze(self, text: str) -> list[Span]:
        out: list[Span] = []
        low = lowered(text)
        if self.keywords and not may_contain(text, self.keywords, low):
            return out
        # the context regex, decided when first needed: None when no context literal is in the text
        # (then no context regex can match and its scans are skipped)
        ctx: re.Pattern[str] | bool | None = False
        if self.requires_context:
            ctx = self._ctx if self._ctx is not None and may_contain(text, self._ctx_keys, low) else None
            if ctx is None or not ctx.search(text):
                return out
        hits = prefilter_hits(text)
        for (rx, base, gate), pid in zip(self._compiled, self.prefilter_ids, strict=True):
            if not may_match(hits, pid):
                continue
            if hits is not None and pid is not None:
                gate = ()  # a gate only skips patterns that cannot match: the prefilter said it may
            if isinstance(gate, re.Pattern):
                if gate.search(text) is None:
                    continue
            elif gate and not may_contain(text, gate, low):
                continue
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
                    if ctx is False:
                        ctx = self._ctx if self._ctx is not None and may_contain(text, self._ctx_keys, low) else None
                    gap = context_gap(ctx, text, start, end, self.before, self.after)  # type: ignore[arg-type]
                    if gap is not None:  # nearer context counts more: the closest label wins a tie
                        score = min(1.0, score + self.context_boost - 0.1 * gap / self.before)
                out.append(Span(start, end, self.entity_type, score, self.name))
        return out
