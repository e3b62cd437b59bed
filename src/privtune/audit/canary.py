"""Canary exposure (Carlini et al. 2019, "The Secret Sharer").

Px(s) is the log-perplexity of a canary under the model; its rank among a reference space R of
candidate secrets is 1 + #{r in R : Px(r) < Px(s)} and exposure = log2|R| - log2(rank). A model that
has not seen the canary puts it at a uniformly random rank (expected exposure ~1.44 bits); a model
that memorised it puts it first (exposure log2|R|). Only the ordering matters, so any log base works
as long as canary and references use the same one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

ArrayLike = Sequence[float] | np.ndarray


def exposure(canary_log_perplexity: float, reference_log_perplexities: ArrayLike) -> float:
    """Exact exposure: log2|R| - log2(1 + #references with strictly lower log-perplexity).

    `reference_log_perplexities` is the whole candidate space R (it may contain the canary itself,
    which is never counted as lower). Raises ValueError for an empty space.
    """
    refs = np.asarray(reference_log_perplexities, dtype=np.float64)
    if refs.size == 0:
        raise ValueError("the reference space is empty")
    rank = 1 + int(np.count_nonzero(refs < canary_log_perplexity))
    return math.log2(refs.size) - math.log2(rank)


def exposure_from_rank(rank: int, space_size: int) -> float:
    """Exposure for a rank counted elsewhere (e.g. streamed over a space too big to hold)."""
    if not 1 <= rank <= max(space_size, 1):
        raise ValueError(f"rank {rank} outside 1..{space_size}")
    return math.log2(space_size) - math.log2(rank)


def fit_skewnorm(reference_log_perplexities: ArrayLike) -> tuple[float, float, float]:
    """Maximum-likelihood skew-normal (shape, loc, scale) of a reference sample (scipy)."""
    refs = np.asarray(reference_log_perplexities, dtype=np.float64)
    if refs.size < 3:
        raise ValueError("need at least 3 reference values to fit a skew-normal")
    if np.ptp(refs) == 0:
        raise ValueError("reference log-perplexities are all equal; the skew-normal fit is undefined")
    a, loc, scale = stats.skewnorm.fit(refs)
    return float(a), float(loc), float(scale)


def exposure_from_fit(canary_log_perplexity: float, params: tuple[float, float, float]) -> float:
    """-log2 CDF(Px) under a fitted skew-normal; computed from logcdf so that tails do not underflow."""
    a, loc, scale = params
    logcdf = float(stats.skewnorm.logcdf(canary_log_perplexity, a, loc=loc, scale=scale))
    if not math.isfinite(logcdf):  # far beyond the fitted tail: fall back to the normal tail bound
        z = (canary_log_perplexity - loc) / scale
        logcdf = float(stats.norm.logcdf(z)) + math.log(2.0)
    return max(0.0, -logcdf / math.log(2.0))


def exposure_extrapolated(canary_log_perplexity: float, reference_log_perplexities: ArrayLike) -> float:
    """Exposure estimated from a sample of the space: fit a skew-normal, exposure ≈ -log2 CDF(Px).

    Lets a space of 10^12 candidates be audited from ~10^4 sampled references; exposure is not capped
    at log2 of the sample size.
    """
    return exposure_from_fit(canary_log_perplexity, fit_skewnorm(reference_log_perplexities))
