"""The one pipeline config: a pydantic model per stage section, loaded from YAML.

Errors name the YAML path of the bad key (`ingest.max_record_bytes`) and its line, unknown keys are
rejected, and CLI flags override values through `with_overrides`.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, Field, ValidationError

from privtune.audit.config import AuditConfig
from privtune.errors import ConfigError
from privtune.ingest.config import IngestConfig
from privtune.pii.config import PiiConfig, ProtectConfig
from privtune.pipeline.config import StagesConfig, ThreatModelConfig
from privtune.secure.config import SecurityConfig
from privtune.serve.config import ServeConfig
from privtune.strict import StrictModel
from privtune.train.config import DPConfig, TrainConfig


class RunConfig(StrictModel):
    name: str = Field("run", pattern=r"^[A-Za-z0-9._-]+$", description="Run name: the folder under `dir`.")
    dir: str = Field("runs", description="Parent folder of run directories.")
    seed: int = Field(0, description="Seed for every random choice in the pipeline.")


class PipelineConfig(StrictModel):
    run: RunConfig = Field(default_factory=RunConfig, description="Where the run lives.")
    pipeline: StagesConfig = Field(default_factory=StagesConfig, description="Which stages `privtune run` runs.")
    threat_model: ThreatModelConfig = Field(
        default_factory=ThreatModelConfig, description="What is protected from whom (mapped to controls in the report)."
    )
    ingest: IngestConfig = Field(
        default_factory=IngestConfig, description="Reading and minimizing input data."
    )
    pii: PiiConfig = Field(default_factory=PiiConfig, description="PII and secrets detection (`privtune scan`).")
    protect: ProtectConfig = Field(default_factory=ProtectConfig, description="De-identification (`privtune protect`).")
    train: TrainConfig = Field(
        default_factory=TrainConfig, description="Fine-tuning (model, method, schedule)."
    )
    dp: DPConfig = Field(default_factory=DPConfig, description="Differential privacy (DP-SGD) settings.")
    security: SecurityConfig = Field(
        default_factory=SecurityConfig, description="Keys, encryption, audit log."
    )
    serve: ServeConfig = Field(default_factory=ServeConfig, description="Guarded serving (`privtune serve`).")
    audit: AuditConfig = Field(default_factory=AuditConfig, description="Memorization and leakage audit with gates.")

    def section_hash(self, section: str) -> str:
        """Stable hash of one section: a stage re-runs when its section changes."""
        data = getattr(self, section).model_dump(mode="json", by_alias=True)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _line_index(text: str) -> dict[tuple[str, ...], int]:
    """Map YAML key paths to 1-based line numbers (for error messages)."""
    out: dict[tuple[str, ...], int] = {}
    try:
        root = yaml.compose(text)
    except yaml.YAMLError:
        return out

    def walk(node: yaml.Node, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                p = (*path, str(k.value))
                out[p] = k.start_mark.line + 1
                walk(v, p)
        elif isinstance(node, yaml.SequenceNode):
            for i, v in enumerate(node.value):
                p = (*path, str(i))
                out[p] = v.start_mark.line + 1
                walk(v, p)

    if root is not None:
        walk(root, ())
    return out


def format_validation_error(err: ValidationError, source: str, lines: dict[tuple[str, ...], int]) -> str:
    msgs = []
    for e in err.errors():
        loc = tuple(str(x) for x in e["loc"])
        path = ".".join(loc) or "<root>"
        line = None
        for cut in range(len(loc), 0, -1):
            if loc[:cut] in lines:
                line = lines[loc[:cut]]
                break
        where = f"{source}:{line}" if line else source
        msg = "unknown key" if e["type"] == "extra_forbidden" else e["msg"]
        msgs.append(f"{where}: {path}: {msg}")
    return "invalid config\n  " + "\n  ".join(msgs)


def parse_config(text: str, source: str = "<config>") -> PipelineConfig:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}" if mark else source
        raise ConfigError(
            f"{where}: not valid YAML ({getattr(exc, 'problem', None) or 'parse error'})"
        ) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the config must be a mapping of sections (run, ingest, ...)")
    try:
        return PipelineConfig.model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, source, _line_index(text))) from None


def load_config(path: str | Path | None) -> PipelineConfig:
    if path is None:
        return PipelineConfig()
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{p}: config file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read config ({type(exc).__name__})") from None
    return parse_config(text, str(p))


def with_overrides(cfg: PipelineConfig, section: str, **values: Any) -> PipelineConfig:
    """Return a copy with `section` fields replaced by the non-None CLI values (re-validated)."""
    sec = getattr(cfg, section)
    data = sec.model_dump(by_alias=False)
    data.update({k: v for k, v in values.items() if v is not None})
    try:
        new_sec = type(sec).model_validate(data)
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, "command line", {})) from None
    return cfg.model_copy(update={section: new_sec})


def example_yaml() -> str:
    """A complete config with every field at its default, each preceded by its description."""
    lines = [
        "# privtune pipeline config. Every key is optional; shown values are the defaults.",
        "# Validate with: privtune config validate FILE",
    ]

    def emit(model: type[BaseModel], indent: int) -> None:
        pad = "  " * indent
        inst = model()
        for name, field in model.model_fields.items():
            key = field.alias or name
            if field.description:
                lines.append(f"{pad}# {field.description}")
            value = getattr(inst, name)
            if isinstance(value, BaseModel):
                lines.append(f"{pad}{key}:")
                emit(type(value), indent + 1)
                continue
            dumped = yaml.safe_dump({key: _plain(value)}, default_flow_style=True, sort_keys=False).strip()
            if dumped.startswith("{") and dumped.endswith("}"):
                dumped = dumped[1:-1]
            lines.append(f"{pad}{dumped}")

    emit(PipelineConfig, 0)
    return "\n".join(lines) + "\n"


def _plain(value: Any) -> Any:
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True)
    return json.loads(json.dumps(value, default=str))
