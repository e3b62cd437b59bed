"""The `serve:` section of the pipeline config (pure pydantic, no heavy imports)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from privtune.strict import StrictModel

GuardAction = Literal["placeholder", "redact", "block", "allow"]


class GuardConfig(StrictModel):
    enabled: bool = Field(True, description="Scan every generated text before it leaves the server.")
    default_action: GuardAction = Field(
        "placeholder",
        description="What happens to a detected PII span: placeholder ([EMAIL_ADDRESS]), redact ([REDACTED]), "
        "block (end the response) or allow.",
    )
    actions: dict[str, GuardAction] = Field(
        default_factory=lambda: {"SECRET": "block", "US_SSN": "block", "CREDIT_CARD": "block"},
        description="Entity type -> action, overriding default_action. Values whose fingerprint is in the "
        "training PII set and canary secrets are always blocked.",
    )
    entities: list[str] | None = Field(
        None, description="Entity types the output scanner looks for (default: the `pii.entities` list)."
    )
    score_threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="Scanner spans below this score are ignored."
    )
    holdback_chars: int = Field(
        64,
        ge=8,
        le=4096,
        description="Streaming hold-back buffer: text is released only once it is this many characters "
        "behind the generation front, so no PII span up to this length is ever emitted in part.",
    )
    review_flagged: bool = Field(
        True, description="Put responses the guard changed or blocked on the review queue."
    )

    @field_validator("actions")
    @classmethod
    def _upper(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [k for k in v if not k.isupper()]
        if bad:
            raise ValueError(f"action keys must be entity types in upper case, got {bad}")
        return v


class RateLimitConfig(StrictModel):
    requests_per_minute: float = Field(
        60.0, gt=0, description="Requests per minute per API key (token bucket)."
    )
    tokens_per_minute: float = Field(
        20000.0,
        gt=0,
        description="Generated tokens per minute per API key (token bucket; max_tokens is reserved).",
    )
    burst_seconds: float = Field(
        60.0,
        gt=0,
        description="Bucket size as seconds of refill: a key may burst this much of its rate at once.",
    )


class ExtractionConfig(StrictModel):
    enabled: bool = Field(True, description="Slow down and flag keys that probe for training data.")
    window_seconds: float = Field(600.0, gt=0, description="How far back prompts are compared.")
    prefix_chars: int = Field(
        48, ge=4, description="Prompts are compared on their first N characters after normalization."
    )
    near_identical: int = Field(
        12,
        ge=2,
        description="Near-identical prompt prefixes in the window before a key is slowed and flagged.",
    )
    enumeration: int = Field(
        8,
        ge=2,
        description="Distinct prompts that differ only in digits/hex runs (a secret space being enumerated) "
        "in the window before a key is slowed and flagged.",
    )
    delay_seconds: float = Field(0.5, ge=0, description="Added delay per request over a threshold.")
    max_delay_seconds: float = Field(10.0, ge=0, description="Upper bound of the added delay.")


class WatermarkConfig(StrictModel):
    enabled: bool = Field(
        False, description="Green-list watermark on sampled tokens (Kirchenbauer et al. 2023)."
    )
    gamma: float = Field(0.25, gt=0, lt=1, description="Green-list fraction γ of the vocabulary.")
    delta: float = Field(2.0, gt=0, description="Logit bias δ added to green tokens.")
    z_threshold: float = Field(
        4.0, gt=0, description="`privtune watermark detect` says watermarked above this z."
    )


class LogConfig(StrictModel):
    consent: bool = Field(
        False,
        description="Users consented to prompt/output logging. Only then are prompts and outputs logged, and "
        "only in anonymized form (scanner applied).",
    )
    path: str | None = Field(None, description="Request log (JSONL); default <run>/serve/requests.jsonl.")


class ServeConfig(StrictModel):
    host: str = Field("127.0.0.1", description="Address to bind (loopback by default).")
    port: int = Field(8000, ge=0, le=65535, description="TCP port.")
    model_name: str | None = Field(
        None, description="Model id shown in /v1/models (default: the run's name)."
    )
    max_tokens: int = Field(512, ge=1, description="Upper bound on max_tokens per request.")
    default_max_tokens: int = Field(64, ge=1, description="max_tokens when a request gives none.")
    max_prompt_chars: int = Field(16000, ge=1, description="Longer prompts are refused (400).")
    concurrency: int = Field(4, ge=1, description="Generations running at once (others wait).")
    threads: int = Field(1, ge=1, description="torch threads per generation.")
    adapter: Literal["trained", "base"] = Field(
        "trained", description="Serve the fine-tuned model (trained) or the reference model (base)."
    )
    guard: GuardConfig = Field(default_factory=GuardConfig, description="Output PII filter.")
    rate_limit: RateLimitConfig = Field(default_factory=RateLimitConfig, description="Per-key rate limits.")
    extraction: ExtractionConfig = Field(
        default_factory=ExtractionConfig, description="Extraction throttling."
    )
    watermark: WatermarkConfig = Field(default_factory=WatermarkConfig, description="Output watermarking.")
    log: LogConfig = Field(
        default_factory=LogConfig, description="Request logging (anonymized, with consent)."
    )
