"""Membership-inference scores for language models, computed from per-token log-probabilities.

Every score is oriented so that HIGHER means "more likely a training member"; they differ only in how
they calibrate the raw likelihood:

- LOSS: mean token log-prob (Yeom et al. 2018).
- zlib: log-perplexity divided by zlib-compressed size, so texts that are simply easy are discounted
  (Carlini et al. 2021).
- Min-K% Prob: mean of the k% lowest token log-probs (Shi et al. 2023); members lack outlier tokens.
- Min-K%++: each token's log-prob standardised by the mean/std of log p under the model's own
  next-token distribution, then Min-K% (Zhang et al. 2024).
- reference ratio: target log-likelihood minus that of a reference model (the base model), removing
  what the base model already knew.

Log-probs are natural logs (what torch's log_softmax gives).
"""

from __future__ import annotations

import math
import zlib
from collections.abc import Sequence

import numpy as np

Tokens = Sequence[float] | np.ndarray


def _arr(x: Tokens) -> np.ndarray:
    a = np.asarray(x, dtype=np.float64)
    if a.ndim != 1 or a.size == 0:
        raise ValueError("need a non-empty 1-D array of token log-probs")
    return a


def zlib_bits(text: str) -> int:
    """Size of the zlib-compressed UTF-8 text in bits: a model-free measure of how predictable it is."""
    return 8 * len(zlib.compress(text.encode("utf-8")))


def loss_score(token_logprobs: Tokens) -> float:
    """Mean token log-prob (= -loss)."""
    return float(_arr(token_logprobs).mean())


def zlib_score(token_logprobs: Tokens, text: str) -> float:
    """-(log-perplexity in bits per token / zlib bits of the text)."""
    log_ppl_bits = -_arr(token_logprobs).mean() / math.log(2.0)
    return float(-log_ppl_bits / max(zlib_bits(text), 1))


def _lowest_k_mean(values: np.ndarray, k: float) -> float:
    if not 0 < k <= 1:
        raise ValueError("k must be a fraction in (0, 1]")
    n = max(1, int(values.size * k))
    return float(np.sort(values)[:n].mean())


def min_k_score(token_logprobs: Tokens, k: float = 0.2) -> float:
    """Mean of the k fraction (at least one) of lowest token log-probs."""
    return _lowest_k_mean(_arr(token_logprobs), k)


def min_k_plus_plus_score(token_logprobs: Tokens, mu: Tokens, sigma: Tokens, k: float = 0.2) -> float:
    """Min-K% over (log p(x_t) - mu_t) / sigma_t, where mu_t and sigma_t are the mean and std of
    log p(z) for z drawn from the model's next-token distribution at position t."""
    lp, m, s = _arr(token_logprobs), _arr(mu), _arr(sigma)
    if not lp.shape == m.shape == s.shape:
        raise ValueError("token_logprobs, mu and sigma must have the same length")
    return _lowest_k_mean((lp - m) / np.maximum(s, 1e-12), k)


def reference_ratio_score(token_logprobs: Tokens, reference_token_logprobs: Tokens) -> float:
    """Mean log-likelihood ratio of target over reference model (per token)."""
    lp, ref = _arr(token_logprobs), _arr(reference_token_logprobs)
    if lp.shape != ref.shape:
        raise ValueError("target and reference log-probs must cover the same tokens")
    return float(lp.mean() - ref.mean())


SCORERS = ("loss", "zlib", "min_k", "min_k_plus_plus", "reference_ratio")


def all_scores(
    token_logprobs: Tokens,
    text: str,
    mu: Tokens | None = None,
    sigma: Tokens | None = None,
    reference_token_logprobs: Tokens | None = None,
    k: float = 0.2,
) -> dict[str, float]:
    """Every score that the given inputs allow (Min-K%++ needs mu/sigma, the ratio a reference)."""
    out = {
        "loss": loss_score(token_logprobs),
        "zlib": zlib_score(token_logprobs, text),
        "min_k": min_k_score(token_logprobs, k),
    }
    if mu is not None and sigma is not None:
        out["min_k_plus_plus"] = min_k_plus_plus_score(token_logprobs, mu, sigma, k)
    if reference_token_logprobs is not None:
        out["reference_ratio"] = reference_ratio_score(token_logprobs, reference_token_logprobs)
    return out
