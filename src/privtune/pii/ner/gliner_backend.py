"""GLiNER NER: `pii.ner.model: gliner:<local dir>` (a directory written by `GLiNER.save_pretrained`).

GLiNER scores text spans against natural-language label prompts (`pii.ner.gliner_labels`, default
"person", "location", "organization", mapped to PERSON / LOCATION / ORGANIZATION). The model is
loaded from the directory only (`local_files_only`, nothing is downloaded), on CPU, in eval mode.
gliner and torch are imported here only, when a model is loaded: `import privtune.pii.ner` stays
light and `model_info` reads files only.

GLiNER cuts a text at `max_len` words (its config) and at the encoder's maximum sub-token length
(label prompt included) and silently drops the rest. Texts are therefore split into windows of
whole words that fit both limits, overlapping by at least `max_width` words (the longest span the
model can return), so every span fits whole in some window. Windows of all texts run batched
through `GLiNER.inference`, shortest first, capped in words per pass. Offsets GLiNER returns are
Python string indices into the window (its word splitter is a regex over the `str`); the window's
start is added. Across windows the highest-scoring of overlapping spans wins (GLiNER's flat NER).
A span's score is GLiNER's score (`pii.ner.gliner_threshold` and `pii.score_threshold` apply).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from privtune.errors import ConfigError
from privtune.pii.config import NerConfig
from privtune.pii.ner.base import files_digest, local_model_dir, plausible_entity, worth_ner
from privtune.pii.span import Span

RECOGNIZER = "gliner_ner"
WORDS_PER_PASS = 4096  # window words per inference call at most: bounds the (words x width x dim) tensors
_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
_TOKENIZER_FILES = ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "added_tokens.json")
_TOKENIZER_FILES += ("vocab.txt", "vocab.json", "merges.txt", "spm.model", "tokenizer.model")
_INSTALL = "install it with `pip install gliner` (or `pip install 'privtune[gliner]'`)"


def model_dir(cfg: NerConfig) -> Path:
    """The GLiNER directory `cfg.model` names; ConfigError when it is not one."""
    d = local_model_dir(cfg.model, "GLiNER", "gliner:models/my-gliner")
    raw = str(d)
    if not (d / "gliner_config.json").is_file():
        raise ConfigError(
            f"pii.ner.model: {raw!r} is not a GLiNER model (no gliner_config.json; save one with "
            "GLiNER.save_pretrained, or use hf:<dir> for a token-classification model)"
        )
    if not any((d / w).is_file() for w in _WEIGHTS):
        raise ConfigError(f"pii.ner.model: GLiNER model {raw!r} has no weights ({' or '.join(_WEIGHTS)})")
    return d


def _gliner_version() -> str:
    if importlib.util.find_spec("gliner") is None:
        raise ConfigError(f"pii.ner.model: a gliner: model needs the `gliner` package; {_INSTALL}")
    return importlib.metadata.version("gliner")


def model_info(cfg: NerConfig) -> dict[str, str]:
    """Name and version from the model files, weights not loaded.

    version = "<gliner version>+<12 hex of a sha256 over the config, weights and tokenizer files>"."""
    d = model_dir(cfg)
    lib = _gliner_version()
    try:
        conf = json.loads((d / "gliner_config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"pii.ner.model: cannot read {str(d / 'gliner_config.json')!r} ({exc})") from None
    files = [d / n for n in ("gliner_config.json", *_WEIGHTS, *_TOKENIZER_FILES) if (d / n).is_file()]
    name = conf.get("name") if conf.get("name") not in (None, "", "gliner") else d.resolve().name
    return {"name": f"gliner:{name}", "version": f"{lib}+{files_digest(files)}"}


def plan_windows(n_sub: Sequence[int], max_words: int, max_sub: int, overlap: int) -> list[tuple[int, int]]:
    """Word ranges [a, b) covering all words, each at most `max_words` words and `max_sub` sub-tokens
    (a single longer word gets a window of its own), consecutive ones sharing `overlap` words where
    the windows are long enough (at most half a window, so every window moves forward)."""
    out: list[tuple[int, int]] = []
    a, n = 0, len(n_sub)
    while a < n:
        b, used = a, 0
        while b < n and b - a < max_words and (used + n_sub[b] <= max_sub or b == a):
            used += n_sub[b]
            b += 1
        out.append((a, b))
        if b >= n:
            break
        a = max(b - overlap, a + max(1, (b - a + 1) // 2))
    return out


def flat(spans: list[tuple[int, int, str, float]]) -> list[tuple[int, int, str, float]]:
    """Highest score first, longer then earlier on ties; spans overlapping a kept one are dropped."""
    kept: list[tuple[int, int, str, float]] = []
    for s in sorted(set(spans), key=lambda s: (-s[3], s[0] - s[1], s[0], s[2])):
        if all(s[1] <= k[0] or k[1] <= s[0] for k in kept):
            kept.append(s)
    return sorted(kept)


class GlinerNer:
    def __init__(self, cfg: NerConfig) -> None:
        info = model_info(cfg)  # validates the directory and the install before the heavy imports
        d = model_dir(cfg)
        try:
            from gliner import GLiNER
        except ImportError as exc:
            raise ConfigError(f"pii.ner.model: cannot import gliner ({exc}); {_INSTALL}") from None
        try:
            self.model: Any = GLiNER.from_pretrained(str(d), local_files_only=True, map_location="cpu")
        except Exception as exc:  # a broken or foreign directory: a config problem, not a crash
            raise ConfigError(
                f"pii.ner.model: cannot load the GLiNER model in {str(d)!r} "
                f"({type(exc).__name__}: {str(exc)[:200]})"
            ) from None
        self.model.to("cpu")
        self.model.eval()
        self.cfg, self.name, self.version = cfg, info["name"], info["version"]
        self.prompts = list(cfg.gliner_labels)
        conf = self.model.config
        self.max_words = int(conf.max_len)
        self.overlap = max(2 * int(conf.max_width), 16)
        self.tok = self.model.data_processor.transformer_tokenizer
        self.splitter = self.model.data_processor.words_splitter
        limits = [
            int(x)
            for x in (
                getattr(self.tok, "model_max_length", None),
                getattr(getattr(conf, "encoder_config", None), "max_position_embeddings", None),
            )
            if isinstance(x, int) and 0 < x < 100_000
        ]
        prompt = [w for p in self.prompts for w in (p, conf.ent_token)] + [conf.sep_token]
        n_prompt = len(self.tok(prompt, is_split_into_words=True)["input_ids"])
        self.max_sub = max(8, min(limits or [512]) - n_prompt - 4)  # 4: room for model-specific extras

    def _windows(self, text: str) -> list[tuple[int, int, int]]:
        """(start, end, words) of the windows of one text: whole words, see `plan_windows`."""
        words = [(s, e) for _, s, e in self.splitter(text)]
        if not words:
            return []
        if len(words) <= self.max_words and 4 * (words[-1][1] - words[0][0]) + 4 <= self.max_sub:
            return [(words[0][0], words[-1][1], len(words))]  # at most 4 sub-tokens per character: fits
        enc = self.tok([text[s:e] for s, e in words], is_split_into_words=True, add_special_tokens=False)
        n_sub = [0] * len(words)
        for w in enc.word_ids():
            if w is not None:
                n_sub[w] += 1
        plan = plan_windows(n_sub, self.max_words, self.max_sub, self.overlap)
        return [(words[a][0], words[b - 1][1], b - a) for a, b in plan]

    def _predict(self, chunks: list[str]) -> list[list[dict[str, Any]]]:
        import torch

        try:
            with torch.inference_mode(), warnings.catch_warnings():
                warnings.simplefilter("ignore")  # truncation notices etc.: windows fit, messages are noise
                return self.model.inference(
                    chunks,
                    self.prompts,
                    threshold=self.cfg.gliner_threshold,
                    flat_ner=True,
                    batch_size=len(chunks),
                )
        except Exception as exc:  # never let a library message carry text content into logs
            raise RuntimeError(
                f"GLiNER inference failed on a batch of {len(chunks)} windows ({type(exc).__name__})"
            ) from None

    def entities(self, texts: Sequence[str]) -> dict[int, list[Span]]:
        windows: list[tuple[int, int, int, int]] = []  # (words, text index, start, end)
        for i, t in enumerate(texts):
            if t and (not self.cfg.gate or worth_ner(t)):
                windows += [(n, i, a, b) for a, b, n in self._windows(t)]
        windows.sort()  # similar lengths share a batch: less padding
        found: dict[int, list[tuple[int, int, str, float]]] = {}
        pos = 0
        while pos < len(windows):
            batch, words = [], 0
            while (
                pos < len(windows)
                and len(batch) < self.cfg.batch_size
                and (not batch or words < WORDS_PER_PASS)
            ):
                batch.append(windows[pos])
                words += windows[pos][0]
                pos += 1
            preds = self._predict([texts[i][a:b] for _, i, a, b in batch])
            for (_, i, a, _), ents in zip(batch, preds, strict=True):
                for e in ents:
                    etype = self.cfg.gliner_labels.get(e["label"])
                    span = clean(texts[i], a + e["start"], a + e["end"], etype) if etype else None
                    if span is not None:
                        found.setdefault(i, []).append((*span, etype, min(1.0, max(0.0, float(e["score"])))))
        # cleaned first, so a better-scored span that is then dropped cannot shadow a good one
        return {i: [Span(a, b, t, sc, RECOGNIZER) for a, b, t, sc in flat(c)] for i, c in found.items()}


def clean(text: str, start: int, end: int, etype: str) -> tuple[int, int] | None:
    """A model span trimmed (possessive 's, trailing space and punctuation), or None when it cannot be
    a name or place (see `plausible_entity`) or follows # @ / _ (ids, handles, paths)."""
    if text.endswith(("'s", "’s"), start, end):  # "Anna's" -> "Anna"
        end -= 2
    while end > start and (text[end - 1].isspace() or text[end - 1] in ",;:"):
        end -= 1
    if (start and text[start - 1] in "#@/_") or end <= start or not plausible_entity(text[start:end], etype):
        return None
    return start, end


def load(cfg: NerConfig) -> GlinerNer:
    return GlinerNer(cfg)
