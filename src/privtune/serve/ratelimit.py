"""Per-key token buckets for requests and generated tokens per minute (-> 429 with Retry-After).

A request takes one request token and reserves its `max_tokens` from the token bucket; the unused
part is refunded after generation, so a key is charged for what it really generated. A reservation
larger than the bucket is capped at the bucket size (a long request is still possible when idle).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from privtune.serve.config import RateLimitConfig


class TokenBucket:
    """Capacity `capacity`, refilled continuously at `rate` per second."""

    def __init__(self, capacity: float, rate: float, now: float) -> None:
        self.capacity, self.rate = capacity, rate
        self.level, self.stamp = capacity, now

    def _refill(self, now: float) -> None:
        self.level = min(self.capacity, self.level + (now - self.stamp) * self.rate)
        self.stamp = now

    def take(self, n: float, now: float) -> float:
        """Take `n` and return 0, or take nothing and return the seconds until `n` is available."""
        self._refill(now)
        if self.level >= n:
            self.level -= n
            return 0.0
        return (n - self.level) / self.rate

    def give(self, n: float, now: float) -> None:
        self._refill(now)
        self.level = min(self.capacity, self.level + n)


@dataclass
class Decision:
    allowed: bool
    retry_after: int = 0
    reserved: int = 0
    reason: str = ""


class RateLimiter:
    def __init__(self, cfg: RateLimitConfig, clock: Callable[[], float] = time.monotonic) -> None:
        self.cfg, self.clock = cfg, clock
        self._req: dict[str, TokenBucket] = {}
        self._tok: dict[str, TokenBucket] = {}
        self._lock = threading.Lock()

    def _buckets(self, key: str, now: float) -> tuple[TokenBucket, TokenBucket]:
        c = self.cfg
        if key not in self._req:
            rps, tps = c.requests_per_minute / 60.0, c.tokens_per_minute / 60.0
            self._req[key] = TokenBucket(max(1.0, rps * c.burst_seconds), rps, now)
            self._tok[key] = TokenBucket(max(1.0, tps * c.burst_seconds), tps, now)
        return self._req[key], self._tok[key]

    def admit(self, key: str, max_tokens: int) -> Decision:
        """Take a request token and reserve `max_tokens` (both or neither)."""
        with self._lock:
            now = self.clock()
            req, tok = self._buckets(key, now)
            reserve = int(min(max_tokens, tok.capacity))
            wait = req.take(1, now)
            if wait:
                return Decision(False, math.ceil(wait), reason="requests")
            wait = tok.take(reserve, now)
            if wait:
                req.give(1, now)
                return Decision(False, math.ceil(wait), reason="tokens")
            return Decision(True, reserved=reserve)

    def settle(self, key: str, reserved: int, used: int) -> None:
        """Refund the reserved tokens that were not generated."""
        if reserved > used:
            with self._lock:
                self._buckets(key, self.clock())[1].give(reserved - used, self.clock())
