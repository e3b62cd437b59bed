"""`privtune run --data FILE`: a complete, safe-by-default config from one data file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from privtune.config import PipelineConfig
from privtune.errors import InputError


def detect_schema(path: str) -> str:
    """prompt_completion / chat / text from the first readable record's fields."""
    from privtune.ingest.config import IngestConfig
    from privtune.ingest.formats import ReadContext, detect_format, read_items

    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: file not found")
    for item in read_items(p, detect_format(p), ReadContext()):
        if item.value is None:
            continue
        keys = set(item.value)
        if {"prompt", "completion"} <= keys:
            return "prompt_completion"
        if "messages" in keys:
            return "chat"
        if "text" in keys:
            return "text"
        raise InputError(
            f"{p}: cannot tell the schema from fields {sorted(keys)}; write a config "
            "(privtune config example) with ingest.schema and ingest.rename"
        )
    del IngestConfig
    raise InputError(f"{p}: empty input (no records)")


def quickstart_config(
    data: str, out: str, model: str | None, epsilon: float | None, seed: int = 0
) -> PipelineConfig:
    schema = detect_schema(data)
    out_path = Path(out)
    d: dict[str, Any] = {
        "run": {"name": out_path.name, "dir": str(out_path.parent), "seed": seed},
        "ingest": {"inputs": [data], "schema": schema},
        "train": {
            "model": {"path": model or "tiny-gpt2"},
            "epochs": 1.0,
            # the audit needs enough held-out records to judge membership inference
            "validation_fraction": 0.2,
            "canaries": {"count": 4, "repetitions": [1, 4]},
        },
        "dp": {
            "enabled": epsilon is None or epsilon != float("inf"),
            "target_epsilon": None if epsilon == float("inf") else (epsilon or 8.0),
        },
    }
    from privtune.ingest.formats import ReadContext, detect_format, read_items

    p = Path(data)
    first = next((i.value for i in read_items(p, detect_format(p), ReadContext()) if i.value), {})
    for candidate in ("user_id", "customer_id", "user", "customer"):
        if candidate in first:
            d["ingest"]["user_id_field"] = candidate
            break
    return PipelineConfig.model_validate(d)


def config_yaml(cfg: PipelineConfig) -> str:
    import yaml

    data = cfg.model_dump(mode="json", by_alias=True, exclude_defaults=True)
    return "# privtune pipeline config (written by `privtune run --write-config`)\n" + yaml.safe_dump(
        data, sort_keys=False
    )
