"""Empirical ε lower bound from one training run (Steinke, Nasr, Jagielski 2023, Theorem 3.1).

m canaries are each included in training with probability 1/2. The auditor guesses "in" or "out"
for r of them (abstaining on the rest) from their scores and gets v right. Under (ε, δ)-DP,

    P[v correct] <= P[Bin(r, e^ε/(1+e^ε)) >= v] + 2mδ · max_{i=1..v} P[v > Bin(r, q) >= v-i] / i,

so every ε whose bound is <= the significance level is rejected; ε̂ is the largest rejected ε.
An ε̂ above the accountant's ε means the training code does not deliver the DP it claims.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats


def one_run_p_value(m: int, r: int, v: int, epsilon: float, delta: float = 0.0) -> float:
    """Bound on P[>= v correct of r guesses] for an (epsilon, delta)-DP training run (the theorem's f(v))."""
    if not 0 <= v <= r <= m:
        raise ValueError(f"need 0 <= v <= r <= m (got m={m}, r={r}, v={v})")
    if epsilon < 0 or not 0 <= delta <= 1:
        raise ValueError("need epsilon >= 0 and 0 <= delta <= 1")
    q = 1.0 / (1.0 + math.exp(-epsilon))
    beta = float(stats.binom.sf(v - 1, r, q))  # P[Bin(r, q) >= v]
    alpha = 0.0
    if delta > 0 and v > 0:
        # max over i of P[v-i <= Bin < v] / i, from the cumulative pmf below v
        pmf = stats.binom.pmf(np.arange(v - 1, -1, -1), r, q)  # P[W = v-1], P[W = v-2], ..., P[W = 0]
        cum = np.cumsum(pmf)
        alpha = float(np.max(cum / np.arange(1, v + 1)))
    return min(1.0, beta + 2.0 * m * delta * alpha)


def one_run_epsilon(m: int, r: int, v: int, delta: float = 0.0, significance: float = 0.05) -> float:
    """Largest ε rejected at `significance` given v correct of r guesses on m canaries (0 if none).

    The bound increases with ε, so ε̂ is found by bisection to 1e-9.
    """
    if not 0 < significance < 1:
        raise ValueError("significance must be in (0, 1)")
    if r == 0 or one_run_p_value(m, r, v, 0.0, delta) > significance:
        return 0.0
    lo, hi = 0.0, 1.0
    while one_run_p_value(m, r, v, hi, delta) <= significance:
        lo, hi = hi, hi * 2
        if hi > 1e4:  # only reachable with absurd inputs; keeps the loop finite
            return lo
    while hi - lo > 1e-9:
        mid = (lo + hi) / 2
        if one_run_p_value(m, r, v, mid, delta) <= significance:
            lo = mid
        else:
            hi = mid
    return lo


def one_run_guesses(scores: Sequence[float] | np.ndarray, k_in: int, k_out: int) -> np.ndarray:
    """Guesses in {+1 (in), -1 (out), 0 (abstain)}: the k_in highest scores in, the k_out lowest out."""
    s = np.asarray(scores, dtype=np.float64)
    if k_in + k_out > s.size:
        raise ValueError("more guesses than canaries")
    order = np.argsort(s, kind="stable")
    guesses = np.zeros(s.size, dtype=np.int8)
    if k_out:
        guesses[order[:k_out]] = -1
    if k_in:
        guesses[order[s.size - k_in :]] = 1
    return guesses


def one_run_audit(
    scores: Sequence[float] | np.ndarray,
    included: Sequence[bool] | np.ndarray,
    guess_fraction: float = 0.25,
    delta: float = 0.0,
    significance: float = 0.05,
) -> dict[str, float | int]:
    """Full audit from per-canary scores (higher = more likely trained on) and true inclusion flags.

    Guesses `guess_fraction` of the canaries "in" (highest scores) and as many "out" (lowest); the
    fraction is fixed in advance so the bound stays valid (no search over k).
    """
    inc = np.asarray(included, dtype=bool)
    m = inc.size
    k = math.floor(guess_fraction * m)
    g = one_run_guesses(scores, k, k)
    r = int(np.count_nonzero(g))
    truth = np.where(inc, 1, -1)
    v = int(np.count_nonzero((g != 0) & (g == truth)))
    return {
        "m": m,
        "r": r,
        "v": v,
        "epsilon_lower_bound": one_run_epsilon(m, r, v, delta=delta, significance=significance),
        "delta": delta,
        "significance": significance,
    }
