"""`privtune demo`: the whole pipeline on the bundled synthetic support tickets, no downloads needed."""

from __future__ import annotations

from pathlib import Path

from privtune.config import PipelineConfig


def demo_config(out: Path) -> PipelineConfig:
    """Tiny preset model, DP at ε=8 per customer, canaries and the audit on: minutes on 2 CPU cores."""
    from privtune.sample import bundled_path

    return PipelineConfig.model_validate(
        {
            "run": {"name": out.name, "dir": str(out.parent)},
            "ingest": {
                "inputs": [str(bundled_path())],
                "schema": "prompt_completion",
                "user_id_field": "user_id",
            },
            "train": {
                "model": {"path": "tiny-gpt2"},
                "epochs": 1.0,
                "canaries": {"count": 4, "repetitions": [1, 4]},
            },
            "dp": {"target_epsilon": 8.0},
        }
    )
