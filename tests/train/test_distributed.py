"""Two gloo workers, each clipping half of a batch, give the same noisy update as one process."""

from __future__ import annotations

import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def _model():
    from transformers import AutoModelForCausalLM

    from privtune.train.config import ModelConfig
    from privtune.train.models import preset_config

    class Tok:
        bos_token_id, eos_token_id, pad_token_id = 0, 1, 2

    torch.manual_seed(0)
    return AutoModelForCausalLM.from_config(preset_config("tiny-gpt2", ModelConfig(layers=1, width=32, heads=2), 64, 8, Tok()))


def _batch():
    ids = torch.randint(3, 64, (4, 8), generator=torch.Generator().manual_seed(1))
    pos = torch.arange(8).unsqueeze(0).expand(4, 8)
    return {"input_ids": ids, "labels": ids.clone(), "attention_mask": torch.ones_like(ids), "position_ids": pos}


def _update(rank: int, world: int, shard: slice) -> dict[str, torch.Tensor]:
    from privtune.train.data import per_example_loss
    from privtune.train.dp.engine import DPEngine

    model = _model()
    engine = DPEngine(model, max_grad_norm=0.1, noise_multiplier=1.0)
    batch = {k: v[shard] for k, v in _batch().items()}
    with engine.capture(batch["input_ids"].shape[0]):
        loss, _ = per_example_loss(model, batch)
    loss.sum().backward()
    engine.accumulate()
    engine.reduce()
    engine.finalize(4.0, torch.Generator().manual_seed(7))  # same noise seed on every worker
    return {n: p.grad.clone() for n, p in engine.params.items()}


def _worker(rank: int, world: int, init: str, out: str) -> None:
    dist.init_process_group("gloo", init_method=init, rank=rank, world_size=world)
    torch.set_num_threads(1)
    grads = _update(rank, world, slice(rank * 2, rank * 2 + 2))
    if rank == 0:
        from safetensors.torch import save_file

        save_file({k: v.contiguous() for k, v in grads.items()}, out)
    dist.destroy_process_group()


@pytest.mark.slow
def test_two_workers_equal_one_process(tmp_path):
    out = tmp_path / "grads.safetensors"
    mp.spawn(_worker, args=(2, f"file://{tmp_path / 'rdzv'}", str(out)), nprocs=2, join=True)
    from safetensors.torch import load_file

    got = load_file(out)
    want = _update(0, 1, slice(0, 4))
    assert got.keys() == want.keys()
    for n in want:
        assert torch.allclose(got[n], want[n], atol=1e-6), n
