"""Watermark: z-score math, green-list size, detection power and false-positive rate."""

from __future__ import annotations

import math

import pytest
import torch

from privtune.serve.generate import Sampler, SamplingParams
from privtune.serve.watermark import GreenList, WatermarkBias, detect, z_score

KEY = b"w" * 32
VOCAB = 512


def test_z_score_reference_values():
    # Kirchenbauer et al. eq. (3): T=200, γ=0.25, 100 green -> (100-50)/sqrt(200*0.25*0.75)
    assert z_score(100, 200, 0.25) == pytest.approx(50 / math.sqrt(37.5))
    assert z_score(50, 200, 0.25) == 0.0
    g = GreenList(KEY, VOCAB, 0.25)
    assert int(g.mask(7).sum()) == 128
    assert (g.mask(7) == GreenList(KEY, VOCAB, 0.25).mask(7)).all()  # deterministic in (key, prev)
    assert not (g.mask(7) == GreenList(b"v" * 32, VOCAB, 0.25).mask(7)).all()  # keyed


class _Tok:
    eos_token_id = VOCAB + 10  # never sampled: generation always runs to max_tokens


@pytest.fixture(scope="module")
def model():
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(0)
    m = GPT2LMHeadModel(GPT2Config(vocab_size=VOCAB, n_positions=256, n_embd=32, n_layer=2, n_head=2))
    return m.eval()


def _batch_samples(model, n: int, length: int, seed: int) -> list[list[int]]:
    """Unwatermarked samples from the model (batched, temperature 1)."""
    gen = torch.Generator().manual_seed(seed)
    ids = torch.randint(0, VOCAB, (n, 1), generator=gen)
    out, past = [ids], None
    with torch.inference_mode():
        for _ in range(length - 1):
            res = model(input_ids=out[-1], past_key_values=past, use_cache=True)
            past = res.past_key_values
            probs = torch.softmax(res.logits[:, -1].float(), -1)
            out.append(torch.multinomial(probs, 1, generator=gen))
    return torch.cat(out, 1).tolist()


@pytest.mark.slow
def test_watermarked_200_tokens_detected_and_fpr_at_threshold(model):
    green = GreenList(KEY, VOCAB, 0.25)
    sampler = Sampler(model, _Tok())
    zs = []
    for seed in range(3):
        toks = list(
            sampler.tokens([1, 2, 3], SamplingParams(max_tokens=200, seed=seed), WatermarkBias(green, 2.0))
        )
        assert len(toks) == 200
        zs.append(detect([3, *toks], green).z)
    assert min(zs) > 4, zs
    plain = _batch_samples(model, 200, 200, seed=1)
    false_pos = sum(detect(t, green, z_threshold=4.0).watermarked for t in plain)
    assert false_pos / len(plain) <= 0.01
    unmarked = [detect(t, green).z for t in plain]
    assert abs(sum(unmarked) / len(unmarked)) < 0.3  # centred near 0 as the null hypothesis says
