"""Base models: a local Hugging Face causal LM directory (safetensors only) or a tiny preset.

Presets build a randomly initialised GPT-2 or Llama from config with a byte-level BPE tokenizer
trained on all the run's records (training and validation alike, so neither side tokenizes shorter;
never canaries), so tests and demos never download anything. That tokenizer is not covered by DP.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from privtune.errors import ConfigError, InputError
from privtune.train.config import ModelConfig

PRESETS = ("tiny-gpt2", "tiny-llama")
SPECIAL = {"bos_token": "<|bos|>", "eos_token": "<|eos|>", "pad_token": "<|pad|>", "unk_token": "<|unk|>"}
PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt", ".pkl")

# LoRA defaults per architecture (module names as they appear in the model)
LORA_TARGETS = {
    "gpt2": ["c_attn", "c_proj", "c_fc"],
    "llama": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    "mistral": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
    "qwen2": ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
}


def train_tokenizer(texts: Iterable[str], vocab_size: int) -> Any:
    """Byte-level BPE trained on `texts`, wrapped as a transformers fast tokenizer."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE(unk_token=SPECIAL["unk_token"]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=list(SPECIAL.values()),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(texts, trainer=trainer)
    return tokenizer_from_json(tok.to_str())


def tokenizer_from_json(data: str) -> Any:
    from tokenizers import Tokenizer
    from transformers import PreTrainedTokenizerFast

    return PreTrainedTokenizerFast(tokenizer_object=Tokenizer.from_str(data), **SPECIAL)


def preset_config(name: str, cfg: ModelConfig, vocab_size: int, max_length: int, tokenizer: Any) -> Any:
    """The transformers config of a preset (dropout off: exact per-example gradients and determinism)."""
    if cfg.width % cfg.heads:
        raise ConfigError(f"train.model.width ({cfg.width}) must be a multiple of train.model.heads ({cfg.heads})")
    ids = dict(bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id)
    if name == "tiny-gpt2":
        from transformers import GPT2Config

        return GPT2Config(
            vocab_size=vocab_size, n_positions=max(max_length, 64), n_embd=cfg.width, n_layer=cfg.layers,
            n_head=cfg.heads, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, tie_word_embeddings=True, **ids,
        )
    from transformers import LlamaConfig

    return LlamaConfig(
        vocab_size=vocab_size, hidden_size=cfg.width, intermediate_size=cfg.width * 8 // 3 // 8 * 8 or 8,
        num_hidden_layers=cfg.layers, num_attention_heads=cfg.heads, num_key_value_heads=cfg.heads,
        max_position_embeddings=max(max_length, 64), tie_word_embeddings=False, **ids,
    )


def build_preset(name: str, cfg: ModelConfig, texts: Iterable[str], max_length: int, seed: int) -> tuple[Any, Any]:
    """(model, tokenizer) for a preset, deterministic given the texts and seed."""
    import torch
    from transformers import AutoModelForCausalLM

    tokenizer = train_tokenizer(texts, cfg.vocab_size)
    config = preset_config(name, cfg, len(tokenizer), max_length, tokenizer)
    torch.manual_seed(seed)
    model = AutoModelForCausalLM.from_config(config)
    return model, tokenizer


def check_model_dir(path: Path) -> None:
    """Refuse missing directories and pickle-only checkpoints (arbitrary code on load)."""
    if not path.is_dir():
        raise InputError(f"{path}: model directory not found (give a local Hugging Face model dir or a preset: "
                         f"{', '.join(PRESETS)})")
    if not (path / "config.json").exists():
        raise InputError(f"{path}: no config.json; not a Hugging Face model directory")
    names = [p.name for p in path.iterdir()]
    if not any(n.endswith(".safetensors") for n in names):
        pickles = [n for n in names if n.endswith(PICKLE_SUFFIXES)]
        if pickles:
            raise InputError(f"{path}: only pickle checkpoints ({', '.join(sorted(pickles)[:3])}); privtune loads "
                             "safetensors only (convert with safetensors' convert script)")
        raise InputError(f"{path}: no *.safetensors weights found")
    from privtune.secure.safeload import require_safetensors

    for f in path.glob("*.safetensors"):
        require_safetensors(f)  # header check: a renamed pickle is refused too


def load_local(path: Path) -> tuple[Any, Any]:
    """(model, tokenizer) from a local directory; never remote code, never pickle."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    check_model_dir(path)
    config = AutoConfig.from_pretrained(path, local_files_only=True, trust_remote_code=False)
    archs = config.architectures or []
    if archs and not any(a.endswith(("ForCausalLM", "LMHeadModel")) for a in archs):
        raise InputError(f"{path}: architecture {', '.join(archs)} has no causal language-model head")
    try:
        model = AutoModelForCausalLM.from_pretrained(
            path, local_files_only=True, trust_remote_code=False, use_safetensors=True
        )
    except ValueError as exc:
        if "Unrecognized configuration class" in str(exc):
            raise InputError(f"{path}: model type {config.model_type!r} has no causal language-model head") from None
        raise
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True, trust_remote_code=False)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return model, tokenizer


def apply_lora(model: Any, lora: Any) -> Any:
    """Wrap with peft LoRA; unknown target modules are a clear error listing the valid ones."""
    from peft import LoraConfig, get_peft_model

    model_type = getattr(model.config, "model_type", "")
    targets = lora.target_modules or LORA_TARGETS.get(model_type)
    if not targets:
        raise ConfigError(f"no default LoRA targets for model type {model_type!r}; set train.lora.target_modules "
                          f"(valid: {', '.join(lora_candidates(model))})")
    valid = set(lora_candidates(model))
    missing = [t for t in targets if t not in valid]
    if missing:
        raise ConfigError(f"LoRA target modules not in the model: {', '.join(missing)}; valid: {', '.join(sorted(valid))}")
    cfg = LoraConfig(
        r=lora.rank, lora_alpha=lora.alpha, lora_dropout=lora.dropout, target_modules=targets,
        fan_in_fan_out=model_type == "gpt2", task_type="CAUSAL_LM", bias="none",
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # peft calls a deprecated transformers alias
        return get_peft_model(model, cfg)


def lora_candidates(model: Any) -> list[str]:
    """Leaf names of modules LoRA can adapt (Linear / Conv1D), excluding the output head."""
    names = set()
    for name, module in model.named_modules():
        if type(module).__name__ in ("Linear", "Conv1D") and name and not name.endswith("lm_head"):
            names.add(name.rsplit(".", 1)[-1])
    return sorted(names)


def model_summary(model: Any) -> dict[str, Any]:
    cfg = model.config
    return {"model_type": cfg.model_type, "layers": getattr(cfg, "num_hidden_layers", None),
            "hidden_size": getattr(cfg, "hidden_size", None), "vocab_size": cfg.vocab_size}


def tokenizer_state(tokenizer: Any) -> bytes:
    """The tokenizer as bytes for the (sensitive: its vocabulary comes from the data) store."""
    return json.dumps({"tokenizer": tokenizer.backend_tokenizer.to_str()}).encode()
