"""Memorization and leakage audit of a trained model (`privtune audit`).

Public API (resolved lazily so that `privtune.config`, which imports `audit.config`, stays light):
`exposure`, `exposure_extrapolated`, `one_run_epsilon`, the MIA scorers (`loss_score`, `zlib_score`,
`min_k_score`, `min_k_plus_plus_score`, `reference_ratio_score`), `roc_auc`, `tpr_at_fpr`,
`ngram_overlap`, and `run_audit` (the stage). Model scoring (torch) lives in `audit.scoring`.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "exposure": "canary",
    "exposure_extrapolated": "canary",
    "exposure_from_rank": "canary",
    "SCORERS": "membership",
    "all_scores": "membership",
    "loss_score": "membership",
    "min_k_plus_plus_score": "membership",
    "min_k_score": "membership",
    "reference_ratio_score": "membership",
    "zlib_score": "membership",
    "one_run_audit": "one_run",
    "one_run_epsilon": "one_run",
    "one_run_p_value": "one_run",
    "NgramIndex": "overlap",
    "ngram_overlap": "overlap",
    "roc_auc": "roc",
    "roc_curve": "roc",
    "summarize_roc": "roc",
    "tpr_at_fpr": "roc",
    "run_audit": "stage",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"privtune.audit.{_EXPORTS[name]}"), name)
    raise AttributeError(name)
