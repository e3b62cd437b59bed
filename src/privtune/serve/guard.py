"""Output guard: every generated text is scanned before it leaves the server.

Per detected span the policy decides: `placeholder` ([EMAIL_ADDRESS]), `redact` ([REDACTED]),
`block` (the response ends before the span, finish_reason `content_filter`) or `allow`. Values
whose keyed fingerprint is in the run's training PII set, and canary secrets, are always blocked:
the server recognises what the model must never say without holding a copy of it.

`StreamGuard` makes streaming safe with a hold-back buffer: text is released only once it lies
`holdback` characters behind the generation front, so any span up to that length is complete (and
handled) before its first character could be sent. Non-streaming responses use the same class,
fed once, so both modes give the same output.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from privtune.pii.fingerprints import FingerprintSet, find_leaks
from privtune.serve.config import GuardConfig


@dataclass(frozen=True)
class Finding:
    start: int
    end: int
    entity_type: str
    action: str
    source: str  # scanner | training_pii | canary

    def to_json(self) -> dict[str, Any]:
        return {
            "entity_type": self.entity_type,
            "action": self.action,
            "source": self.source,
            "length": self.end - self.start,
        }


class CanaryMatcher:
    """Keyed hashes of canary secrets; finds any substring equal to one (secrets are not kept)."""

    def __init__(self, spec: dict[str, Any] | None, key: bytes) -> None:
        self._key = key
        self._hashes: set[str] = set()
        self.lengths: set[int] = set()
        self.alphabet: frozenset[str] = frozenset()
        if spec:
            self.alphabet = frozenset(spec.get("alphabet", ""))
            for c in spec.get("canaries", []):
                self._hashes.add(self._h(c["secret"]))
                self.lengths.add(len(c["secret"]))

    def _h(self, s: str) -> str:
        return hmac.new(self._key, s.encode(), hashlib.sha256).hexdigest()

    def __len__(self) -> int:
        return len(self._hashes)

    def find(self, text: str) -> list[tuple[int, int]]:
        if not self._hashes:
            return []
        out = []
        runs, start = [], None
        for i, ch in enumerate(text + "\x00"):
            if ch in self.alphabet:
                start = i if start is None else start
            elif start is not None:
                runs.append((start, i))
                start = None
        for a, b in runs:
            for n in self.lengths:
                for s in range(a, b - n + 1):
                    if self._h(text[s : s + n]) in self._hashes:
                        out.append((s, s + n))
        return out


class _Spans:
    """Hands already computed scanner spans to `find_leaks` (which takes an analyzer)."""

    def __init__(self, spans: list[Any]) -> None:
        self.spans = spans

    def analyze(self, _text: str) -> list[Any]:
        return self.spans


class OutputGuard:
    """Stateless inspection of one text: findings with their actions."""

    def __init__(
        self,
        cfg: GuardConfig,
        analyzer: Any,
        fp_key: bytes | None,
        fingerprints: FingerprintSet | None,
        canaries: CanaryMatcher | None = None,
    ) -> None:
        self.cfg = cfg
        self.analyzer = analyzer
        self.fp_key = fp_key
        self.fingerprints = fingerprints or FingerprintSet()
        self.canaries = canaries

    def action_for(self, entity_type: str) -> str:
        return self.cfg.actions.get(entity_type, self.cfg.default_action)

    def inspect(self, text: str) -> list[Finding]:
        """Findings in `text`; the scanner runs once and its spans feed the fingerprint check too."""
        spans = self.analyzer.analyze(text)
        found: list[Finding] = []
        if self.fp_key is not None and len(self.fingerprints):
            for etype, s, e in find_leaks(text, self.fp_key, self.fingerprints, _Spans(spans)):
                found.append(Finding(s, e, etype, "block", "training_pii"))
        if self.canaries is not None:
            found += [Finding(s, e, "CANARY", "block", "canary") for s, e in self.canaries.find(text)]
        for sp in spans:
            if sp.score >= self.cfg.score_threshold:
                found.append(
                    Finding(sp.start, sp.end, sp.entity_type, self.action_for(sp.entity_type), "scanner")
                )
        return [f for f in found if f.action != "allow"]

    def stream(self) -> StreamGuard:
        return StreamGuard(self, self.cfg.holdback_chars)


def replacement(f: Finding) -> str:
    return "[REDACTED]" if f.action == "redact" else f"[{f.entity_type}]"


@dataclass
class StreamGuard:
    """Incremental filter: `feed(delta)` returns text safe to send now, `finish()` the rest."""

    guard: OutputGuard
    holdback: int
    text: str = ""
    done: int = 0
    blocked: bool = False
    findings: list[Finding] = field(default_factory=list)
    _replaced_to: int = -1

    def _snap(self, bound: int) -> int:
        """Release only up to whitespace: a value without spaces (email, key, URL) is never split,
        whatever its length, unless no space occurs for another `holdback` characters."""
        if bound <= self.done:
            return bound
        cut = max(self.text.rfind(" ", self.done, bound), self.text.rfind("\n", self.done, bound))
        if cut > self.done:
            return cut
        return self.done if bound - self.done <= self.holdback else bound

    def feed(self, delta: str) -> str:
        self.text += delta
        return self._advance(final=False)

    def finish(self) -> str:
        return self._advance(final=True)

    def feed_all(self, pieces: Iterable[str]) -> str:
        self.text += "".join(pieces)
        return self._advance(final=True)

    @property
    def changed(self) -> bool:
        return bool(self.findings)

    def _advance(self, final: bool) -> str:
        if self.blocked:
            return ""
        end = len(self.text)
        bound = end if final else self._snap(end - self.holdback)
        if bound <= self.done:
            return ""
        w0 = max(0, self.done - self.holdback)
        found = sorted(
            (
                Finding(f.start + w0, f.end + w0, f.entity_type, f.action, f.source)
                for f in self.guard.inspect(self.text[w0:])
            ),
            key=lambda f: (f.start, -(f.end - f.start)),
        )
        live = [f for f in found if f.end > self.done and f.start < max(bound, self.done + 1)]
        blocks = [f for f in live if f.action == "block"]
        if blocks:
            first = min(blocks, key=lambda f: f.start)
            live = [f for f in live if f.start < first.start]
        out, pos = [], self.done
        for f in live:
            s = max(f.start, self.done)
            if s < pos:  # overlaps a span already replaced
                continue
            out.append(self.text[pos:s])
            # the tail of a value already replaced (it outgrew the buffer) is dropped, not marked twice
            out.append("" if f.start < self.done == self._replaced_to else replacement(f))
            self.findings.append(f)
            pos = f.end
            self._replaced_to = f.end
            bound = max(bound, f.end)
        if blocks:
            s = max(first.start, pos)
            out.append(self.text[pos:s])
            self.findings.append(first)
            self.blocked = True
            self.done = end
            return "".join(out)
        out.append(self.text[pos:bound])
        self.done = max(bound, pos)
        return "".join(out)
