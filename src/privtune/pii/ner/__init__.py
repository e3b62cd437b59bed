"""Pluggable NER for names, places and organizations.

`load_ner(cfg)` returns a backend or None (`model: none`). Backends, chosen by the `pii.ner.model`
prefix: `hf:<dir>` a local Hugging Face token-classification model, `gliner:<dir>` a local GLiNER
model, anything else an installed spaCy pipeline (package name or path). Callers warn loudly when
there is none: names and addresses without a street number are then not covered.
"""

from __future__ import annotations

import importlib

from privtune.errors import ConfigError
from privtune.pii.config import NerConfig
from privtune.pii.ner.base import NerBackend, worth_ner

__all__ = ["NerBackend", "backend_module", "load_ner", "model_info", "worth_ner"]

#: model prefix -> module under privtune.pii.ner exposing `load(cfg) -> NerBackend` and
#: `model_info(cfg) -> {"name", "version"} | None` (read without loading weights).
_BACKENDS = {"hf": "hf_backend", "gliner": "gliner_backend"}


def is_off(cfg: NerConfig) -> bool:
    return cfg.model.strip().lower() in ("", "none", "off")


def backend_module(cfg: NerConfig):  # type: ignore[no-untyped-def]
    """The module implementing the backend `cfg.model` names (spaCy when there is no prefix)."""
    prefix, sep, _ = cfg.model.strip().partition(":")
    name = _BACKENDS.get(prefix.lower()) if sep else None
    if sep and name is None and len(prefix) > 1 and prefix.isalpha():
        raise ConfigError(f"pii.ner.model: unknown NER backend {prefix!r} (use hf:<dir>, gliner:<dir>, a spaCy pipeline or none)")
    try:
        return importlib.import_module(f"privtune.pii.ner.{name or 'spacy_backend'}")
    except ImportError as exc:
        raise ConfigError(f"pii.ner.model: backend for {cfg.model!r} cannot be imported ({exc})") from None


def load_ner(cfg: NerConfig) -> NerBackend | None:
    if is_off(cfg):
        return None
    return backend_module(cfg).load(cfg)


def model_info(cfg: NerConfig) -> dict[str, str] | None:
    """Name and version of the configured NER model, or None when NER is off.

    Raises ConfigError when the model is not there, before anything is scanned or written."""
    if is_off(cfg):
        return None
    return backend_module(cfg).model_info(cfg)
