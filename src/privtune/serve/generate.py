"""The sampling loop: our own, so the watermark can bias logits and the guard can see every token.

Temperature 0 is greedy; otherwise temperature scaling, nucleus (top-p) filtering and sampling from
a per-request torch Generator. Text comes out as deltas of the incremental decode; a delta is held
back while it ends in an incomplete UTF-8 sequence or could be the start of a stop string.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch


@dataclass
class SamplingParams:
    max_tokens: int = 64
    temperature: float = 1.0
    top_p: float = 1.0
    stop: list[str] = field(default_factory=list)
    seed: int | None = None


@dataclass
class Generation:
    """Filled in while iterating `stream_text`."""

    prompt_tokens: int = 0
    tokens: list[int] = field(default_factory=list)
    finish_reason: str = "length"


def render_chat(messages: list[dict[str, str]], tokenizer: Any) -> str:
    """The prompt for a chat request, in the layout training used (chat template or role tags)."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    eos = tokenizer.eos_token or ""
    return "".join(f"<|{m['role']}|>\n{m['content']}{eos}\n" for m in messages) + "<|assistant|>\n"


def _top_p_filter(logits: torch.Tensor, top_p: float) -> torch.Tensor:
    if top_p >= 1.0:
        return logits
    sorted_logits, idx = torch.sort(logits, descending=True)
    probs = torch.softmax(sorted_logits, dim=-1)
    cum = torch.cumsum(probs, dim=-1)
    remove = cum - probs > top_p  # keep the smallest prefix whose mass reaches top_p
    sorted_logits[remove] = float("-inf")
    out = torch.full_like(logits, float("-inf"))
    out.scatter_(-1, idx, sorted_logits)
    return out


class Sampler:
    """Token-by-token generation with a KV cache for one prompt."""

    def __init__(self, model: Any, tokenizer: Any, max_context: int | None = None) -> None:
        self.model, self.tokenizer = model, tokenizer
        self.eos = tokenizer.eos_token_id
        self.max_context = (
            max_context
            or getattr(model.config, "n_positions", None)
            or getattr(model.config, "max_position_embeddings", 2048)
        )

    def tokens(
        self,
        prompt_ids: list[int],
        params: SamplingParams,
        bias: Callable[[int, torch.Tensor], torch.Tensor] | None = None,
        result: Generation | None = None,
    ) -> Iterator[int]:
        """Sampled token ids (EOS excluded; `result.finish_reason` becomes `stop` on EOS)."""
        budget = min(params.max_tokens, max(0, self.max_context - len(prompt_ids)))
        if budget == 0:
            return
        gen = torch.Generator().manual_seed(params.seed if params.seed is not None else torch.seed())
        ids = torch.tensor([prompt_ids or [self.eos]], dtype=torch.long)
        past = None
        prev = int(ids[0, -1])
        with torch.inference_mode():
            for _ in range(budget):
                out = self.model(input_ids=ids, past_key_values=past, use_cache=True)
                past = out.past_key_values
                logits = out.logits[0, -1].float()
                if bias is not None:
                    logits = bias(prev, logits)
                if params.temperature <= 0:
                    tok = int(torch.argmax(logits))
                else:
                    logits = _top_p_filter(logits / params.temperature, params.top_p)
                    tok = int(torch.multinomial(torch.softmax(logits, -1), 1, generator=gen))
                if tok == self.eos:
                    if result is not None:
                        result.finish_reason = "stop"
                    return
                yield tok
                prev = tok
                ids = torch.tensor([[tok]], dtype=torch.long)

    def stream_text(
        self,
        prompt: str,
        params: SamplingParams,
        result: Generation,
        bias: Callable[[int, torch.Tensor], torch.Tensor] | None = None,
    ) -> Iterator[str]:
        """Text deltas; stops at EOS, a stop string (not emitted) or max_tokens."""
        prompt_ids = self.tokenizer(prompt, add_special_tokens=False)["input_ids"]
        result.prompt_tokens = len(prompt_ids)
        stops = [s for s in params.stop if s]
        hold = max((len(s) for s in stops), default=1) - 1
        text, sent = "", 0
        result.finish_reason = "length"
        for tok in self.tokens(prompt_ids, params, bias, result):
            result.tokens.append(tok)
            text = self.tokenizer.decode(result.tokens, skip_special_tokens=True)
            cut = min((i for i in (text.find(s, max(0, sent - hold)) for s in stops) if i >= 0), default=-1)
            if cut >= 0:
                if cut > sent:
                    yield text[sent:cut]
                result.finish_reason = "stop"
                return
            if text.endswith("\ufffd"):
                continue
            safe = len(text) - hold
            if safe > sent:
                yield text[sent:safe]
                sent = safe
        if len(text) > sent:
            yield text[sent:]
