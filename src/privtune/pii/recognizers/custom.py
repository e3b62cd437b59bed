"""Recognizers defined in the config: a regex, or a deny-list of literal terms (one alternation)."""

from __future__ import annotations

import re

from privtune.errors import ConfigError
from privtune.pii.config import CustomRecognizer, PiiConfig
from privtune.pii.recognizers.base import ANY, PatternRecognizer


def build_custom(spec: CustomRecognizer) -> PatternRecognizer:
    flags = re.IGNORECASE if spec.ignore_case else 0
    patterns: list[tuple[str, float]] = []
    if spec.regex:
        try:
            rx = re.compile(spec.regex, flags)
        except re.error as exc:
            raise ConfigError(
                f"pii.custom: recognizer {spec.name!r} has a malformed regex ({exc.msg} at position {exc.pos})"
            ) from None
        if rx.groups:
            # keep group 1 as the entity: wrap so that group numbering of the whole pattern holds
            patterns.append((spec.regex, spec.score))
        else:
            patterns.append((f"({spec.regex})", spec.score))
    if spec.deny_list:
        terms = sorted({t.strip() for t in spec.deny_list if t.strip()}, key=len, reverse=True)
        alts = "|".join(re.escape(t).replace(r"\ ", r"\s+") for t in terms)
        patterns.append((rf"(?<!\w)({alts})(?!\w)", spec.score))
    return PatternRecognizer(
        spec.name, spec.entity_type, patterns, tuple(spec.context), None, ANY, group=1, flags=flags,
        prefilter=False,
    )


def recognizers(cfg: PiiConfig) -> list[PatternRecognizer]:
    return [build_custom(spec) for spec in cfg.custom]
