"""The training loop: DP-SGD (or a non-private baseline) over Poisson-sampled logical batches.

Read top to bottom: load records -> split -> canaries -> model -> plan the privacy budget ->
loop { sample, micro-batches, clip, noise, step, account, validate, checkpoint } -> artifacts.
Everything random is a function of (seed, step), so a run resumed after SIGKILL from its last
checkpoint replays exactly the steps an uninterrupted run would take.
"""

from __future__ import annotations

import math
import time
from pathlib import Path
from typing import Any

import torch

from privtune.errors import ConfigError, InputError, PrivtuneError
from privtune.rundir import RunDir
from privtune.secure.store import ArtifactStore, open_store
from privtune.train import artifacts as art
from privtune.train.accounting import Plan, PrivacyAccountant, calibrate_noise
from privtune.train.canaries import canary_records, make_canaries
from privtune.train.data import Example, collate, encode, per_example_loss, split_validation, unit_of
from privtune.train.dp.engine import DPEngine
from privtune.train.dp.sampler import PoissonSampler, micro_batches, step_generator
from privtune.train.models import PRESETS, apply_lora, build_preset, load_local, model_summary
from privtune.train.runtime import configure_threads

SOURCES = ("protect/train.jsonl", "ingest/records.jsonl")


def _device(choice: str) -> torch.device:
    if choice == "cuda" and not torch.cuda.is_available():
        raise ConfigError("train.device is cuda but no CUDA device is available")
    if choice == "cuda" or (choice == "auto" and torch.cuda.is_available()):
        return torch.device("cuda")
    return torch.device("cpu")


def _ddp() -> tuple[int, int]:
    """(rank, world size); joins the process group when started by torchrun (gloo on CPU, nccl on GPU)."""
    import os

    import torch.distributed as dist

    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and dist.is_available() and not dist.is_initialized():
        dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def load_records(store: ArtifactStore) -> tuple[str, list[dict[str, Any]]]:
    for name in SOURCES:
        if store.exists(name):
            return name, list(store.iter_jsonl(name))
    raise InputError(f"{store.run.path}: no training records (expected {' or '.join(SOURCES)}; run ingest first)")


def evaluate(model: Any, examples: list[Example], pad_id: int, device: torch.device, micro: int) -> float | None:
    """Token-weighted mean validation loss."""
    if not examples:
        return None
    model.eval()
    total, count = 0.0, 0
    with torch.no_grad(), _autocast(device):
        for i in range(0, len(examples), micro):
            loss, n = per_example_loss(model, collate(examples[i : i + micro], pad_id, device))
            total += float((loss * n).sum())
            count += int(n.sum())
    model.train()
    return total / max(count, 1)


def _autocast(device: torch.device) -> Any:
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.bfloat16)
    import contextlib

    return contextlib.nullcontext()


def _save_checkpoint(store: ArtifactStore, model: Any, opt: torch.optim.Optimizer, meta: dict[str, Any]) -> None:
    tensors = {f"param.{n}": p for n, p in model.named_parameters() if p.requires_grad}
    opt_state = opt.state_dict()
    for idx, st in opt_state["state"].items():
        for k, v in st.items():
            tensors[f"opt.{idx}.{k}"] = v if torch.is_tensor(v) else torch.tensor(v)
    art.save_tensors(store, f"{art.CKPT}/state.safetensors", tensors, {**meta, "param_groups": opt_state["param_groups"]})


def _load_checkpoint(store: ArtifactStore, model: Any, opt: torch.optim.Optimizer) -> dict[str, Any]:
    tensors, meta = art.load_tensors(store, f"{art.CKPT}/state.safetensors")
    named = dict(model.named_parameters())
    state: dict[int, dict[str, torch.Tensor]] = {}
    with torch.no_grad():
        for k, v in tensors.items():
            if k.startswith("param."):
                named[k[6:]].copy_(v)
            else:
                _, idx, key = k.split(".", 2)
                state.setdefault(int(idx), {})[key] = v
    opt.load_state_dict({"state": state, "param_groups": meta.pop("param_groups")})
    return meta


def train_run(run_path: str | Path, cfg: Any, resume: bool = False, quiet: bool = True) -> dict[str, Any]:
    """Train on the run's records per `cfg` (a PipelineConfig); returns the summary it writes.

    torch's thread count is changed for training only (see `runtime.configure_threads`) and restored after.
    """
    threads = torch.get_num_threads()
    try:
        return _train(run_path, cfg, resume, quiet)
    finally:
        torch.set_num_threads(threads)


def _train(run_path: str | Path, cfg: Any, resume: bool, quiet: bool) -> dict[str, Any]:
    run = RunDir(run_path, create=False)
    store = open_store(run, getattr(cfg, "security", None))
    tc, dc = cfg.train, cfg.dp
    seed = cfg.run.seed if tc.seed is None else tc.seed
    rank, world = _ddp()
    if resume and not store.exists(f"{art.CKPT}/state.safetensors"):
        raise InputError(f"{run.path}: nothing to resume (no train/checkpoint/state.safetensors)")

    # 1. data: records -> train/validation split (by user when user-level) + canaries
    source, records = load_records(store)
    has_users = any(r.get("user_id") is not None for r in records)
    if dc.unit == "user" and not has_users:
        raise ConfigError("dp.unit is user but the records carry no user_id (set ingest.user_id_field)")
    by_user = dc.unit == "user" or (dc.unit == "auto" and has_users)
    train_recs, val_recs = split_validation(records, tc.validation_fraction, seed, by_user)
    if tc.canaries.count and resume and store.exists("train/canaries.json"):
        canaries = store.read_json("train/canaries.json")
    elif tc.canaries.count:
        if rank == 0:
            store.write_json("train/canaries.json", make_canaries(tc.canaries), sensitive=True)
        _barrier(world)  # every worker trains on the secrets rank 0 drew
        canaries = store.read_json("train/canaries.json")
    else:
        canaries = None
    # the preset tokenizer sees members and held-out records alike (never canaries): a vocabulary fitted
    # to the training side alone makes members tokenize shorter, a membership signal outside DP
    data_texts = [v for r in records for _k, v in _texts(r)]
    if canaries:
        train_recs = train_recs + canary_records(canaries)
    if rank == 0:
        run.begin_stage("train", {source: store.hash(source)}, cfg.section_hash("train") + cfg.section_hash("dp"))

    # 2. model: preset (tokenizer trained on all ingested records, no canaries) or local directory
    if tc.model.path in PRESETS:
        if resume:
            model, tokenizer = art.load_base_model(run, store)
        else:
            model, tokenizer = build_preset(tc.model.path, tc.model, data_texts, tc.max_length, seed)
        local = None
    else:
        model, tokenizer = load_local(Path(tc.model.path))
        local = tc.model.path
    if rank == 0 and not resume:
        art.save_base(store, model, tokenizer, local)
    device = _device(tc.device)
    if device.type == "cpu":
        configure_threads(model, tc.threads)
    model.to(device)  # before peft wraps it: LoRA weights are created on the right device
    if tc.method == "lora":
        model = apply_lora(model, tc.lora)
    else:
        for p in model.parameters():
            p.requires_grad_(True)
    model.train()

    # 3. examples and units of privacy
    train_ex = [Example(r["id"], unit_of(r, by_user), *encode(r, tokenizer, tc.max_length)) for r in train_recs]
    val_ex = [Example(r["id"], unit_of(r, by_user), *encode(r, tokenizer, tc.max_length)) for r in val_recs]
    unit_index: dict[str, list[int]] = {}
    for i, e in enumerate(train_ex):
        unit_index.setdefault(e.unit, []).append(i)
    units = list(unit_index.values())
    n_units = len(units)
    plan = Plan.from_data(n_units, tc.batch_size, epochs=tc.epochs, steps=tc.max_steps)
    q, steps = plan.sample_rate, plan.steps
    sampler = PoissonSampler(units, q, seed, dc.max_records_per_user if by_user else None)

    # 4. privacy: σ from the target ε (or given), δ below 1/N
    delta = dc.delta if dc.delta is not None else 1.0 / (10 * n_units)
    sigma = 0.0
    if dc.enabled:
        if dc.noise_multiplier is not None:
            sigma = dc.noise_multiplier
        elif dc.target_epsilon is not None:
            sigma = calibrate_noise(dc.target_epsilon, q, steps, delta, dc.accountant)
        else:
            raise ConfigError("dp needs target_epsilon or noise_multiplier (or enabled: false)")
    accountant = PrivacyAccountant(dc.accountant, delta)
    engine = DPEngine(model, dc.max_grad_norm, sigma, dc.clipping) if dc.enabled else None
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=tc.learning_rate, weight_decay=tc.weight_decay)

    start, best_loss, best_step, history = 0, math.inf, -1, []
    if resume:
        meta = _load_checkpoint(store, model, opt)
        accountant = PrivacyAccountant.from_state(meta["accountant"])
        start, best_loss, best_step, history = meta["step"], meta["best_loss"], meta["best_step"], meta["history"]
        if (meta["sigma"], meta["sample_rate"], meta["steps"]) != (sigma, q, steps):
            raise ConfigError("the config changed since the checkpoint (σ, q or steps differ); cannot resume")
    budget_steps = steps
    if dc.enabled and dc.target_epsilon is not None:
        budget_steps = _steps_within_budget(accountant, sigma, q, steps, dc.target_epsilon)
        if budget_steps <= start and start < steps:
            raise PrivtuneError(f"ε={dc.target_epsilon} is already spent after {start} steps; nothing left to train")

    # 5. the loop
    pad_id = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    t0 = time.time()
    for step in range(start, budget_steps):  # never a step that would push ε past the target
        torch.manual_seed(seed * 7919 + step)  # dropout, if any
        sampled = sampler.sample(step)
        mbs = micro_batches(sampled, tc.micro_batch_size)
        for j, (idx, u_of) in enumerate(mbs):
            if j % world != rank:
                continue
            batch = collate([train_ex[i] for i in idx], pad_id, device)
            try:
                if engine is not None:
                    u = torch.tensor(u_of, device=device) if by_user else None
                    with engine.capture(len(idx), u), _autocast(device):
                        loss, _ = per_example_loss(model, batch)
                    loss.sum().backward()
                    engine.accumulate()
                else:
                    with _autocast(device):
                        loss, _ = per_example_loss(model, batch)
                    (loss.sum() / (q * n_units)).backward()
            except torch.OutOfMemoryError:
                raise PrivtuneError(
                    f"out of memory on a micro-batch of {len(idx)} examples; lower train.micro_batch_size "
                    f"(now {tc.micro_batch_size}) or train.max_length"
                ) from None
        if engine is not None:
            engine.reduce()
            engine.finalize(q * n_units, step_generator(seed, step, 1))
            accountant.step(sigma, q)
        elif world > 1:
            _allreduce_grads(params)
        opt.step()
        opt.zero_grad(set_to_none=True)

        done = step + 1
        if done % tc.eval_every == 0 or done == budget_steps:
            val = evaluate(model, val_ex, pad_id, device, tc.micro_batch_size)
            history.append({"step": done, "val_loss": val})
            if rank == 0:
                if val is not None and val < best_loss:
                    best_loss, best_step = val, done
                    art.save_tensors(store, f"{art.CKPT}/best.safetensors", art.trainable_state(model), {"step": done})
                _save_checkpoint(store, model, opt, {
                    "step": done, "accountant": accountant.state_dict(), "best_loss": best_loss,
                    "best_step": best_step, "history": history, "sigma": sigma, "sample_rate": q, "steps": steps,
                })
            if not quiet:
                from privtune.cli.output import err_console

                eps = f" ε={accountant.epsilon():.3f}" if engine is not None else ""
                err_console.print(f"step {done}/{steps}  val_loss={val if val is None else round(val, 4)}{eps}")

    # 6. artifacts: final weights (best or last), splits, summary
    if tc.checkpoint == "best" and best_step > 0 and store.exists(f"{art.CKPT}/best.safetensors"):
        weights, _ = art.load_tensors(store, f"{art.CKPT}/best.safetensors")
        chosen = best_step
    else:
        weights, chosen = art.trainable_state(model), budget_steps
    epsilon = accountant.epsilon() if engine is not None else None
    val_loss = next((h["val_loss"] for h in history if h["step"] == chosen), None)
    summary = {
        "dp": engine is not None,
        "epsilon": epsilon,
        "delta": delta if engine is not None else None,
        "noise_multiplier": sigma if engine is not None else None,
        "sample_rate": q,
        "steps": accountant.steps if engine is not None else budget_steps,
        "planned_steps": steps,
        "stopped_for_budget": budget_steps < steps,
        "expected_batch_size": q * n_units,
        "max_grad_norm": dc.max_grad_norm,
        "clipping": dc.clipping,
        "accountant": dc.accountant,
        "unit_of_privacy": "user" if by_user else "record",
        "units": n_units,
        "method": tc.method,
        "model": {"path": tc.model.path, **model_summary(model)},
        "checkpoint": tc.checkpoint,
        "checkpoint_step": chosen,
        "val_loss": val_loss,
        "val_perplexity": math.exp(val_loss) if val_loss is not None and val_loss < 50 else None,
        "history": history,
        "train_records": len([r for r in train_recs if not str(r["id"]).startswith("canary-")]),
        "validation_records": len(val_recs),
        "canaries": len(canaries["canaries"]) if canaries else 0,
        "source": source,
        "seconds": round(time.time() - t0, 2),
    }
    if rank == 0:
        meta = {"method": tc.method, "lora": tc.lora.model_dump(), "step": chosen}
        art.save_model(store, model, weights, meta)
        store.write_json("train/splits.json", {
            "train_ids": [r["id"] for r in train_recs if not str(r["id"]).startswith("canary-")],
            "validation_ids": [r["id"] for r in val_recs],
            "unit_of_privacy": summary["unit_of_privacy"],
        })
        store.write_json("train/summary.json", summary)
        outputs = {n: store.hash(n) for n in ("train/summary.json", "train/splits.json", f"{art.MODEL}/meta.json")}
        run.finish_stage("train", outputs, {k: summary[k] for k in ("epsilon", "delta", "steps", "unit_of_privacy")})
    return summary


def _steps_within_budget(acc: PrivacyAccountant, sigma: float, q: float, steps: int, target: float) -> int:
    """The largest step count ≤ `steps` whose ε stays within `target` (bisection over steps)."""
    done = acc.steps
    if steps <= done or acc.epsilon(steps - done, sigma, q) <= target:
        return steps
    lo, hi = done, steps  # ε(lo) ≤ target < ε(hi)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if acc.epsilon(mid - done, sigma, q) <= target:
            lo = mid
        else:
            hi = mid
    return lo


def _texts(record: dict[str, Any]) -> list[tuple[str, str]]:
    from privtune.records import text_fields

    return list(text_fields(record))


def _barrier(world: int) -> None:
    if world > 1:
        import torch.distributed as dist

        dist.barrier()


def _allreduce_grads(params: list[torch.nn.Parameter]) -> None:
    import torch.distributed as dist

    for p in params:
        if p.grad is None:
            p.grad = torch.zeros_like(p)
        dist.all_reduce(p.grad)
