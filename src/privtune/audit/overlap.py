"""n-gram overlap between generated text and the training data (token n-grams).

Templates and common phrases are shared by many training records, so reproducing them says little;
an n-gram that occurs in exactly one training record can only be produced by memorising that record.
Both fractions are reported; `unique` is the one that measures memorisation.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def ngrams(tokens: Sequence[int], n: int) -> Iterable[tuple[int, ...]]:
    return (tuple(tokens[i : i + n]) for i in range(len(tokens) - n + 1))


class NgramIndex:
    """For each n-gram of the training data: in how many records it occurs (capped at 2).

    Keys are Python hashes of the n-gram tuples, so memory is one int per distinct n-gram.
    """

    def __init__(self, n: int) -> None:
        if n < 1:
            raise ValueError("n must be >= 1")
        self.n = n
        self._count: dict[int, int] = {}

    def add(self, tokens: Sequence[int]) -> None:
        for h in {hash(g) for g in ngrams(tokens, self.n)}:
            self._count[h] = min(2, self._count.get(h, 0) + 1)

    def __len__(self) -> int:
        return len(self._count)

    def overlap(self, generations: Iterable[Sequence[int]]) -> dict[str, float | int]:
        """Fractions of generated n-grams found in training (`any`) and in exactly one record (`unique`)."""
        total = found = unique = with_any = with_unique = texts = 0
        for tokens in generations:
            texts += 1
            hit = hit_unique = False
            for g in ngrams(tokens, self.n):
                total += 1
                c = self._count.get(hash(g), 0)
                if c:
                    found += 1
                    hit = True
                if c == 1:
                    unique += 1
                    hit_unique = True
            with_any += hit
            with_unique += hit_unique
        return {
            "n": self.n,
            "generated_ngrams": total,
            "overlap": found / total if total else 0.0,
            "unique_overlap": unique / total if total else 0.0,
            "texts_with_overlap": with_any / texts if texts else 0.0,
            "texts_with_unique_overlap": with_unique / texts if texts else 0.0,
        }


def ngram_overlap(
    generations: Iterable[Sequence[int]], training: Iterable[Sequence[int]], n: int
) -> dict[str, float | int]:
    """Convenience: build the index over `training` and measure `generations` against it."""
    index = NgramIndex(n)
    for t in training:
        index.add(t)
    return index.overlap(generations)
