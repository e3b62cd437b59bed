"""Pluggable NER for names, places and organizations.

`load_ner(cfg)` returns a backend or None (`model: none`). Backends: any installed spaCy pipeline
(package name or path). Callers warn loudly when there is none: names and addresses without a
street number are then not covered.
"""

from __future__ import annotations

from privtune.errors import ConfigError
from privtune.pii.config import NerConfig
from privtune.pii.ner.base import NerBackend, worth_ner

__all__ = ["NerBackend", "load_ner", "worth_ner"]


def load_ner(cfg: NerConfig) -> NerBackend | None:
    model = cfg.model.strip()
    if model.lower() in ("", "none", "off"):
        return None
    if model.startswith(("gliner:", "hf:")):
        raise ConfigError(
            f"pii.ner.model: backend {model.split(':', 1)[0]!r} is not available in this build; "
            "use an installed spaCy pipeline or `none`"
        )
    from privtune.pii.ner.spacy_backend import SpacyNer

    return SpacyNer(cfg)
