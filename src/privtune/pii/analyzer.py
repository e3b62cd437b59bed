"""Run the recognizers (and optionally NER) over texts and merge overlapping spans deterministically.

Speed: each text's cheap features (has a digit, has an `@`) are computed once, and recognizers that
need a feature the text lacks are skipped; most prose runs only a handful of regexes. A recognizer
with an expensive validator (phone numbers) runs last and is told which ranges already hold a certain
span (score 1.0) of a type that outranks it: a candidate on exactly such a range can never be kept by
`resolve_overlaps`, so it is not validated at all.
With the prefilter (`privtune.pii.prefilter`, Hyperscan) one pass over a text first tells which
built-in patterns can match at all; recognizers none of whose patterns can are not called.
NER runs batched over the texts the gate lets through (see `ner.gate`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from privtune.pii.config import PiiConfig
from privtune.pii.recognizers import Recognizer, build_recognizers
from privtune.pii.recognizers.base import ANY, AT, DIGIT, set_prefilter_hits
from privtune.pii.span import Span

_DIGIT_RE = re.compile(r"\d")


def resolve_overlaps(spans: Sequence[Span]) -> list[Span]:
    """Non-overlapping spans: higher score wins, then the longer span, then position, type and name.

    The tie-break order is total, so the result never depends on recognizer order or worker count.
    """
    ranked = sorted(spans, key=lambda s: (-s.score, -(s.end - s.start), s.start, s.entity_type, s.recognizer))
    kept: list[Span] = []
    for s in ranked:
        for k in kept:  # a plain loop: about twice as fast as all() over a generator for a few spans
            if s.end > k.start and s.start < k.end:
                break
        else:
            kept.append(s)
    kept.sort(key=lambda s: (s.start, s.end))
    return kept


class Analyzer:
    """Recognizers + optional NER backend -> merged spans per text."""

    def __init__(self, cfg: PiiConfig, ner: Any = None) -> None:
        self.cfg = cfg
        self.recognizers: list[Recognizer] = build_recognizers(cfg)
        self.ner = ner
        self.threshold = cfg.score_threshold
        self.allow = {a.casefold() for a in cfg.allow_list}
        builtin = set(cfg.entities)
        custom = {c.entity_type for c in cfg.custom}
        self.wanted = builtin | custom
        self.prefilter = self._build_prefilter() if cfg.prefilter == "auto" else None
        #: (recognizer, prefilter ids of all its patterns or None when one of them always runs)
        self._by_need: dict[str, list[tuple[Recognizer, frozenset[int] | None]]] = {ANY: [], DIGIT: [], AT: []}
        #: recognizers taking `claimed` ranges: run after the others (see the module docstring)
        self._last: list[Any] = []
        for r in self.recognizers:
            if getattr(r, "takes_claimed", False):
                self._last.append(r)
            else:
                # a recognizer all of whose spans come from prefiltered patterns can be skipped
                ids = getattr(r, "prefilter_ids", None)
                complete = getattr(r, "prefilter_complete", True)
                skip = frozenset(ids) if ids and None not in ids and complete else None
                self._by_need.setdefault(r.needs, []).append((r, skip))

    def _build_prefilter(self) -> Any:
        """The Hyperscan prefilter over every built-in pattern, or None without `hyperscan`."""
        from privtune.pii.prefilter import RegexPrefilter, hyperscan_module

        hs = hyperscan_module()
        if hs is None:
            return None
        owners: list[tuple[Any, int]] = []
        patterns: list[tuple[str, int]] = []
        for r in self.recognizers:
            for k, pat in enumerate(getattr(r, "prefilter_patterns", list)()):
                owners.append((r, k))
                patterns.append(pat)
        if not patterns:
            return None
        pf = RegexPrefilter(hs, patterns)
        for g in pf.ids:
            r, k = owners[g]
            r.prefilter_ids[k] = g
        return pf

    def warm_up(self) -> None:
        """Let recognizers do their one-time lazy set-up now (see `PhoneRecognizer.warm_up`)."""
        for r in self.recognizers:
            warm = getattr(r, "warm_up", None)
            if warm is not None:
                warm()

    @property
    def recognizer_names(self) -> list[str]:
        return [r.name for r in self.recognizers]

    def _regex_spans(self, text: str) -> list[Span]:
        spans: list[Span] = []
        hits = self.prefilter.hits(text) if self.prefilter is not None else None
        set_prefilter_hits(text, hits)
        groups = [self._by_need[ANY]]
        if "@" in text:
            groups.append(self._by_need[AT])
        has_digit = _DIGIT_RE.search(text) is not None
        if has_digit:
            groups.append(self._by_need[DIGIT])
        for group in groups:
            for r, ids in group:
                if hits is not None and ids is not None and ids.isdisjoint(hits):
                    continue  # none of its patterns can match
                spans.extend(r.analyze(text))
        for r in self._last:
            if r.needs == ANY or (r.needs == DIGIT and has_digit) or (r.needs == AT and "@" in text):
                spans.extend(r.analyze(text, self._claimed(spans, r.entity_types[0])))
        return spans

    def _claimed(self, spans: list[Span], entity_type: str) -> set[tuple[int, int]]:
        """Ranges of certain wanted spans that outrank any span of `entity_type` on the same range
        (score 1.0 is the maximum, same length and start, then the type name decides)."""
        return {
            (s.start, s.end)
            for s in spans
            if s.score >= 1.0 and s.entity_type < entity_type and s.entity_type in self.wanted
        }

    def _finish(self, text: str, spans: list[Span]) -> list[Span]:
        keep = [s for s in spans if s.score >= self.threshold and s.entity_type in self.wanted]
        if self.allow:
            keep = [s for s in keep if text[s.start : s.end].casefold() not in self.allow]
        return resolve_overlaps(keep)

    def analyze(self, text: str) -> list[Span]:
        return self.analyze_many([text])[0]

    def analyze_many(self, texts: Sequence[str]) -> list[list[Span]]:
        """Spans for each text (regex for all, then one batched NER pass over the gated texts)."""
        found = [self._regex_spans(t) if t else [] for t in texts]
        if self.ner is not None:
            for i, ents in self.ner.entities(texts).items():
                found[i].extend(ents)
        return [self._finish(t, s) for t, s in zip(texts, found, strict=True)]
