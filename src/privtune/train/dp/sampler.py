"""Poisson sampling of units of privacy and packing into memory-bounded micro-batches.

Every unit (an example, or a user with all their examples) joins a step independently with
probability q, so logical batches have random size, exactly what the accountants assume. The draw
for step t depends only on (seed, t): a resumed run samples exactly what an uninterrupted run would.
"""

from __future__ import annotations

import torch


def step_generator(seed: int, step: int, stream: int) -> torch.Generator:
    """Independent deterministic stream per (seed, step, purpose)."""
    return torch.Generator().manual_seed((seed * 1_000_003 + step) * 16 + stream)


class PoissonSampler:
    def __init__(self, units: list[list[int]], sample_rate: float, seed: int, max_per_unit: int | None = None) -> None:
        self.units = units
        self.q = sample_rate
        self.seed = seed
        self.max_per_unit = max_per_unit

    def sample(self, step: int) -> list[list[int]]:
        """The examples of each unit sampled at `step` (a user's examples capped at max_per_unit)."""
        g = step_generator(self.seed, step, 0)
        chosen = (torch.rand(len(self.units), generator=g) < self.q).nonzero().flatten().tolist()
        out = []
        for u in chosen:
            ex = self.units[u]
            if self.max_per_unit is not None and len(ex) > self.max_per_unit:
                pick = torch.randperm(len(ex), generator=g)[: self.max_per_unit].tolist()
                ex = [ex[i] for i in sorted(pick)]
            out.append(ex)
        return out


def micro_batches(sampled: list[list[int]], micro_batch_size: int) -> list[tuple[list[int], list[int]]]:
    """Pack whole units into micro-batches of at most `micro_batch_size` examples.

    Returns (example indices, unit index within the micro-batch per example); a unit larger than
    the micro-batch gets a micro-batch of its own (its examples must be clipped together).
    """
    out: list[tuple[list[int], list[int]]] = []
    cur: list[int] = []
    cur_units: list[int] = []
    for ex in sampled:
        if cur and len(cur) + len(ex) > micro_batch_size:
            out.append((cur, cur_units))
            cur, cur_units = [], []
        u = (cur_units[-1] + 1) if cur_units else 0
        cur += ex
        cur_units += [u] * len(ex)
    if cur:
        out.append((cur, cur_units))
    return out
