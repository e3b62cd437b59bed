"""spaCy NER: any installed pipeline by package name or path, loaded with only the NER component
(and the tok2vec it listens to, for pipelines that share one), run batched with `nlp.pipe`."""

from __future__ import annotations

import contextlib
import json
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from privtune.errors import ConfigError
from privtune.pii.config import NerConfig
from privtune.pii.ner.base import plausible_entity, worth_ner
from privtune.pii.span import Span


@contextlib.contextmanager
def _without_torch() -> Iterator[None]:
    """Import spaCy without torch: thinc imports torch (seconds) only to offer PyTorch layers, which a
    spaCy CNN pipeline does not use. torch stays importable afterwards for whoever needs it."""
    if "torch" in sys.modules or "thinc" in sys.modules:
        yield
        return
    sys.modules["torch"] = None  # type: ignore[assignment]  # makes `import torch` raise ImportError
    try:
        yield
    finally:
        if sys.modules.get("torch", 0) is None:
            del sys.modules["torch"]


def import_spacy():  # type: ignore[no-untyped-def]
    """spaCy, imported without pulling in torch (see `_without_torch`)."""
    with _without_torch():
        import spacy
    return spacy


def _load(model: str, exclude: list[str]):  # type: ignore[no-untyped-def]
    """spacy.load without importing every package that registers spaCy factories.

    spaCy's Language() loads all `spacy_factories` entry points of the environment (Presidio's pulls
    in transformers and torch: seconds). Built-in pipelines need none, so the first attempt skips
    them; a pipeline that does need a plug-in factory is loaded again with entry points on."""
    spacy = import_spacy()
    reg = spacy.util.registry._entry_point_factories
    saved = reg.entry_points
    reg.entry_points = False
    try:
        return spacy.load(model, exclude=exclude)
    except (ValueError, KeyError, OSError) as exc:
        if isinstance(exc, OSError) and "E050" in str(exc):
            raise
    finally:
        reg.entry_points = saved
    return spacy.load(model, exclude=exclude)


def pipeline_path(model: str) -> Path | None:
    """Folder holding config.cfg and meta.json of an installed pipeline (package name or path)."""
    spacy = import_spacy()

    p = Path(model)
    if not p.exists():
        try:
            p = spacy.util.get_package_path(model)
        except Exception:
            return None
        # an installed package holds its data in a sub-folder named <name>-<version>
        subs = [d for d in p.iterdir() if d.is_dir() and (d / "config.cfg").exists()]
        p = subs[0] if subs else p
    return p if (p / "config.cfg").exists() else None


def pipeline_meta(model: str) -> dict[str, str] | None:
    """Name and version of a pipeline without loading its weights."""
    p = pipeline_path(model)
    if p is None or not (p / "meta.json").exists():
        return None
    meta = json.loads((p / "meta.json").read_text(encoding="utf-8"))
    return {"name": f"{meta.get('lang', 'xx')}_{meta.get('name', model)}", "version": str(meta.get("version"))}


def _pipeline_config(model: str):  # type: ignore[no-untyped-def]
    spacy = import_spacy()

    p = pipeline_path(model)
    return spacy.util.load_config(p / "config.cfg") if p is not None else None


class SpacyNer:
    def __init__(self, cfg: NerConfig) -> None:
        self.cfg = cfg
        conf = _pipeline_config(cfg.model)
        if conf is None:
            raise ConfigError(
                f"pii.ner.model: spaCy pipeline {cfg.model!r} is not installed (install it, or use --ner none)"
            )
        names = list(conf["nlp"]["pipeline"])
        if "ner" not in names:
            raise ConfigError(f"pii.ner.model: spaCy pipeline {cfg.model!r} has no `ner` component")
        keep = {"ner"}
        listener = conf["components"]["ner"]["model"].get("tok2vec", {}).get("@architectures", "")
        if "Listener" in listener:
            keep.add(conf["components"]["ner"]["model"]["tok2vec"].get("upstream", "tok2vec").replace("*", "tok2vec"))
        try:
            self.nlp = _load(cfg.model, [n for n in names if n not in keep])
        except OSError as exc:
            raise ConfigError(f"pii.ner.model: cannot load spaCy pipeline {cfg.model!r} ({exc})") from None
        meta = self.nlp.meta
        self.name = f"{meta.get('lang', 'xx')}_{meta.get('name', cfg.model)}"
        self.version = str(meta.get("version", "unknown"))
        self.labels = cfg.labels

    def entities(self, texts: Sequence[str]) -> dict[int, list[Span]]:
        idx = [i for i, t in enumerate(texts) if t and (not self.cfg.gate or worth_ner(t))]
        out: dict[int, list[Span]] = {}
        docs = self.nlp.pipe((texts[i] for i in idx), batch_size=self.cfg.batch_size)
        for i, doc in zip(idx, docs, strict=True):
            spans = []
            for ent in doc.ents:
                etype = self.labels.get(ent.label_)
                if etype is None:
                    continue
                start, end = ent.start_char, ent.end_char
                # spaCy includes a possessive 's and leading titles in some spans; trim the former
                if texts[i].endswith("'s", start, end):
                    end -= 2
                while end > start and texts[i][end - 1].isspace():
                    end -= 1
                if start and texts[i][start - 1] in "#@/_":  # ids, handles, paths
                    continue
                if end > start and plausible_entity(texts[i][start:end], etype):
                    spans.append(Span(start, end, etype, self.cfg.score, "spacy_ner"))
            if spans:
                out[i] = spans
        return out


def load(cfg: NerConfig) -> SpacyNer:
    return SpacyNer(cfg)


def model_info(cfg: NerConfig) -> dict[str, str]:
    meta = pipeline_meta(cfg.model)
    if meta is None:
        raise ConfigError(
            f"pii.ner.model: spaCy pipeline {cfg.model!r} is not installed (install it, or use --ner none)"
        )
    return meta
