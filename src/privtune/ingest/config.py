"""The `ingest:` section of the pipeline config."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from privtune.strict import StrictModel

RecordSchema = Literal["text", "prompt_completion", "chat"]
InputFormat = Literal["auto", "csv", "tsv", "jsonl", "json", "parquet", "hf"]


class IngestConfig(StrictModel):
    inputs: list[str] = Field(
        default_factory=list, description="Input files or Hugging Face `datasets` directories."
    )
    format: InputFormat = Field(
        "auto", description="Input format; `auto` decides by extension / directory contents."
    )
    record_schema: RecordSchema = Field(
        "text",
        alias="schema",
        description="Record shape: `text`, `prompt_completion` (prompt + completion) or `chat` (messages).",
    )
    rename: dict[str, str] = Field(
        default_factory=dict,
        description="Source field -> schema field, e.g. {ticket_body: prompt, summary: completion}.",
    )
    keep: list[str] = Field(
        default_factory=list,
        description="Data minimization allow-list: extra fields kept as metadata; every other field is dropped.",
    )
    user_id_field: str | None = Field(
        None, description="Field holding the data subject's id (kept as metadata; enables user-level DP)."
    )
    max_record_bytes: int = Field(
        1_000_000,
        gt=0,
        description="Records larger than this (UTF-8 bytes of the raw record) are quarantined.",
    )
    dedupe: bool = Field(True, description="Remove exact duplicate records (same schema fields), reported.")
    strict: bool = Field(False, description="Fail on the first bad record instead of quarantining it.")
    splits: list[str] = Field(
        default_factory=list, description="For `datasets` directories: splits to read (default: all)."
    )

    @field_validator("rename")
    @classmethod
    def _no_empty_names(cls, v: dict[str, str]) -> dict[str, str]:
        for src, dst in v.items():
            if not src or not dst:
                raise ValueError("rename entries need non-empty source and target names")
        return v
