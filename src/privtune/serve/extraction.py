"""Extraction throttling: keys that probe for training data are slowed down and flagged.

Two probing patterns (Carlini et al. 2021 style attacks) are counted per key in a sliding window:
- near-identical prefixes: the same normalized prompt prefix sent again and again (sampling many
  continuations of one prefix);
- secret-space enumeration: distinct prompts that become equal once digit and hex runs are masked
  (`PIN is 000001`, `PIN is 000002`, ...).
Only keyed hashes of prompt shapes are kept in memory, never prompt text. Over a threshold, each
request is delayed by `delay_seconds` per excess request (capped) and the key is flagged.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field

from privtune.serve.config import ExtractionConfig

_SPACE = re.compile(r"\s+")
_SECRETISH = re.compile(r"\d+|\b[0-9a-f]{6,}\b", re.IGNORECASE)


@dataclass
class Verdict:
    delay: float = 0.0
    flagged: bool = False
    reasons: list[str] = field(default_factory=list)


class ExtractionMonitor:
    def __init__(
        self, cfg: ExtractionConfig, key: bytes, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.cfg, self._key, self.clock = cfg, key, clock
        self._seen: dict[str, deque[tuple[float, str, str, str]]] = {}
        self._lock = threading.Lock()
        self.flags: dict[str, dict[str, object]] = {}

    def _h(self, s: str) -> str:
        return hmac.new(self._key, s.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:24]

    def observe(self, api_key: str, prompt: str) -> Verdict:
        if not self.cfg.enabled:
            return Verdict()
        c = self.cfg
        norm = _SPACE.sub(" ", prompt).strip().casefold()
        prefix = self._h("p:" + norm[: c.prefix_chars])
        shape = self._h("s:" + _SECRETISH.sub("#", norm))
        full = self._h("f:" + norm)
        now = self.clock()
        with self._lock:
            q = self._seen.setdefault(api_key, deque())
            while q and now - q[0][0] > c.window_seconds:
                q.popleft()
            q.append((now, prefix, shape, full))
            same_prefix = sum(1 for _, p, _, _ in q if p == prefix)
            shapes = Counter(s for _, _, s, _ in q)
            distinct = len({f for _, _, s, f in q if s == shape}) if shapes[shape] > 1 else 1
            v = Verdict()
            excess = 0
            if same_prefix >= c.near_identical:
                v.reasons.append("near_identical_prefixes")
                excess = max(excess, same_prefix - c.near_identical + 1)
            if distinct >= c.enumeration:
                v.reasons.append("secret_enumeration")
                excess = max(excess, distinct - c.enumeration + 1)
            if v.reasons:
                v.flagged = True
                v.delay = min(c.max_delay_seconds, c.delay_seconds * excess)
                rec = self.flags.setdefault(api_key, {"count": 0, "reasons": []})
                rec["count"] = int(rec["count"]) + 1  # type: ignore[call-overload]
                rec["reasons"] = sorted(set(rec["reasons"]) | set(v.reasons))  # type: ignore[arg-type]
                rec["last"] = time.time()
            return v
