"""CPU thread policy for training and scoring small models.

Intra-op parallelism only pays when each operation is large enough to amortise the threads'
synchronisation. The tiny presets run sub-millisecond matmuls, and on shared or oversubscribed
cores a second OpenMP thread that the scheduler has parked stalls every operation by a time slice:
measured on a 2-core machine under load, a (1024×64)·(64×192) matmul took 0.33 ms on one thread and
16 ms on two, and a DP training step of the demo model 9 s instead of 0.2 s. So small models run
on one thread unless the user asks otherwise (`train.threads`); large ones keep torch's default
(all cores), where per-operation work is big enough for threads to pay off.
"""

from __future__ import annotations

import os
from typing import Any

import torch

SMALL_MODEL_PARAMS = 20_000_000  # a judgement: models this small are dominated by per-operation overhead


def configure_threads(model: Any, requested: int | None) -> int:
    """Set torch's intra-op threads: `requested`, else 1 for small models; returns the count in use.

    An explicit OMP_NUM_THREADS in the environment is respected when nothing is requested.
    """
    if requested is not None:
        torch.set_num_threads(requested)
    elif "OMP_NUM_THREADS" not in os.environ and sum(p.numel() for p in model.parameters()) < SMALL_MODEL_PARAMS:
        torch.set_num_threads(1)
    return torch.get_num_threads()
