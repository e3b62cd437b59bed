"""Green-list watermark (Kirchenbauer et al. 2023, "A Watermark for Large Language Models").

At each step the previous token and a secret key seed a permutation of the vocabulary; its first
γ·|V| tokens are "green" and get +δ on their logits before sampling. Detection needs only the key
and the tokens: with T scored tokens of which |s|_G are green, z = (|s|_G − γT) / sqrt(T γ (1−γ)).
Unwatermarked text has z ≈ N(0, 1); watermarked text grows like sqrt(T).
The key comes from the key provider (`derived_secret("watermark")`), so only its holder can detect
or forge the mark.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import math
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

KEY_PURPOSE = "watermark"


class GreenList:
    """Green masks per previous token (cached: a permutation of the vocabulary per seed)."""

    def __init__(self, key: bytes, vocab_size: int, gamma: float, cache: int = 4096) -> None:
        if not 0 < gamma < 1:
            raise ValueError("gamma must be in (0, 1)")
        self.key, self.vocab_size, self.gamma = key, vocab_size, gamma
        self.size = max(1, round(gamma * vocab_size))
        self._cache: OrderedDict[int, np.ndarray] = OrderedDict()
        self._cap = cache

    def seed(self, prev: int) -> int:
        d = hmac.new(self.key, int(prev).to_bytes(8, "little", signed=True), hashlib.sha256).digest()
        return int.from_bytes(d[:8], "little")

    def mask(self, prev: int) -> np.ndarray:
        m = self._cache.get(prev)
        if m is None:
            perm = np.random.Generator(np.random.PCG64(self.seed(prev))).permutation(self.vocab_size)
            m = np.zeros(self.vocab_size, dtype=bool)
            m[perm[: self.size]] = True
            self._cache[prev] = m
            if len(self._cache) > self._cap:
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(prev)
        return m

    def is_green(self, prev: int, tok: int) -> bool:
        return 0 <= tok < self.vocab_size and bool(self.mask(prev)[tok])


class WatermarkBias:
    """Logit processor for the sampling loop: +δ on the green list of the previous token."""

    def __init__(self, green: GreenList, delta: float) -> None:
        self.green, self.delta = green, delta

    def __call__(self, prev: int, logits: Any) -> Any:
        import torch

        m = torch.from_numpy(self.green.mask(prev))
        n = min(logits.shape[-1], m.shape[0])
        logits[..., :n] += self.delta * m[:n].to(logits.dtype)
        return logits


@dataclass
class Detection:
    tokens_scored: int
    green: int
    z: float
    p_value: float
    watermarked: bool

    def to_json(self) -> dict[str, Any]:
        return {
            "tokens_scored": self.tokens_scored,
            "green": self.green,
            "z": round(self.z, 4),
            "p_value": self.p_value,
            "watermarked": self.watermarked,
        }


def z_score(green: int, total: int, gamma: float) -> float:
    if total <= 0:
        return 0.0
    return (green - gamma * total) / math.sqrt(total * gamma * (1 - gamma))


def detect(tokens: Sequence[int], green: GreenList, z_threshold: float = 4.0) -> Detection:
    """Score each distinct (previous, token) pair against the green list once.

    Under "not watermarked" each distinct pair is green with probability γ independently, but a
    repeated pair is the same draw: counting repeats (e.g. "a a a a ...") inflates z and makes
    false positives on repetitive text, as Kirchenbauer et al. note; so repeats are scored once.
    """
    pairs = dict.fromkeys(itertools.pairwise(tokens))
    hits = sum(1 for prev, tok in pairs if green.is_green(prev, tok))
    total = len(pairs)
    z = z_score(hits, total, green.gamma)
    p = 0.5 * math.erfc(z / math.sqrt(2))
    return Detection(total, hits, z, p, total > 0 and z > z_threshold)
