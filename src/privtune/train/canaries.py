"""Canaries: random secrets in a known format, inserted into the training split for the audit.

`train/canaries.json` (sensitive) lists, per canary, its secret, repetition count and whether it was
included; the audit ranks each canary against the reference space (every string of `length` symbols
from `alphabet`). In audit mode each canary is included with probability 1/2 (one-run audit).
"""

from __future__ import annotations

import secrets
from typing import Any

from privtune.train.config import CanaryConfig

CANARY_ID_PREFIX = "canary-"


def make_canaries(cfg: CanaryConfig, rng: secrets.SystemRandom | None = None) -> dict[str, Any]:
    """Draw canaries; secrets come from a CSPRNG (they must be unguessable, unlike training seeds)."""
    rng = rng or secrets.SystemRandom()
    canaries = []
    for reps in cfg.repetitions:
        for _ in range(cfg.count):
            secret = "".join(rng.choice(cfg.alphabet) for _ in range(cfg.length))
            included = rng.random() < 0.5 if cfg.audit_mode else True
            canaries.append({
                "id": f"{CANARY_ID_PREFIX}{len(canaries)}",
                "secret": secret,
                "text": cfg.format.replace("{secret}", secret),
                "repetitions": reps,
                "included": included,
            })
    return {
        "format": cfg.format,
        "alphabet": cfg.alphabet,
        "length": cfg.length,
        "reference_space_size": len(cfg.alphabet) ** cfg.length,
        "audit_mode": cfg.audit_mode,
        "canaries": canaries,
    }


def canary_records(spec: dict[str, Any]) -> list[dict[str, Any]]:
    """Training records for the included canaries (each copy is its own record; one user per canary)."""
    out = []
    for c in spec["canaries"]:
        if not c["included"]:
            continue
        for k in range(c["repetitions"]):
            out.append({"id": f"{c['id']}/{k}", "text": c["text"], "user_id": c["id"]})
    return out
