"""The `train:` and `dp:` sections of the pipeline config (pure pydantic, no heavy imports)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from privtune.strict import StrictModel

Accountant = Literal["prv", "rdp", "pld"]


class ModelConfig(StrictModel):
    path: str = Field(
        "tiny-gpt2",
        description="Local Hugging Face causal LM directory (safetensors weights), or a preset: "
        "`tiny-gpt2`, `tiny-llama` (random init, tokenizer trained on all the run's records, not covered by DP).",
    )
    layers: int = Field(2, ge=1, description="Presets only: number of transformer layers.")
    width: int = Field(64, ge=8, description="Presets only: hidden size (a multiple of `heads`).")
    heads: int = Field(4, ge=1, description="Presets only: attention heads.")
    vocab_size: int = Field(512, ge=64, description="Presets only: size of the BPE vocabulary trained on the data.")


class LoraConfig(StrictModel):
    rank: int = Field(8, ge=1, description="LoRA rank r.")
    alpha: float = Field(16.0, gt=0, description="LoRA scaling alpha (effective scale alpha / r).")
    dropout: float = Field(0.0, ge=0, lt=1, description="Dropout on the LoRA input.")
    target_modules: list[str] | None = Field(
        None,
        description="Module names to adapt (e.g. [q_proj, v_proj]); default per architecture "
        "(GPT-2: c_attn, c_proj, c_fc; Llama-style: q/k/v/o and MLP projections).",
    )


class CanaryConfig(StrictModel):
    count: int = Field(0, ge=0, description="Canaries per repetition count (0 disables canaries).")
    repetitions: list[int] = Field([1, 4, 16], description="Copies of each canary inserted into training data.")
    format: str = Field("my account PIN is {secret}", description="Canary text; `{secret}` is replaced.")
    alphabet: str = Field("0123456789", min_length=2, description="Characters secrets are drawn from.")
    length: int = Field(6, ge=1, le=32, description="Secret length (reference space = len(alphabet)**length).")
    audit_mode: bool = Field(
        False,
        description="One-run audit: include each canary with probability 1/2 and record inclusion.",
    )

    @model_validator(mode="after")
    def _has_placeholder(self) -> CanaryConfig:
        if "{secret}" not in self.format:
            raise ValueError("format must contain {secret}")
        if any(r < 1 for r in self.repetitions):
            raise ValueError("repetitions must be >= 1")
        return self


class TrainConfig(StrictModel):
    model: ModelConfig = Field(default_factory=ModelConfig, description="Base model to fine-tune.")
    method: Literal["lora", "full"] = Field("lora", description="LoRA adapters (peft) or full fine-tuning.")
    lora: LoraConfig = Field(default_factory=LoraConfig, description="LoRA settings (method: lora).")
    epochs: float = Field(3.0, gt=0, description="Passes over the data (sets the number of steps with q).")
    max_steps: int | None = Field(None, ge=1, description="Stop after this many optimizer steps (overrides epochs).")
    batch_size: int = Field(16, ge=1, description="Expected logical batch size (Poisson: sample rate = batch/N).")
    micro_batch_size: int = Field(8, ge=1, description="Physical micro-batch size (bounds memory).")
    max_length: int = Field(128, ge=8, description="Maximum tokens per example (longer ones are truncated).")
    learning_rate: float = Field(1e-3, gt=0, description="AdamW learning rate.")
    weight_decay: float = Field(0.0, ge=0, description="AdamW weight decay.")
    validation_fraction: float = Field(0.1, ge=0, lt=1, description="Share of records held out for validation.")
    eval_every: int = Field(50, ge=1, description="Validate (and checkpoint) every this many steps.")
    checkpoint: Literal["best", "last"] = Field(
        "best", description="Which weights become the trained model: best validation loss or last step."
    )
    device: Literal["auto", "cpu", "cuda"] = Field("cpu", description="`cpu` (default), `cuda`, or `auto`.")
    seed: int | None = Field(None, description="Training seed (default: run.seed).")
    threads: int | None = Field(
        None,
        ge=1,
        description="CPU threads for torch; default: 1 for models under 20M parameters (faster on small or "
        "shared CPUs), else torch's default. OMP_NUM_THREADS is respected when unset.",
    )
    canaries: CanaryConfig = Field(default_factory=CanaryConfig, description="Canary insertion for the audit.")


class DPConfig(StrictModel):
    enabled: bool = Field(True, description="Train with DP-SGD (disable only for baselines).")
    target_epsilon: float | None = Field(8.0, gt=0, description="Privacy budget ε; σ is calibrated to it.")
    noise_multiplier: float | None = Field(
        None,
        gt=0,
        description="Noise multiplier σ; σ is then not calibrated, and training stops early if the next step "
        "would exceed target_epsilon (set target_epsilon: null to run every step).",
    )
    delta: float | None = Field(None, gt=0, lt=1, description="δ; default 1/(10·N) with N = units of privacy.")
    max_grad_norm: float = Field(1.0, gt=0, description="Clipping bound C on each unit's gradient.")
    clipping: Literal["flat", "per_layer"] = Field(
        "flat", description="Flat clipping, or per-layer (each parameter clipped to C/sqrt(#params))."
    )
    accountant: Accountant = Field("prv", description="Privacy accountant: prv (default), rdp or pld.")
    unit: Literal["auto", "record", "user"] = Field(
        "auto", description="Unit of privacy: `user` when records carry user_id (auto), else `record`."
    )
    max_records_per_user: int = Field(
        8, ge=1, description="User-level DP: at most this many records of a user per step (sampled)."
    )

