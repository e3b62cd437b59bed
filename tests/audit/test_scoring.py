"""Model scoring: batched log-probs equal one-at-a-time scoring; the cached secret-space scorer equals
plain full-sequence scoring."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from privtune.audit.scoring import (  # noqa: E402
    SecretSpaceScorer,
    encode,
    log_perplexity_bits,
    score_ids,
    score_texts,
    secret_index,
    secrets_from_indices,
)

CORPUS = ["my account PIN is 123456", "the order 4411 shipped today", "reset the password for user 7"] * 5


@pytest.fixture(scope="module")
def lm(make_tiny_lm):
    return make_tiny_lm(CORPUS)


def _naive_logprobs(model, ids):
    with torch.no_grad():
        logits = model(input_ids=torch.tensor([ids])).logits[0]
    lp = torch.log_softmax(logits, -1)
    return np.array([float(lp[t, ids[t + 1]]) for t in range(len(ids) - 1)]), lp


def test_batched_scores_match_single(lm):
    model, tok = lm
    texts = ["the order 4411 shipped", "hi", "reset the password for user 7 today please"]
    got = score_texts(model, tok, texts, batch_size=2, distribution=True)
    for text, ts in zip(texts, got, strict=True):
        ids = encode(tok, [text])[0]
        ref, lp = _naive_logprobs(model, ids)
        np.testing.assert_allclose(ts.logprobs, ref, atol=1e-5)
        p = lp.exp()
        mu = (p * lp).sum(-1)[:-1].numpy()
        np.testing.assert_allclose(ts.mu, mu, atol=1e-5)
        sd = np.sqrt(((p * (lp - (p * lp).sum(-1, keepdim=True)) ** 2).sum(-1))[:-1].numpy())
        np.testing.assert_allclose(ts.sigma, sd, atol=1e-4)


def test_secret_indexing_roundtrip():
    secrets = secrets_from_indices(np.array([0, 7, 123, 999]), "0123456789", 3)
    assert secrets == ["000", "007", "123", "999"]
    assert [secret_index(s, "0123456789") for s in secrets] == [0, 7, 123, 999]
    assert secrets_from_indices(np.array([5]), "ab", 3) == ["bab"]


def test_secret_space_scorer_equals_full_scoring(lm):
    model, tok = lm
    fmt = "my account PIN is {secret}."
    scorer = SecretSpaceScorer(model, tok, fmt, batch_size=64)
    assert len(scorer.prefix) >= 2
    px = scorer.score_space("0123456789", 3, indices=np.arange(0, 1000, 7), chunk=50)
    secrets = secrets_from_indices(np.arange(0, 1000, 7), "0123456789", 3)
    full = [
        log_perplexity_bits(t) for t in score_ids(model, encode(tok, [fmt.format(secret=s) for s in secrets]))
    ]
    np.testing.assert_allclose(px, full, rtol=1e-5, atol=1e-4)
