"""DP-SGD step time and peak memory: non-private vs privtune vs Opacus (hooks, ghost), one process.

Tiny GPT-2 and tiny Llama (4 layers, width 256), LoRA and full fine-tuning, sequence 64, batch 16.
For each configuration every engine gets its own copy of the same initial model; after warm-up the
engines take turns step by step (interleaved, so load from other processes hits all alike) and we
report the median step time. Peak memory is measured in a separate, untimed step: the largest total
size of tensors alive during the step beyond those alive before it (activations, gradients,
per-sample state), tracked through a dispatch mode because CPU allocators keep no statistics; on
CUDA it is `torch.cuda.max_memory_allocated` above the starting point.

    python benchmarks/dp_bench.py --json          # full run
    python benchmarks/dp_bench.py --quick --json  # smoke check

CPU runs use one torch thread by default (`--threads`), as training does for small models: on shared
cores, more threads make every small operation wait on parked threads and the timings meaningless.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
import weakref
from collections.abc import Callable
from typing import Any

import torch
from torch.utils._python_dispatch import TorchDispatchMode

from privtune.train.config import LoraConfig, ModelConfig
from privtune.train.data import per_example_loss
from privtune.train.dp.engine import DPEngine
from privtune.train.models import apply_lora, preset_config

ENGINES = ("nonprivate", "privtune", "opacus-hooks", "opacus-ghost")
SIGMA, C, LR = 1.0, 1.0, 1e-4


class _Tok:
    bos_token_id, eos_token_id, pad_token_id = 0, 1, 2


class PeakTracker(TorchDispatchMode):
    """Peak bytes of tensor storages created inside the mode and still alive."""

    def __init__(self) -> None:
        super().__init__()
        self.live = 0
        self.peak = 0
        self.seen: set[int] = set()

    def _track(self, t: Any) -> None:
        if not isinstance(t, torch.Tensor) or t.device.type != "cpu":
            return
        st = t.untyped_storage()
        key = st.data_ptr()
        if key in self.seen or key == 0:
            return
        self.seen.add(key)
        size = st.nbytes()
        self.live += size
        self.peak = max(self.peak, self.live)

        def free(key: int = key, size: int = size) -> None:
            self.live -= size
            self.seen.discard(key)

        weakref.finalize(st, free)

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[no-untyped-def]
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, tuple | list) else (out,):
            self._track(t)
        return out


def build(arch: str, method: str, width: int, layers: int, vocab: int, seq: int) -> torch.nn.Module:
    from transformers import AutoModelForCausalLM

    torch.manual_seed(0)
    cfg = ModelConfig(layers=layers, width=width, heads=4)
    model = AutoModelForCausalLM.from_config(preset_config(arch, cfg, vocab, seq, _Tok()))
    if method == "lora":
        model = apply_lora(model, LoraConfig(rank=8))
    else:
        for p in model.parameters():
            p.requires_grad_(True)
    model.train()
    return model


def make_batch(b: int, t: int, vocab: int) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    ids = torch.randint(3, vocab, (b, t), generator=g)
    pos = torch.arange(t).unsqueeze(0).expand(b, t)  # explicit per-example positions (Opacus needs them)
    return {"input_ids": ids, "labels": ids.clone(), "attention_mask": torch.ones_like(ids), "position_ids": pos}


def step_fn(engine: str, model: torch.nn.Module, batch: dict[str, torch.Tensor]) -> Callable[[], None]:
    """A closure doing one full optimizer step of `engine` on `batch`."""
    b = batch["input_ids"].shape[0]
    params = [p for p in model.parameters() if p.requires_grad]
    if engine == "nonprivate":
        opt = torch.optim.AdamW(params, lr=LR)

        def run() -> None:
            loss, _ = per_example_loss(model, batch)
            (loss.sum() / b).backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

        return run
    if engine == "privtune":
        dp = DPEngine(model, C, SIGMA)
        opt = torch.optim.AdamW(params, lr=LR)
        gen = torch.Generator().manual_seed(0)

        def run() -> None:
            with dp.capture(b):
                loss, _ = per_example_loss(model, batch)
            loss.sum().backward()
            dp.accumulate()
            dp.finalize(b, gen)
            opt.step()
            opt.zero_grad(set_to_none=True)

        return run
    if engine == "opacus-hooks":
        from opacus import GradSampleModule
        from opacus.optimizers import DPOptimizer

        gsm = GradSampleModule(model, batch_first=True, loss_reduction="sum")
        opt = DPOptimizer(torch.optim.AdamW(params, lr=LR), noise_multiplier=SIGMA, max_grad_norm=C,
                          expected_batch_size=b, loss_reduction="sum")

        def run() -> None:
            loss, _ = per_example_loss(gsm, batch)
            loss.sum().backward()
            opt.step()
            opt.zero_grad(set_to_none=True)

        return run
    from opacus.grad_sample import GradSampleModuleFastGradientClipping
    from opacus.optimizers import DPOptimizerFastGradientClipping
    from opacus.utils.fast_gradient_clipping_utils import DPLossFastGradientClipping

    class PerExample:
        reduction = "sum"

        def __call__(self, loss: torch.Tensor, _: Any = None) -> torch.Tensor:
            return loss if self.reduction == "none" else loss.sum()

    gsm = GradSampleModuleFastGradientClipping(model, batch_first=True, loss_reduction="sum", max_grad_norm=C,
                                               use_ghost_clipping=True)
    opt = DPOptimizerFastGradientClipping(torch.optim.AdamW(params, lr=LR), noise_multiplier=SIGMA,
                                          max_grad_norm=C, expected_batch_size=b, loss_reduction="sum")
    crit = DPLossFastGradientClipping(gsm, opt, PerExample(), "sum")

    def run() -> None:
        loss, _ = per_example_loss(gsm, batch)
        crit(loss, None).backward()
        opt.step()
        opt.zero_grad(set_to_none=True)

    return run


def peak_mb(run: Callable[[], None]) -> float:
    if torch.cuda.is_available():
        torch.cuda.synchronize()
        start = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        run()
        torch.cuda.synchronize()
        return (torch.cuda.max_memory_allocated() - start) / 2**20
    tracker = PeakTracker()
    with tracker:
        run()
    return tracker.peak / 2**20


def bench(arch: str, method: str, args: argparse.Namespace) -> list[dict[str, Any]]:
    base = build(arch, method, args.width, args.layers, args.vocab, args.seq)
    batch = make_batch(args.batch, args.seq, args.vocab)
    runs: dict[str, Callable[[], None]] = {}
    errors: dict[str, str] = {}
    for eng in ENGINES:
        try:
            fn = step_fn(eng, copy.deepcopy(base), batch)
            for _ in range(args.warmup):
                fn()
            runs[eng] = fn
        except Exception as exc:  # an engine that cannot run this configuration is reported, not fatal
            errors[eng] = f"{type(exc).__name__}: {str(exc).splitlines()[0][:200] if str(exc) else ''}"
    times: dict[str, list[float]] = {e: [] for e in runs}
    for _ in range(args.steps):
        for eng, fn in runs.items():  # interleaved
            t0 = time.perf_counter()
            fn()
            times[eng].append(time.perf_counter() - t0)
    mem = {eng: peak_mb(fn) for eng, fn in runs.items()}
    base_t = statistics.median(times["nonprivate"]) if "nonprivate" in times else None
    rows = []
    for eng in ENGINES:
        if eng in runs:
            st = statistics.median(times[eng])
            rows.append({"model": arch, "method": method, "engine": eng, "step_s": round(st, 5),
                         "peak_mb": round(mem[eng], 2),
                         "ratio_vs_nonprivate": round(st / base_t, 3) if base_t else None, "error": None})
        else:
            rows.append({"model": arch, "method": method, "engine": eng, "step_s": None, "peak_mb": None,
                         "ratio_vs_nonprivate": None, "error": errors[eng]})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", action="store_true", help="print one JSON object")
    ap.add_argument("--quick", action="store_true", help="fewer steps, smaller model (smoke check)")
    ap.add_argument("--steps", type=int, default=12)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--layers", type=int, default=4)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--vocab", type=int, default=2048)
    ap.add_argument("--threads", type=int, default=1,
                    help="torch CPU threads (1 = what `privtune train` uses for models this small)")
    args = ap.parse_args()
    if not torch.cuda.is_available():
        torch.set_num_threads(args.threads)
    if args.quick:
        args.steps, args.warmup, args.width, args.layers, args.seq, args.batch = 3, 1, 64, 2, 32, 8
    import warnings

    warnings.filterwarnings("ignore")
    rows = []
    for arch in ("tiny-gpt2", "tiny-llama"):
        for method in ("lora", "full"):
            rows += bench(arch, method, args)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    out = {"rows": rows, "settings": {k: getattr(args, k) for k in ("steps", "warmup", "width", "layers", "seq",
                                                                    "batch", "vocab", "threads")},
           "device": device, "threads": torch.get_num_threads()}
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for r in rows:
            print(f"{r['model']:11s} {r['method']:5s} {r['engine']:13s} step_s={r['step_s']} "
                  f"peak_mb={r['peak_mb']} ratio={r['ratio_vs_nonprivate']} {r['error'] or ''}")


if __name__ == "__main__":
    main()
