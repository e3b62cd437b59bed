"""Hugging Face token-classification NER: `pii.ner.model: hf:<local dir>`.

Loads a fine-tuned `*ForTokenClassification` model and its fast tokenizer from a local directory
(`local_files_only`, nothing is downloaded). torch and transformers are imported here only, when a
model is loaded, so `import privtune.pii.ner` stays light and `model_info` reads files only.

Decoding: every word (the tokenizer's pre-tokenizer words) gets the label of its FIRST sub-token.
Token-classification models are fine-tuned that way (later sub-tokens carry the ignore label -100),
so their later sub-token predictions are untrained; averaging would mix that noise in. B-/I-/E-/L-
(IOB2, IOE, BILOU) and plain labels are merged into entities; B-/S-/U-, another type, an outside
word or a line break start anew, E-/L-/S-/U- close one. A span's score is the mean over its words of the probability
the model gives the entity's type (all its B-/I-/... labels summed): real probabilities, so
`pii.score_threshold` applies to them (`pii.ner.score` is for backends without scores).

Long texts run in overlapping windows; a word's prediction comes from the window where its first
sub-token has the most context. Offsets (tokenizer offset mapping) index the original Python str.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from privtune.errors import ConfigError
from privtune.pii.config import NerConfig
from privtune.pii.ner.base import files_digest, local_model_dir, plausible_entity, worth_ner
from privtune.pii.span import Span

RECOGNIZER = "hf_ner"
MAX_WINDOW = 512  # tokens per window at most (attention cost grows with the square)
TOKENS_PER_PASS = 16384  # padded tokens per forward pass at most: bounds memory for long texts
_WEIGHTS = tuple(w + x for w in ("model.safetensors", "pytorch_model.bin") for x in ("", ".index.json"))
_TOKENIZER_FILES = ("tokenizer", "vocab", "merges", "special_tokens", "added_tokens", "spm", "sentencepiece")
_ENCODE = {"truncation": True, "return_overflowing_tokens": True, "return_offsets_mapping": True}
_EDGE_PUNCT = ',;:!?"()[]{}<>'

Label = tuple[str, str | None]  # (prefix B/I/E/S/L/U, "" for plain, "O" outside; privtune type or None)
Word = tuple[int, int, int, int]  # start, end, window row, position of the deciding sub-token
Rows = Sequence[Sequence[Any]]  # per window row: word ids (None for special tokens) or (start, end) offsets


def split_label(label: str) -> tuple[str, str]:
    """("B", "PER") for "B-PER" or "B_PER", ("", "PER") for a plain label, ("O", "") for outside."""
    s = label.strip()
    if s.upper() in ("", "O"):
        return "O", ""
    if len(s) > 2 and s[1] in "-_" and s[0].upper() in "BIESLU":
        return s[0].upper(), s[2:]
    return "", s


def label_table(id2label: dict[int, str], mapping: dict[str, str]) -> list[Label]:
    """Per label id: its prefix and the privtune type it maps to (None: outside or not listed)."""
    table: list[Label] = []
    for i in range(len(id2label)):
        prefix, base = split_label(str(id2label[i]))
        table.append((prefix, mapping.get(base, mapping.get(base.upper())) if base else None))
    return table


def collect_words(word_ids: Rows, offsets: Rows, sample_of_row: Sequence[int], n: int) -> list[list[Word]]:
    """Words of each of `n` texts from the tokenized windows (rows), in text order.

    A word's deciding sub-token is its first one; when windows overlap, the copy with the most
    context (farthest from its window's edges) wins, so predictions do not depend on cut points."""
    found: list[dict[int, list[int]]] = [{} for _ in range(n)]
    for row, (wids, offs) in enumerate(zip(word_ids, offsets, strict=True)):
        content = [p for p, w in enumerate(wids) if w is not None]
        if not content:
            continue
        lo, hi, words = content[0], content[-1], found[sample_of_row[row]]
        for pos in content:
            a, b = offs[pos]
            if a == b:
                continue
            ctx, w = min(pos - lo, hi - pos), wids[pos]
            cur = words.get(w)
            if cur is None or a < cur[0] or (a == cur[0] and ctx > cur[2]):
                words[w] = [a, max(b, cur[1]) if cur else b, ctx, row, pos]
            else:
                cur[1] = max(cur[1], b)
    return [[(v[0], v[1], v[3], v[4]) for _, v in sorted(words.items())] for words in found]


def decode(
    text: str, words: Sequence[tuple[int, int]], probs: Sequence[Sequence[float]], table: Sequence[Label]
) -> list[tuple[int, int, str, float]]:
    """Word label distributions -> entity (start, end, type, mean type probability)."""
    out: list[tuple[int, int, str, float]] = []
    cur: list[Any] | None = None  # [start, end, type, scores]

    def close() -> None:
        nonlocal cur
        if cur is not None:
            out.append((cur[0], cur[1], cur[2], sum(cur[3]) / len(cur[3])))
        cur = None

    for (a, b), row in zip(words, probs, strict=True):
        k = max(range(len(row)), key=row.__getitem__)
        prefix, etype = table[k]
        if etype is None:
            close()
            continue
        score = sum(p for p, (_, t) in zip(row, table, strict=True) if t == etype)
        if cur and cur[2] == etype and prefix in "IEL" and "\n" not in text[cur[1] : a]:  # "" (plain) too
            cur[1] = b
            cur[3].append(score)
        else:
            close()
            cur = [a, b, etype, [score]]
        if prefix and prefix in "ELSU":
            close()
    close()
    return out


def tidy(text: str, start: int, end: int) -> tuple[int, int]:
    """Trim whitespace, a possessive 's and edge punctuation a model may tag along with a name."""
    for _ in range(3):
        while start < end and (text[start].isspace() or text[start] in _EDGE_PUNCT):
            start += 1
        while end > start and (text[end - 1].isspace() or text[end - 1] in _EDGE_PUNCT):
            end -= 1
        if end - start > 2 and text[end - 2 : end].lower() in ("'s", "’s"):
            end -= 2
    return start, end


# -- files: checked and hashed without loading anything -----------------------------------------
def model_dir(cfg: NerConfig) -> Path:
    return local_model_dir(cfg.model, "Hugging Face", "hf:models/my-ner")


def _model_files(d: Path) -> tuple[dict[str, Any], list[Path]]:
    """config.json (checked to be a token-classification model) and the files that define the model."""
    f = d / "config.json"
    if not f.is_file():
        raise ConfigError(f"pii.ner.model: {str(d)!r} is not a Hugging Face model directory (no config.json)")
    try:
        conf = json.loads(f.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"pii.ner.model: {str(f)!r} is not readable JSON ({type(exc).__name__})") from None
    archs = [str(a) for a in conf.get("architectures") or []]
    if not any(a.endswith("ForTokenClassification") for a in archs):
        raise ConfigError(
            f"pii.ner.model: {str(d)!r} is not a token-classification model (architectures: {archs or 'none'}); "
            "hf: needs a *ForTokenClassification model fine-tuned for NER"
        )
    weights = next((d / w for w in _WEIGHTS if (d / w).is_file()), None)
    if weights is None:
        raise ConfigError(f"pii.ner.model: {str(d)!r} has no weights (model.safetensors, pytorch_model.bin)")
    files = [f, weights]
    if weights.name.endswith(".index.json"):
        shards = sorted(set(json.loads(weights.read_text(encoding="utf-8")).get("weight_map", {}).values()))
        files += [d / s for s in shards]
    toks = sorted(p for p in d.iterdir() if p.is_file() and p.name.startswith(_TOKENIZER_FILES))
    missing = [p.name for p in files if not p.is_file()] + ([] if toks else ["tokenizer files"])
    if missing:
        raise ConfigError(f"pii.ner.model: {str(d)!r} lacks {missing} (save the tokenizer with the model)")
    return conf, files + toks


def model_info(cfg: NerConfig) -> dict[str, str]:
    """Name and version from the model files, weights not loaded.

    version = "<transformers version in config.json>+<12 hex of a sha256 over config, weights and
    tokenizer files>": it changes whenever anything that changes the output (labels included) does."""
    d = model_dir(cfg)
    conf, files = _model_files(d)
    name = str(conf.get("_name_or_path") or conf.get("name") or "")
    if not name or name.startswith(("/", ".", "~")) or "\\" in name:  # a path on the machine that saved it
        name = d.resolve().name
    version = f"{conf.get('transformers_version', 'unknown')}+{files_digest(files)}"
    return {"name": name, "version": version}


# -- the backend ---------------------------------------------------------------------------------
class HfNer:
    def __init__(self, cfg: NerConfig) -> None:
        info = model_info(cfg)  # validates the directory before the heavy imports
        d = model_dir(cfg)
        try:
            import torch
            from transformers import AutoModelForTokenClassification, AutoTokenizer
            from transformers.utils import logging as logs
        except ImportError as exc:
            raise ConfigError(f"pii.ner.model: hf: needs torch and transformers installed ({exc})") from None
        bars = logs.is_progress_bar_enabled()
        logs.disable_progress_bar()
        try:
            self.tok = AutoTokenizer.from_pretrained(str(d), local_files_only=True)
            if not getattr(self.tok, "is_fast", False):
                raise ConfigError(
                    f"pii.ner.model: the tokenizer in {str(d)!r} is a slow (Python) tokenizer; hf: needs a fast "
                    "one for character offsets (save a PreTrainedTokenizerFast, i.e. tokenizer.json)"
                )
            self.model = AutoModelForTokenClassification.from_pretrained(str(d), local_files_only=True)
        except ConfigError:
            raise
        except Exception as exc:  # corrupt or incompatible files: a config problem (no text is involved yet)
            msg = f"{type(exc).__name__}: {str(exc)[:200]}"
            raise ConfigError(f"pii.ner.model: cannot load the model in {str(d)!r} ({msg})") from None
        finally:
            if bars:
                logs.enable_progress_bar()
        self.device = torch.device("cpu")
        self.model.to(self.device).eval()
        conf = self.model.config
        self.table = label_table({int(k): v for k, v in conf.id2label.items()}, cfg.labels)
        if not any(t for _, t in self.table):
            names = sorted(set(conf.id2label.values()))
            raise ConfigError(f"pii.ner.model: no model label of {names} is mapped by pii.ner.labels")
        limits = [MAX_WINDOW, getattr(conf, "max_position_embeddings", None) or MAX_WINDOW]
        if 8 < (self.tok.model_max_length or 0) < 1_000_000:
            limits.append(self.tok.model_max_length)
        self.window = min(limits)  # tokens per window, special tokens included
        self.stride = min(64, self.window // 4)  # tokens shared by consecutive windows
        self.cfg, self.name, self.version = cfg, info["name"], info["version"]
        self.pad_id = self.tok.pad_token_id if self.tok.pad_token_id is not None else 0

    def entities(self, texts: Sequence[str]) -> dict[int, list[Span]]:
        gate = self.cfg.gate
        idx = [i for i, t in enumerate(texts) if t and not t.isspace() and (not gate or worth_ner(t))]
        idx.sort(key=lambda i: len(texts[i]))  # similar lengths per batch: less padding
        out: dict[int, list[Span]] = {}
        for b in range(0, len(idx), self.cfg.batch_size):
            batch = idx[b : b + self.cfg.batch_size]
            for i, spans in zip(batch, self._run([texts[i] for i in batch]), strict=True):
                if spans:
                    out[i] = spans
        return dict(sorted(out.items()))

    def _probs(self, ids: list[list[int]]) -> list[Any]:
        """Label probabilities per row and token; rows of similar length batched, at most
        `batch_size` rows and TOKENS_PER_PASS padded tokens per forward pass (bounds memory)."""
        import torch

        probs: list[Any] = [None] * len(ids)
        chunks: list[list[int]] = []
        for r in sorted(range(len(ids)), key=lambda r: len(ids[r])):
            n = len(chunks[-1]) if chunks else 0
            if not n or n >= self.cfg.batch_size or (n + 1) * len(ids[r]) > TOKENS_PER_PASS:
                chunks.append([])
            chunks[-1].append(r)
        for rows in chunks:
            lens = torch.tensor([len(ids[r]) for r in rows])
            x = torch.full((len(rows), int(lens.max())), self.pad_id, dtype=torch.long)
            for k, r in enumerate(rows):
                x[k, : len(ids[r])] = torch.tensor(ids[r])
            mask = (torch.arange(x.shape[1])[None, :] < lens[:, None]).long()
            with torch.inference_mode():
                logits = self.model(input_ids=x.to(self.device), attention_mask=mask.to(self.device)).logits
            p = logits.float().softmax(-1).cpu().numpy()
            for k, r in enumerate(rows):
                probs[r] = p[k]
        return probs

    def _run(self, texts: list[str]) -> list[list[Span]]:
        enc = self.tok(texts, max_length=self.window, stride=self.stride, **_ENCODE)
        probs = self._probs(enc["input_ids"])
        wids = [enc.word_ids(r) for r in range(len(enc["input_ids"]))]
        words = collect_words(wids, enc["offset_mapping"], enc["overflow_to_sample_mapping"], len(texts))
        result = []
        for text, ws in zip(texts, words, strict=True):
            dists = [probs[r][p].tolist() for _, _, r, p in ws]
            spans = []
            for a, b, etype, score in decode(text, [(a, b) for a, b, _, _ in ws], dists, self.table):
                a, b = tidy(text, a, b)  # and no ids, handles, paths (#x, @x, /x, _x):
                if b > a and not (a and text[a - 1] in "#@/_") and plausible_entity(text[a:b], etype):
                    spans.append(Span(a, b, etype, min(1.0, score), RECOGNIZER))
            result.append(spans)
        return result


def load(cfg: NerConfig) -> HfNer:
    return HfNer(cfg)
