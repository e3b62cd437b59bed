"""Scoring texts with a causal LM: per-token log-probs, next-token distribution statistics, and the
log-perplexity of every candidate in a canary's secret space.

The only audit module that imports torch. Works with any Hugging Face causal LM + tokenizer (plain or
peft-wrapped). Memory stays bounded: batches are sized so that one logits tensor holds at most
`max_logit_elems` floats, and the secret space is streamed, never materialised as text.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

LN2 = math.log(2.0)
MAX_LOGIT_ELEMS = 1 << 26  # 256 MB of float32 logits per forward pass


@dataclass
class TokenScores:
    """Log-probs (natural log) of tokens 1..n-1 of one text, each given the tokens before it."""

    ids: np.ndarray
    logprobs: np.ndarray
    mu: np.ndarray | None = None  # E_{z~p}[log p(z)] per position (Min-K%++)
    sigma: np.ndarray | None = None  # std of log p(z) per position


def model_device(model: torch.nn.Module) -> torch.device:
    return next(model.parameters()).device


def encode(tokenizer, texts: Sequence[str], max_length: int | None = None) -> list[list[int]]:
    """Token ids of plain texts exactly as training encodes a `text` record: the text, then EOS."""
    eos = getattr(tokenizer, "eos_token", None) or ""
    enc = tokenizer([t + eos for t in texts], add_special_tokens=False)["input_ids"]
    return [list(ids)[:max_length] if max_length else list(ids) for ids in enc]


def _pad_id(tokenizer) -> int:
    for attr in ("pad_token_id", "eos_token_id", "bos_token_id"):
        v = getattr(tokenizer, attr, None)
        if v is not None:
            return int(v)
    return 0


def _batches_by_budget(lengths: Sequence[int], vocab: int, max_batch: int) -> Iterator[list[int]]:
    """Index batches (sorted by length to limit padding) with at most MAX_LOGIT_ELEMS logits each."""
    order = sorted(range(len(lengths)), key=lambda i: lengths[i])
    batch: list[int] = []
    for i in order:
        width = max([lengths[j] for j in batch] + [lengths[i]])
        if batch and (len(batch) >= max_batch or (len(batch) + 1) * width * vocab > MAX_LOGIT_ELEMS):
            yield batch
            batch = []
        batch.append(i)
    if batch:
        yield batch


@torch.no_grad()
def score_ids(
    model,
    token_ids: Sequence[Sequence[int]],
    pad_id: int = 0,
    batch_size: int = 16,
    distribution: bool = False,
) -> list[TokenScores]:
    """Per-token log-probs for each id sequence (right-padded batches; causal attention makes the
    padding invisible to real tokens). With `distribution`, also mu/sigma of log p over the vocab."""
    model.eval()
    device = model_device(model)
    vocab = int(model.get_output_embeddings().weight.shape[0]) if model.get_output_embeddings() else 50_000
    out: list[TokenScores | None] = [None] * len(token_ids)
    for idx in _batches_by_budget([len(t) for t in token_ids], vocab, batch_size):
        width = max(len(token_ids[i]) for i in idx)
        ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        for row, i in enumerate(idx):
            seq = token_ids[i]
            ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
            mask[row, : len(seq)] = 1
        logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits.float()
        logp = torch.log_softmax(logits[:, :-1], dim=-1)
        tok = torch.gather(logp, 2, ids[:, 1:].to(device).unsqueeze(-1)).squeeze(-1)
        if distribution:
            p = logp.exp()
            mu = (p * logp).sum(-1)
            var = ((p * logp * logp).sum(-1) - mu * mu).clamp_min(0)
        for row, i in enumerate(idx):
            n = len(token_ids[i]) - 1
            ts = TokenScores(np.asarray(token_ids[i]), tok[row, :n].cpu().double().numpy())
            if distribution:
                ts.mu = mu[row, :n].cpu().double().numpy()
                ts.sigma = var[row, :n].sqrt().cpu().double().numpy()
            out[i] = ts
    return out  # type: ignore[return-value]


def score_texts(
    model,
    tokenizer,
    texts: Sequence[str],
    batch_size: int = 16,
    distribution: bool = False,
    max_length: int = 512,
) -> list[TokenScores]:
    """Per-token log-probs of texts (see `score_ids`); texts shorter than 2 tokens get empty arrays."""
    return score_ids(
        model, encode(tokenizer, texts, max_length), _pad_id(tokenizer), batch_size, distribution
    )


def log_perplexity_bits(scores: TokenScores) -> float:
    """Px = -Σ log2 p(x_i | x_<i) (the Secret Sharer's definition)."""
    return float(-scores.logprobs.sum() / LN2)


# -- secret spaces ---------------------------------------------------------------------------------
def secrets_from_indices(indices: np.ndarray, alphabet: str, length: int) -> list[str]:
    """Index i of the space alphabet^length -> its secret (base-|alphabet| digits, most significant first)."""
    base = len(alphabet)
    powers = base ** np.arange(length - 1, -1, -1, dtype=np.int64)
    digits = (np.asarray(indices, dtype=np.int64)[:, None] // powers) % base
    chars = np.array(list(alphabet))
    return ["".join(row) for row in chars[digits]]


def secret_index(secret: str, alphabet: str) -> int:
    base, pos = len(alphabet), {c: i for i, c in enumerate(alphabet)}
    value = 0
    for c in secret:
        value = value * base + pos[c]
    return value


class SecretSpaceScorer:
    """Px of `fmt.format(secret=s)` for many secrets s, scoring the shared text prefix only once.

    The tokens common to every candidate (the text before `{secret}`, as the tokenizer splits it in
    context) are run once and their key/value cache reused for each batch, so each candidate costs
    only its own tokens. A candidate whose tokenization does not start with that prefix is scored in
    full, so Px is always the complete-sequence value.
    """

    def __init__(self, model, tokenizer, fmt: str, batch_size: int = 512) -> None:
        self.model, self.tokenizer, self.fmt = model, tokenizer, fmt
        self.batch_size = batch_size
        self.pad = _pad_id(tokenizer)
        self.device = model_device(model)
        model.eval()
        head = fmt.split("{secret}", 1)[0]
        probe = encode(tokenizer, [fmt.replace("{secret}", "0"), fmt.replace("{secret}", "Zz9")])
        prefix = encode(tokenizer, [head])[0] if head else probe[0][:1]
        n = 0
        while n < len(prefix) and all(n < len(p) and p[n] == prefix[n] for p in probe):
            n += 1
        # keep at least one token out of the prefix so the first secret token is always predicted
        self.prefix = prefix[: max(1, n)] if n >= 1 else probe[0][:1]
        vocab = int(model.get_output_embeddings().weight.shape[0])
        self._vocab = vocab
        with torch.no_grad():
            pid = torch.tensor([self.prefix], dtype=torch.long, device=self.device)
            out = model(input_ids=pid, use_cache=True)
            lp = torch.log_softmax(out.logits[0].float(), dim=-1)
            self.prefix_bits = float(-lp[:-1].gather(1, pid[0, 1:, None]).sum() / LN2)
            self.next_logp = lp[-1]  # distribution of the first token after the prefix
        self._cache = None
        self._cache_batch = 0

    def _prefix_cache(self, batch: int):
        if self._cache is None or self._cache_batch != batch:
            pid = torch.tensor([self.prefix] * batch, dtype=torch.long, device=self.device)
            with torch.no_grad():
                self._cache = self.model(input_ids=pid, use_cache=True).past_key_values
            self._cache_batch = batch
        return self._cache

    @torch.no_grad()
    def score(self, secrets: Sequence[str]) -> np.ndarray:
        """Px (bits) of each secret's full canary text, float64."""
        texts = [self.fmt.replace("{secret}", s) for s in secrets]
        ids = encode(self.tokenizer, texts)
        out = np.empty(len(texts), dtype=np.float64)
        k = len(self.prefix)
        fast = [i for i, t in enumerate(ids) if len(t) > k and t[:k] == self.prefix]
        slow = sorted(set(range(len(texts))) - set(fast))
        for i, ts in zip(slow, score_ids(self.model, [ids[i] for i in slow], self.pad), strict=True):
            out[i] = log_perplexity_bits(ts)
        step = max(1, min(self.batch_size, MAX_LOGIT_ELEMS // max(1, self._vocab * 16)))
        for start in range(0, len(fast), step):
            chunk = fast[start : start + step]
            rests = [ids[i][k:] for i in chunk]
            width = max(len(r) for r in rests)
            b = len(chunk)
            batch = torch.full((b, width), self.pad, dtype=torch.long)
            for row, r in enumerate(rests):
                batch[row, : len(r)] = torch.tensor(r, dtype=torch.long)
            batch = batch.to(self.device)
            cache = self._prefix_cache(b)
            mask = torch.ones((b, k + width), dtype=torch.long, device=self.device)
            logits = self.model(
                input_ids=batch, past_key_values=cache, attention_mask=mask, use_cache=True
            ).logits
            cache.crop(-width)  # drop this batch's tokens, keep the prefix
            logp = torch.log_softmax(logits[:, :-1].float(), dim=-1)
            lens = torch.tensor([len(r) for r in rests], device=self.device)
            valid = torch.arange(width - 1, device=self.device)[None, :] < (lens[:, None] - 1)
            rest = torch.gather(logp, 2, batch[:, 1:, None]).squeeze(-1).masked_fill(~valid, 0.0)
            total = self.next_logp[batch[:, 0]] + rest.sum(1)
            out[chunk] = self.prefix_bits - total.double().cpu().numpy() / LN2
        return out

    def score_space(
        self,
        alphabet: str,
        length: int,
        indices: np.ndarray | None = None,
        chunk: int = 8192,
        on_progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """Px of the whole space alphabet^length (or of `indices` in it), streamed in chunks.

        Holds one float64 per candidate (8 MB for 10^6) and one chunk of texts at a time.
        """
        total = len(alphabet) ** length if indices is None else len(indices)
        out = np.empty(total, dtype=np.float64)
        for start in range(0, total, chunk):
            stop = min(total, start + chunk)
            idx = np.arange(start, stop) if indices is None else np.asarray(indices[start:stop])
            out[start:stop] = self.score(secrets_from_indices(idx, alphabet, length))
            if on_progress:
                on_progress(stop - start)
        return out


# -- generation (extraction attacks) ---------------------------------------------------------------
@torch.no_grad()
def greedy_continuations(
    model, prompts: Sequence[Sequence[int]], max_new_tokens: int, batch_size: int = 16
) -> list[list[int]]:
    """Greedy continuation of each prompt (prompts of equal length batch without padding)."""
    device = model_device(model)
    out: list[list[int] | None] = [None] * len(prompts)
    by_len: dict[int, list[int]] = {}
    for i, p in enumerate(prompts):
        by_len.setdefault(len(p), []).append(i)
    for idx_all in by_len.values():
        for s in range(0, len(idx_all), batch_size):
            idx = idx_all[s : s + batch_size]
            ids = torch.tensor([list(prompts[i]) for i in idx], dtype=torch.long, device=device)
            gen = _decode_loop(model, ids, max_new_tokens, sample=False)
            for row, i in enumerate(idx):
                out[i] = gen[row]
    return out  # type: ignore[return-value]


def _decode_loop(
    model,
    ids: torch.Tensor,
    max_new_tokens: int,
    sample: bool,
    top_k: int = 40,
    temperature: Callable[[int], float] | None = None,
    generator: torch.Generator | None = None,
) -> list[list[int]]:
    """Token-by-token decoding with the KV cache; explicit so that the temperature can change per step
    (Carlini et al.'s decaying temperature) and no generation defaults of the model config interfere."""
    model.eval()
    batch, plen = ids.shape
    pos = torch.arange(plen, device=ids.device).unsqueeze(0).expand(batch, plen)
    out = model(input_ids=ids, position_ids=pos, use_cache=True)
    cache, logits = out.past_key_values, out.logits[:, -1].float()
    new: list[torch.Tensor] = []
    for step in range(max_new_tokens):
        if sample:
            t = temperature(step) if temperature else 1.0
            vals, cand = torch.topk(logits / t, min(top_k, logits.shape[-1]), dim=-1)
            pick = torch.multinomial(torch.softmax(vals, -1), 1, generator=generator)
            nxt = cand.gather(1, pick)
        else:
            nxt = logits.argmax(-1, keepdim=True)
        new.append(nxt)
        if step + 1 == max_new_tokens:
            break
        p = torch.full((batch, 1), plen + step, device=ids.device, dtype=torch.long)
        out = model(input_ids=nxt, position_ids=p, past_key_values=cache, use_cache=True)
        cache, logits = out.past_key_values, out.logits[:, -1].float()
    return torch.cat(new, 1).cpu().tolist()


@torch.no_grad()
def sample_generations(
    model,
    starts: Sequence[Sequence[int]],
    max_new_tokens: int,
    top_k: int,
    temperature_start: float,
    decay_tokens: int,
    seed: int,
    batch_size: int = 32,
) -> list[list[int]]:
    """One untargeted sample per start sequence (all of equal length), top-k, temperature decaying
    linearly from `temperature_start` to 1 over `decay_tokens` tokens."""

    def temp(step: int) -> float:
        if decay_tokens <= 0 or step >= decay_tokens:
            return 1.0
        return temperature_start + (1.0 - temperature_start) * step / decay_tokens

    device = model_device(model)
    gen = torch.Generator(device=device).manual_seed(seed)
    out: list[list[int]] = []
    for s in range(0, len(starts), batch_size):
        ids = torch.tensor([list(x) for x in starts[s : s + batch_size]], dtype=torch.long, device=device)
        out += _decode_loop(model, ids, max_new_tokens, True, top_k, temp, gen)
    return out


def cut_at_eos(ids: Sequence[int], eos_id: int | None) -> list[int]:
    ids = list(ids)
    if eos_id is not None and eos_id in ids:
        return ids[: ids.index(eos_id)]
    return ids
