"""Training-data extraction (Carlini et al. 2021), on token ids: no model code here.

- Prefix attack: prompted with the first k tokens of a training record, does the greedy continuation
  reproduce the record's next tokens exactly, or nearly (difflib token-overlap ratio)?
- Untargeted attack: many free generations, ranked by signals that single out memorised text: low
  perplexity, low perplexity relative to zlib entropy, and low perplexity relative to the base model.
  The top candidates of each ranking are checked against the training set by n-gram overlap.
- PII regurgitation: any generated span whose keyed fingerprint is in the training PII fingerprint set.
  Only types, counts and masked placeholders leave this module; never a value or its fingerprint.
"""

from __future__ import annotations

import difflib
import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from privtune.audit.membership import zlib_bits
from privtune.audit.overlap import NgramIndex


def continuation_match(generated: Sequence[int], target: Sequence[int]) -> tuple[bool, float]:
    """(exact, token-overlap ratio) of a generated continuation against the true one."""
    gen = list(generated[: len(target)])
    ratio = difflib.SequenceMatcher(None, gen, list(target), autojunk=False).ratio() if target else 0.0
    return gen == list(target), ratio


def prefix_attack_summary(results: Sequence[tuple[bool, float]], near_verbatim: float) -> dict[str, Any]:
    n = len(results)
    exact = sum(1 for e, _ in results if e)
    near = sum(1 for _, r in results if r >= near_verbatim)
    return {
        "records": n,
        "exact": exact,
        "near_verbatim": near,
        "exact_rate": exact / n if n else 0.0,
        "near_verbatim_rate": near / n if n else 0.0,
        "mean_overlap": float(np.mean([r for _, r in results])) if n else 0.0,
        "near_verbatim_threshold": near_verbatim,
    }


def rank_generations(
    texts: Sequence[str], target_logprobs: Sequence[np.ndarray], base_logprobs: Sequence[np.ndarray] | None
) -> dict[str, list[int]]:
    """Indices of generations ordered most-suspicious first under each metric.

    perplexity: mean NLL; zlib: NLL (bits/token) / zlib bits; base_ratio: log-perplexity under the
    target / under the base model (text the fine-tuned model finds far likelier than the base did).
    """
    nll = np.array([-lp.mean() if lp.size else math.inf for lp in target_logprobs])
    zl = np.array([n / math.log(2) / max(zlib_bits(t), 1) for n, t in zip(nll, texts, strict=True)])
    rankings = {
        "perplexity": np.argsort(nll, kind="stable").tolist(),
        "zlib": np.argsort(zl, kind="stable").tolist(),
    }
    if base_logprobs is not None:
        base = np.array([-lp.mean() if lp.size else math.inf for lp in base_logprobs])
        rankings["base_ratio"] = np.argsort(nll / np.maximum(base, 1e-9), kind="stable").tolist()
    return rankings


def check_top_candidates(
    rankings: dict[str, list[int]], generations: Sequence[Sequence[int]], index: NgramIndex, top: int
) -> dict[str, dict[str, Any]]:
    """Per ranking: how many of its top candidates contain a training n-gram (any / single-record)."""
    out = {}
    for metric, order in rankings.items():
        chosen = order[:top]
        stats = [index.overlap([generations[i]]) for i in chosen]
        out[metric] = {
            "checked": len(chosen),
            "with_training_ngram": sum(1 for s in stats if s["texts_with_overlap"] > 0),
            "with_unique_training_ngram": sum(1 for s in stats if s["texts_with_unique_overlap"] > 0),
            "ngram": index.n,
        }
    return out


def mask(entity_type: str, value_len: int) -> str:
    """The only representation of a leaked value that may be shown: its type and length."""
    return f"<{entity_type}:{value_len} chars>"


class LeakCounter:
    """Collects PII regurgitation over generated texts; stores fingerprints only in memory."""

    def __init__(
        self, find: Callable[[str], list[tuple[str, int, int]]], fingerprint: Callable[[str, str], str]
    ) -> None:
        self._find = find
        self._fp = fingerprint
        self.occurrences: Counter[str] = Counter()
        self.by_source: Counter[str] = Counter()
        self._distinct: dict[str, set[str]] = {}
        self.examples: list[dict[str, str]] = []

    def scan(self, text: str, source: str, generated_from: int = 0) -> int:
        """Count leaks in `text`; only spans reaching past `generated_from` (the prompt's end) count, so
        PII the attacker itself supplied in a prompt is not mistaken for regurgitation."""
        hits = [h for h in self._find(text) if h[2] > generated_from]
        for etype, start, end in hits:
            self.occurrences[etype] += 1
            self.by_source[source] += 1
            fp = self._fp(etype, text[start:end])
            if fp not in self._distinct.setdefault(etype, set()):
                self._distinct[etype].add(fp)
                if len(self.examples) < 20:
                    self.examples.append(
                        {"type": etype, "source": source, "masked": mask(etype, end - start)}
                    )
        return len(hits)

    def summary(self) -> dict[str, Any]:
        distinct = {t: len(v) for t, v in self._distinct.items()}
        return {
            "checked": True,
            "distinct_values": sum(distinct.values()),
            "distinct_by_type": dict(sorted(distinct.items())),
            "occurrences": sum(self.occurrences.values()),
            "occurrences_by_type": dict(sorted(self.occurrences.items())),
            "by_attack": dict(sorted(self.by_source.items())),
            "examples": self.examples,
        }
