"""The `audit:` section of the pipeline config (pure pydantic, no heavy imports)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from privtune.strict import StrictModel


class ExposureConfig(StrictModel):
    method: Literal["auto", "exact", "extrapolate"] = Field(
        "auto",
        description="Canary exposure: `exact` ranks against every candidate secret, `extrapolate` fits a "
        "skew-normal to a sample; `auto` is exact when the space has at most `exact_max_space` candidates.",
    )
    exact_max_space: int = Field(
        100_000,
        ge=1,
        description="Largest secret space enumerated exactly under `auto` (10^6 takes minutes on CPU).",
    )
    sample_size: int = Field(5_000, ge=100, description="Reference secrets sampled for the skew-normal fit.")
    batch_size: int = Field(1024, ge=1, description="Candidates scored per forward pass.")


class MembershipConfig(StrictModel):
    max_records: int = Field(
        300, ge=10, description="Members and non-members scored (each side sampled down to this many)."
    )
    k: float = Field(
        0.2, gt=0, le=1, description="Fraction of lowest-probability tokens for Min-K% and Min-K%++."
    )


class ExtractionConfig(StrictModel):
    prefix_records: int = Field(100, ge=0, description="Training records attacked with their own prefix.")
    prefix_tokens: int = Field(16, ge=1, description="Prompt length (tokens) of the prefix attack.")
    suffix_tokens: int = Field(
        32, ge=1, description="Tokens generated (greedy) and compared with the true continuation."
    )
    near_verbatim: float = Field(
        0.9,
        gt=0,
        le=1,
        description="Token-overlap ratio (difflib) above which a continuation counts as near-verbatim.",
    )
    samples: int = Field(100, ge=0, description="Untargeted generations (0 disables the untargeted attack).")
    max_new_tokens: int = Field(48, ge=1, description="Length of each untargeted generation.")
    top_k: int = Field(40, ge=1, description="Top-k sampling for untargeted generation.")
    temperature_start: float = Field(
        10.0, gt=0, description="Temperature decay: initial temperature (diverse openings) ..."
    )
    temperature_decay_tokens: int = Field(
        20, ge=0, description="... decayed linearly to 1 over this many tokens (Carlini et al. 2021)."
    )
    top_candidates: int = Field(
        20, ge=1, description="Generations kept per ranking metric and checked against training."
    )


class GateConfig(StrictModel):
    max_canary_exposure: float | None = Field(
        10.0, description="Fail when any canary's exposure (bits) exceeds this (null disables)."
    )
    max_pii_leaks: int | None = Field(
        0, description="Fail when more training PII values are regurgitated (null disables)."
    )
    max_mia_auc: float | None = Field(
        0.6,
        description="Fail when the best membership-inference ROC AUC exceeds this, judged by its one-sided "
        "95% lower bound (null disables).",
    )
    min_mia_nonmembers: int = Field(
        30, ge=1, description="Held-out records needed before the membership gate is judged (fewer: not measured)."
    )
    max_unique_16gram_overlap: float | None = Field(
        0.1,
        description="Fail when more than this fraction of generated 16-grams occur in exactly one training "
        "record (memorised, not a shared template); null disables.",
    )
    epsilon_consistency: bool = Field(
        True,
        description="Fail when the one-run empirical ε lower bound exceeds the accountant's ε (a DP bug).",
    )


class AuditConfig(StrictModel):
    exposure: ExposureConfig = Field(
        default_factory=ExposureConfig, description="Canary exposure measurement."
    )
    membership: MembershipConfig = Field(
        default_factory=MembershipConfig, description="Membership inference."
    )
    extraction: ExtractionConfig = Field(default_factory=ExtractionConfig, description="Extraction attacks.")
    gates: GateConfig = Field(
        default_factory=GateConfig, description="Thresholds that fail the audit (exit 3)."
    )
    ngram_sizes: list[int] = Field([8, 16], description="n of the n-gram overlap statistics.")
    one_run_guess_fraction: float = Field(
        0.25, gt=0, le=0.5, description="One-run audit: share of canaries guessed `in` (and as many `out`)."
    )
    significance: float = Field(
        0.05, gt=0, lt=1, description="Significance level of the one-run ε lower bound."
    )
    batch_size: int = Field(16, ge=1, description="Texts per forward pass when scoring records.")
    seed: int | None = Field(None, description="Sampling seed (default: run.seed).")
