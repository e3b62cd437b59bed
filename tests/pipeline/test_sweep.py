from __future__ import annotations

import json

import pytest

from privtune.errors import ConfigError
from privtune.pipeline.sweep import parse_epsilons


def test_parse_epsilons():
    assert parse_epsilons("1, 3,8,inf") == [1.0, 3.0, 8.0, float("inf")]
    for bad in ("", "a", "0", "-1"):
        with pytest.raises(ConfigError):
            parse_epsilons(bad)


@pytest.mark.slow
def test_sweep_shares_data_stages_and_plots(tmp_path, cli):
    data = tmp_path / "t.jsonl"
    assert cli("sample", "tickets", "--n", "150", "--seed", "3", "--out", data).code == 0
    cfg = tmp_path / "c.yaml"
    cfg.write_text(
        f"run: {{name: s, dir: {tmp_path / 'runs'}}}\n"
        f"ingest: {{inputs: [{data}], schema: prompt_completion, user_id_field: user_id}}\n"
        "train: {model: {path: tiny-gpt2}, max_steps: 3, canaries: {count: 2, repetitions: [1]}}\n"
        "audit: {gates: {max_mia_auc: null}}\n"
    )
    res = cli("sweep", cfg, "--epsilons", "8,inf", "--json")
    assert res.code == 0, res.err
    points = json.loads(res.out)["points"]
    assert [p["target_epsilon"] for p in points] == [8.0, None]
    assert points[0]["epsilon"] <= 8.0 and points[1]["epsilon"] is None
    assert all(p["val_loss"] is not None for p in points)
    parent = tmp_path / "runs/s"
    assert (parent / "release/sweep.svg").read_text().lstrip().startswith("<?xml")
    child = json.loads((parent / "sweep/eps-8/run.json").read_text())
    assert child["stages"]["protect"]["status"] == "done"
    assert "train" not in json.loads((parent / "run.json").read_text())["stages"]
