"""The `pipeline:` and `threat_model:` config sections (pure pydantic: imported by privtune.config)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from privtune.strict import StrictModel

Adversary = Literal["external_api_users", "insiders", "model_provider"]


class StagesConfig(StrictModel):
    protect_pii: bool = Field(True, description="Scan for PII/secrets and de-identify before training.")
    train: bool = Field(True, description="Fine-tune the model (the `train:` and `dp:` sections).")
    audit: bool = Field(
        True, description="Audit memorization and leakage after training; gates can fail the run."
    )
    release: bool = Field(
        True, description="Sign a manifest, purge temporaries per retention, write the report."
    )


class ThreatModelConfig(StrictModel):
    data_types: list[str] = Field(
        default_factory=lambda: ["customer PII", "payment data", "credentials"],
        description="Kinds of sensitive data present in the training set (shown in the report).",
    )
    adversaries: list[Adversary] = Field(
        default_factory=lambda: ["external_api_users", "insiders"],
        description="Who may try to extract data: external_api_users, insiders, model_provider.",
    )
    worst_case: str = Field(
        "a customer's contact or payment details reproduced verbatim by the model",
        description="The worst leak this deployment must prevent, in plain words.",
    )
    deployment: Literal["api", "internal", "offline"] = Field(
        "api", description="How the model will be used: api (served to users), internal, or offline."
    )
