"""Private training: DP-SGD fine-tuning (LoRA or full), accounting, canaries.

Public API (imported lazily so `privtune.config` stays light):
`load_trained_model(run_dir, store) -> (model, tokenizer)`, `load_base_model(run_dir, store)`,
`train_run(run_dir, cfg)`. Artifacts: `train/summary.json`, `train/splits.json`, `train/canaries.json`.
"""

from __future__ import annotations

from typing import Any

__all__ = ["load_base_model", "load_trained_model", "train_run"]


def __getattr__(name: str) -> Any:
    if name in ("load_trained_model", "load_base_model"):
        from privtune.train import artifacts

        return getattr(artifacts, name)
    if name == "train_run":
        from privtune.train.trainer import train_run

        return train_run
    raise AttributeError(name)
