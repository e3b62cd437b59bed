"""Built-in recognizer families (one module each) and the registry that builds them from config."""

from __future__ import annotations

import importlib

from privtune.errors import ConfigError
from privtune.pii.config import PiiConfig
from privtune.pii.recognizers.base import PatternRecognizer, Recognizer

#: Module names under privtune.pii.recognizers, each exposing `recognizers(cfg) -> list[Recognizer]`.
FAMILIES = (
    "email", "phone", "finance", "us_ids", "network", "crypto", "dates", "address", "names", "secrets", "custom",
)


def build_recognizers(cfg: PiiConfig) -> list[Recognizer]:
    """Every enabled recognizer whose entity types intersect `cfg.entities`, plus custom ones."""
    wanted = set(cfg.entities)
    out: list[Recognizer] = []
    names: set[str] = set()
    for fam in FAMILIES:
        mod = importlib.import_module(f"privtune.pii.recognizers.{fam}")
        for rec in mod.recognizers(cfg):
            if rec.name in names:
                raise ConfigError(f"pii.custom: recognizer name {rec.name!r} is used twice")
            names.add(rec.name)
            if rec.name in cfg.disable:
                continue
            if fam != "custom" and not wanted.intersection(rec.entity_types):
                continue
            out.append(rec)
    unknown = set(cfg.disable) - names
    if unknown:
        raise ConfigError(f"pii.disable: unknown recognizer(s) {sorted(unknown)}")
    return out


__all__ = ["FAMILIES", "PatternRecognizer", "Recognizer", "build_recognizers"]
