"""Sensitivity segmentation: the first rule matching a record's findings gives its level; the level's
route sends the record to train, eval_only or excluded."""

from __future__ import annotations

from collections.abc import Iterable

from privtune.errors import ConfigError


def check_routes(rules: dict[str, list[str]], routes: dict[str, str]) -> None:
    missing = sorted({level for level in rules if level not in routes} | ({"none"} - set(routes)))
    if missing:
        raise ConfigError(f"protect.routes: no route for level(s) {missing} (train | eval_only | excluded)")


def level_of(types: Iterable[str], rules: dict[str, list[str]]) -> str:
    present = set(types)
    for level, entity_types in rules.items():
        if present.intersection(entity_types):
            return level
    return "none"
