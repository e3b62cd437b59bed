"""Per-example gradients of the DP engine against a one-example-at-a-time loop; clipping; noise; LoRA."""

from __future__ import annotations

import copy

import pytest
import torch

from privtune.train.config import LoraConfig, ModelConfig
from privtune.train.data import IGNORE, per_example_loss
from privtune.train.dp.engine import DPEngine
from privtune.train.models import apply_lora


class _Tok:
    bos_token_id, eos_token_id, pad_token_id = 0, 1, 2


def tiny(arch: str, method: str):
    from transformers import AutoModelForCausalLM

    from privtune.train.models import preset_config

    cfg = ModelConfig(layers=2, width=32, heads=4)
    torch.manual_seed(0)
    model = AutoModelForCausalLM.from_config(preset_config(arch, cfg, 97, 16, _Tok()))
    if method == "lora":
        model = apply_lora(model, LoraConfig(rank=4))
        # peft initialises B = 0, which makes A's gradients vanish; randomise to test them too
        for n, p in model.named_parameters():
            if "lora_B" in n:
                torch.nn.init.normal_(p, std=0.1)
    return model


def batch(b: int = 4, t: int = 12):
    g = torch.Generator().manual_seed(1)
    ids = torch.randint(3, 97, (b, t), generator=g)
    labels = ids.clone()
    mask = torch.ones_like(ids)
    for i in range(b):  # variable lengths: right padding, masked labels
        n = t - 2 * i
        ids[i, n:], labels[i, n:], mask[i, n:] = 2, IGNORE, 0
    labels[0, :4] = IGNORE  # a "prompt" without loss
    pos = torch.arange(t).unsqueeze(0).expand(b, t)
    return {"input_ids": ids, "labels": labels, "attention_mask": mask, "position_ids": pos}


def naive_grads(model, full):
    out = []
    for i in range(full["input_ids"].shape[0]):
        model.zero_grad()
        one = {k: v[i : i + 1] for k, v in full.items()}
        loss, _ = per_example_loss(model, one)
        loss.sum().backward()
        out.append({n: p.grad.detach().clone() for n, p in model.named_parameters() if p.requires_grad})
    return out


@pytest.mark.slow
@pytest.mark.parametrize("arch", ["tiny-gpt2", "tiny-llama"])
@pytest.mark.parametrize("method", ["lora", "full"])
def test_per_example_grads_match_naive_loop(arch, method):
    torch.set_default_dtype(torch.float64)
    try:
        model = tiny(arch, method).double()
        data = batch()
        ref = naive_grads(model, data)
        model.zero_grad(set_to_none=True)
        engine = DPEngine(model, max_grad_norm=1e9, noise_multiplier=0.0)
        with engine.capture(4):
            per_example_loss(model, data)[0].sum().backward()
        got = engine.per_unit_grads()
        assert set(got) == set(ref[0])
        for name, g in got.items():
            want = torch.stack([r[name] for r in ref])
            assert torch.allclose(g, want, rtol=1e-5, atol=1e-9 * want.abs().max()), name
        # ghost/materialised norms equal the norms of the naive gradients
        _, norms, _ = engine.clip_factors()
        want_norms = torch.stack([torch.sqrt(sum(r[n].pow(2).sum() for n in r)) for r in ref])
        assert torch.allclose(norms, want_norms, rtol=1e-6)
        engine.accumulate()
        assert all(p.grad is None for p in engine.params.values())  # the backward computed no weight grads
        engine.finalize(expected_units=1.0)
        for name, p in engine.params.items():
            assert torch.allclose(p.grad, sum(r[name] for r in ref), rtol=1e-6, atol=1e-12), name
        if arch == "tiny-gpt2" and method == "full":  # tied embedding / LM head: one parameter, two uses
            tied = [n for n, uses in engine.uses.items() if len(uses) == 2]
            assert tied == ["transformer.wte.weight"]
        engine.detach()
    finally:
        torch.set_default_dtype(torch.float32)


@pytest.mark.parametrize("clipping", ["flat", "per_layer"])
def test_clipped_norms_bounded(clipping):
    model = tiny("tiny-llama", "full")
    engine = DPEngine(model, max_grad_norm=0.01, noise_multiplier=0.0, clipping=clipping)
    data = batch()
    with engine.capture(4):
        per_example_loss(model, data)[0].sum().backward()
    per = engine.per_unit_grads()
    factors, norms, _ = engine.clip_factors()
    assert (norms > 0.01).all()
    clipped = torch.stack(
        [torch.sqrt(sum((per[n][b] * factors[n][b]).pow(2).sum() for n in per)) for b in range(4)]
    )
    assert (clipped <= 0.01 + 1e-6).all()


@pytest.mark.parametrize(("arch", "method", "users"), [("tiny-gpt2", "lora", False), ("tiny-gpt2", "full", True),
                                                      ("tiny-llama", "full", False)])
def test_clipped_sum_is_the_weighted_sum_of_per_unit_grads(arch, method, users):
    # covers both routes to the clipped sum: reused materialised per-unit gradients (LoRA factors, biases,
    # norms) and the weighted matmul over token factors (ghost-norm layers, tied embeddings)
    model = tiny(arch, method)
    engine = DPEngine(model, max_grad_norm=0.05, noise_multiplier=0.0)
    unit_of = torch.tensor([0, 1, 0, 2]) if users else None
    with engine.capture(4, unit_of):
        per_example_loss(model, batch())[0].sum().backward()
    per = engine.per_unit_grads()
    factors, norms, _ = engine.clip_factors()
    assert (norms > 0.05).all()  # every unit is actually clipped
    engine.accumulate()
    engine.finalize(expected_units=1.0)
    for name, p in engine.params.items():
        want = (factors[name].reshape(-1, *[1] * p.dim()) * per[name]).sum(0)
        assert torch.allclose(p.grad, want, rtol=1e-4, atol=1e-7), name


def test_user_level_clips_the_sum_of_a_users_examples():
    model = tiny("tiny-gpt2", "lora")
    data = batch()
    engine = DPEngine(model, max_grad_norm=1e9, noise_multiplier=0.0)
    with engine.capture(4):
        per_example_loss(model, data)[0].sum().backward()
    per_example = engine.per_unit_grads()
    _, ex_norms, _ = engine.clip_factors()
    unit_of = torch.tensor([0, 1, 0, 1])
    with engine.capture(4, unit_of):
        per_example_loss(model, data)[0].sum().backward()
    per_user = engine.per_unit_grads()
    _, user_norms, _ = engine.clip_factors()
    for n, g in per_user.items():
        assert torch.allclose(g[0], per_example[n][0] + per_example[n][2], atol=1e-6)
    assert user_norms.shape == (2,) and not torch.allclose(user_norms, ex_norms[:2])


def test_noise_std_matches_sigma_times_c():
    model = tiny("tiny-gpt2", "full")
    engine = DPEngine(model, max_grad_norm=0.5, noise_multiplier=2.0)
    engine.finalize(expected_units=1.0, generator=torch.Generator().manual_seed(3))  # empty batch: pure noise
    noise = torch.cat([p.grad.flatten() for p in engine.params.values()])
    n = noise.numel()
    assert n > 20_000
    # sample std of n normals has sd ≈ σ/sqrt(2n): allow 5 of those
    assert abs(noise.std().item() - 1.0) < 5 * 1.0 / (2 * n) ** 0.5
    assert abs(noise.mean().item()) < 5 / n**0.5


def test_lora_weights_change_and_frozen_ones_do_not():
    model = tiny("tiny-gpt2", "lora")
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    engine = DPEngine(model, max_grad_norm=1.0, noise_multiplier=1.0)
    opt = torch.optim.SGD([p for p in model.parameters() if p.requires_grad], lr=0.1)
    with engine.capture(4):
        per_example_loss(model, batch())[0].sum().backward()
    engine.accumulate()
    engine.finalize(4.0, torch.Generator().manual_seed(0))
    opt.step()
    for n, p in model.named_parameters():
        changed = not torch.equal(before[n], p.detach())
        assert changed == ("lora_" in n), n


def test_unsupported_trainable_module_is_named():
    from privtune.errors import ConfigError

    m = torch.nn.Sequential(torch.nn.Conv2d(1, 1, 3))
    with pytest.raises(ConfigError, match="Conv2d"):
        DPEngine(copy.deepcopy(m), 1.0, 1.0)
