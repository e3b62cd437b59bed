"""Audit math against independent reference values (direct formulas, brute force, closed forms)."""

from __future__ import annotations

import itertools
import math
import zlib

import numpy as np
import pytest

from privtune.audit import exposure, exposure_extrapolated, one_run_epsilon
from privtune.audit.membership import (
    loss_score,
    min_k_plus_plus_score,
    min_k_score,
    reference_ratio_score,
    zlib_score,
)
from privtune.audit.one_run import one_run_audit, one_run_guesses, one_run_p_value
from privtune.audit.overlap import ngram_overlap
from privtune.audit.roc import roc_auc, roc_curve, tpr_at_fpr


# --- exposure ---------------------------------------------------------------------------------
def test_exposure_rank_definition():
    refs = [5.0, 1.0, 3.0, 3.0, 9.0, 7.0, 2.0, 8.0]
    # canary at 3.0: strictly lower are 1, 2 -> rank 3
    assert exposure(3.0, refs) == pytest.approx(math.log2(8) - math.log2(3))
    assert exposure(0.5, refs) == pytest.approx(3.0)  # ranked first: log2|R|
    assert exposure(9.0, refs) == pytest.approx(0.0)  # the canary itself, ranked last
    with pytest.raises(ValueError):
        exposure(1.0, [])


def test_exposure_extrapolated_matches_true_tail_and_exact_rank():
    from scipy import stats

    rng = np.random.default_rng(0)
    a, loc, scale = 4.0, 20.0, 6.0
    sample = stats.skewnorm.rvs(a, loc=loc, scale=scale, size=20_000, random_state=rng)
    px = 21.0  # a low-perplexity canary
    true_tail = -math.log2(stats.skewnorm.cdf(px, a, loc=loc, scale=scale))
    assert exposure_extrapolated(px, sample) == pytest.approx(true_tail, abs=0.35)
    # and agrees with the exact rank over a large space drawn from the same distribution
    big = stats.skewnorm.rvs(a, loc=loc, scale=scale, size=400_000, random_state=rng)
    assert exposure_extrapolated(px, sample) == pytest.approx(exposure(px, big), abs=0.35)
    # far beyond any sample it still extrapolates (not capped at log2 of the sample size)
    assert exposure_extrapolated(10.0, sample) > math.log2(sample.size)


# --- one-run audit ------------------------------------------------------------------------------
def _tail_direct(r: int, v: int, q: float) -> float:
    return math.fsum(math.comb(r, k) * q**k * (1 - q) ** (r - k) for k in range(v, r + 1))


def _eps_brute(r: int, v: int, sig: float) -> float:
    """Independent: binomial tails summed term by term and a bisection of our own on q (then logit)."""
    lo, hi = 0.5, 1.0 - 1e-12
    for _ in range(60):
        mid = (lo + hi) / 2
        if _tail_direct(r, v, mid) <= sig:
            lo = mid
        else:
            hi = mid
    return math.log(lo / (1 - lo))


def test_one_run_reference_values():
    assert one_run_epsilon(1000, 100, 100) == pytest.approx(3.493, abs=1e-3)
    assert one_run_epsilon(1000, 500, 400) == pytest.approx(1.199, abs=1e-3)
    assert one_run_epsilon(1000, 500, 400) == pytest.approx(_eps_brute(500, 400, 0.05), abs=1e-6)
    assert one_run_epsilon(1000, 60, 50) == pytest.approx(_eps_brute(60, 50, 0.05), abs=1e-6)


@pytest.mark.parametrize("r", [10, 100, 1000])
def test_one_run_all_correct_closed_form(r):
    q = 0.05 ** (1 / r)
    assert one_run_epsilon(5000, r, r) == pytest.approx(math.log(q / (1 - q)), abs=1e-6)


def test_one_run_delta_term_by_direct_sum():
    m, r, v, eps, delta = 1000, 100, 90, 2.0, 1e-5
    q = math.exp(eps) / (1 + math.exp(eps))
    pmf = [math.comb(r, k) * q**k * (1 - q) ** (r - k) for k in range(r + 1)]
    beta = sum(pmf[v:])
    alpha = max(sum(pmf[v - i : v]) / i for i in range(1, v + 1))
    assert one_run_p_value(m, r, v, eps, delta) == pytest.approx(beta + 2 * m * delta * alpha, rel=1e-9)
    # δ > 0 can only weaken the bound
    assert one_run_epsilon(m, r, v, delta=delta) <= one_run_epsilon(m, r, v)


def test_one_run_chance_level_gives_zero():
    assert one_run_epsilon(1000, 100, 50) == 0.0
    assert one_run_epsilon(1000, 0, 0) == 0.0


def test_one_run_guesses_and_audit():
    scores = np.array([0.1, 5.0, 3.0, -2.0, 4.0, -1.0, 0.0, 2.0])
    g = one_run_guesses(scores, 2, 2)
    assert g.tolist() == [0, 1, 0, -1, 1, -1, 0, 0]
    rng = np.random.default_rng(1)
    included = rng.random(400) < 0.5
    perfect = one_run_audit(np.where(included, 1.0, 0.0) + rng.random(400) * 0.1, included)
    assert perfect["v"] == perfect["r"] == 200
    assert perfect["epsilon_lower_bound"] == pytest.approx(one_run_epsilon(400, 200, 200))
    noise = one_run_audit(rng.random(400), included)
    assert noise["epsilon_lower_bound"] < 1.0


# --- membership scores ------------------------------------------------------------------------
def test_scores_direct_formulas():
    lp = [-0.5, -3.0, -0.1, -2.0, -0.7, -4.0, -0.2, -1.0, -0.3, -0.4]
    assert loss_score(lp) == pytest.approx(sum(lp) / 10)
    assert min_k_score(lp, 0.2) == pytest.approx((-4.0 - 3.0) / 2)  # 2 lowest of 10
    assert min_k_score(lp, 0.05) == pytest.approx(-4.0)  # at least one token
    text = "order 12345 shipped to the warehouse"
    bits = 8 * len(zlib.compress(text.encode()))
    assert zlib_score(lp, text) == pytest.approx((sum(lp) / 10 / math.log(2)) / bits)
    ref = [x - 0.5 for x in lp]
    assert reference_ratio_score(lp, ref) == pytest.approx(0.5)


def test_min_k_plus_plus_from_distribution():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(6, 11))
    logp = logits - np.log(np.exp(logits).sum(1, keepdims=True))
    tokens = rng.integers(0, 11, size=6)
    lp = logp[np.arange(6), tokens]
    # mu/sigma computed by explicit loops over the vocabulary
    mu = [sum(math.exp(logp[t, z]) * logp[t, z] for z in range(11)) for t in range(6)]
    var = [sum(math.exp(logp[t, z]) * (logp[t, z] - mu[t]) ** 2 for z in range(11)) for t in range(6)]
    z = sorted((lp[t] - mu[t]) / math.sqrt(var[t]) for t in range(6))
    assert min_k_plus_plus_score(lp, mu, np.sqrt(var), k=0.5) == pytest.approx(sum(z[:3]) / 3)


# --- ROC ----------------------------------------------------------------------------------------
def test_auc_equals_pair_counting_with_ties():
    rng = np.random.default_rng(3)
    pos = rng.integers(0, 20, size=57).astype(float)
    neg = rng.integers(-3, 15, size=43).astype(float)
    pairs = [(1.0 if p > n else 0.5 if p == n else 0.0) for p, n in itertools.product(pos, neg)]
    assert roc_auc(pos, neg) == pytest.approx(sum(pairs) / len(pairs))
    fpr, tpr = roc_curve(pos, neg)
    assert (fpr[0], tpr[0], fpr[-1], tpr[-1]) == (0, 0, 1, 1)


def test_tpr_at_fpr_brute_force_thresholds():
    rng = np.random.default_rng(4)
    pos = rng.normal(1.0, 1.0, size=300)
    neg = rng.normal(0.0, 1.0, size=1000)
    for max_fpr in (0.01, 0.001, 0.1):
        best = 0.0
        for t in np.r_[np.inf, pos, neg]:
            if np.mean(neg >= t) <= max_fpr:
                best = max(best, float(np.mean(pos >= t)))
        assert tpr_at_fpr(pos, neg, max_fpr) == pytest.approx(best)


# --- n-gram overlap -----------------------------------------------------------------------------
def test_ngram_overlap_counts():
    training = [[1, 2, 3, 4, 5], [9, 2, 3, 4, 8], [7, 7, 7]]
    gen = [[2, 3, 4, 5, 6], [0, 0, 0]]
    out = ngram_overlap(gen, training, 3)
    # generated 3-grams: (2,3,4) in 2 records, (3,4,5) in 1, (4,5,6) none, (0,0,0) none
    assert out["generated_ngrams"] == 4
    assert out["overlap"] == pytest.approx(2 / 4)
    assert out["unique_overlap"] == pytest.approx(1 / 4)
    assert out["texts_with_overlap"] == pytest.approx(0.5)
