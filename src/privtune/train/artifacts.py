"""Model artifacts in the run directory, always safetensors, always through the ArtifactStore.

    train/base/         the reference model: config.json + model.safetensors (presets) or source.json
                        (a local directory), and tokenizer.json (sensitive: trained on the data)
    train/model/        meta.json + adapter.safetensors (LoRA) or model.safetensors (full)
    train/checkpoint/   state.safetensors (trainable weights, optimizer, accountant) + best.safetensors

Public API: `load_base_model(run_dir, store)` and `load_trained_model(run_dir, store)`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as st_load
from safetensors.torch import save as st_save

from privtune.errors import InputError
from privtune.rundir import RunDir
from privtune.secure.store import ArtifactStore

BASE = "train/base"
MODEL = "train/model"
CKPT = "train/checkpoint"


def save_tensors(store: ArtifactStore, name: str, tensors: dict[str, torch.Tensor], meta: dict[str, Any] | None = None,
                 sensitive: bool = True) -> None:
    """Atomic safetensors write; `meta` travels as JSON in the safetensors header."""
    data = {k: v.detach().to("cpu").contiguous() for k, v in tensors.items()}
    header = {"privtune": json.dumps(meta or {}, sort_keys=True)}
    store.write(name, st_save(data, metadata=header), sensitive=sensitive)


def load_tensors(store: ArtifactStore, name: str) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    raw = store.read_bytes(name)
    n = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + n])
    meta = json.loads(header.get("__metadata__", {}).get("privtune", "{}"))
    return st_load(raw), meta


def save_base(store: ArtifactStore, model: Any, tokenizer: Any, local_path: str | None) -> None:
    from privtune.train.models import tokenizer_state

    if local_path is not None:
        store.write_json(f"{BASE}/source.json", {"path": str(Path(local_path).resolve())})
        return
    store.write_json(f"{BASE}/config.json", model.config.to_dict())
    state = {k: v for k, v in model.state_dict().items()}
    # tied parameters are stored once (safetensors refuses shared storage)
    seen: dict[int, str] = {}
    unique = {}
    for k, v in state.items():
        if v.data_ptr() in seen:
            continue
        seen[v.data_ptr()] = k
        unique[k] = v
    save_tensors(store, f"{BASE}/model.safetensors", unique, sensitive=False)  # random init, no data in it
    store.write(f"{BASE}/tokenizer.json", tokenizer_state(tokenizer), sensitive=True)


def _run_and_store(run_dir: str | Path | RunDir, store: ArtifactStore | None) -> ArtifactStore:
    if store is not None:
        return store
    from privtune.secure.store import open_store

    run = run_dir if isinstance(run_dir, RunDir) else RunDir(run_dir, create=False)
    return open_store(run)


def load_base_model(run_dir: str | Path | RunDir, store: ArtifactStore | None = None) -> tuple[Any, Any]:
    """The reference model before fine-tuning, and its tokenizer (eval mode)."""
    store = _run_and_store(run_dir, store)
    if store.exists(f"{BASE}/source.json"):
        from privtune.train.models import load_local

        model, tok = load_local(Path(store.read_json(f"{BASE}/source.json")["path"]))
    elif store.exists(f"{BASE}/config.json"):
        from transformers import AutoConfig, AutoModelForCausalLM

        from privtune.train.models import tokenizer_from_json

        cfg_dict = store.read_json(f"{BASE}/config.json")
        config = AutoConfig.for_model(**cfg_dict)
        model = AutoModelForCausalLM.from_config(config)
        tensors, _ = load_tensors(store, f"{BASE}/model.safetensors")
        model.load_state_dict(tensors, strict=False)
        model.tie_weights()
        tok = tokenizer_from_json(json.loads(store.read_bytes(f"{BASE}/tokenizer.json"))["tokenizer"])
    else:
        raise InputError(f"{store.run.path}: no trained base model (run `privtune train` first)")
    model.eval()
    return model, tok


def trainable_state(model: Any) -> dict[str, torch.Tensor]:
    return {n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad}


def save_model(store: ArtifactStore, model: Any, weights: dict[str, torch.Tensor], meta: dict[str, Any]) -> None:
    """The trained weights (adapter or full trainable set) + meta.json; sensitive (they saw the data)."""
    name = "adapter.safetensors" if meta["method"] == "lora" else "model.safetensors"
    save_tensors(store, f"{MODEL}/{name}", weights, meta)
    store.write_json(f"{MODEL}/meta.json", meta)


def load_trained_model(run_dir: str | Path | RunDir, store: ArtifactStore | None = None) -> tuple[Any, Any]:
    """The fine-tuned model (LoRA merged into the base) and its tokenizer, in eval mode."""
    store = _run_and_store(run_dir, store)
    if not store.exists(f"{MODEL}/meta.json"):
        raise InputError(f"{store.run.path}: no trained model (run `privtune train` first)")
    meta = store.read_json(f"{MODEL}/meta.json")
    model, tok = load_base_model(run_dir, store)
    if meta["method"] == "lora":
        from privtune.train.config import LoraConfig
        from privtune.train.models import apply_lora

        model = apply_lora(model, LoraConfig.model_validate(meta["lora"]))
        tensors, _ = load_tensors(store, f"{MODEL}/adapter.safetensors")
    else:
        tensors, _ = load_tensors(store, f"{MODEL}/model.safetensors")
    named = dict(model.named_parameters())
    missing = [k for k in tensors if k not in named]
    if missing:
        raise InputError(f"{MODEL}: weights do not fit the base model ({len(missing)} unknown tensors)")
    with torch.no_grad():
        for k, v in tensors.items():
            named[k].copy_(v)
    if meta["method"] == "lora":
        model = model.merge_and_unload()
    model.eval()
    return model, tok
