"""Evidence on tiny models trained with `privtune train`: memorised canaries and members are detected,
DP lowers the signal, a planted PII value is reported by type only, and gates exit 3."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

PLANTED = "jane.doe.secret@example.org"
CONFIG = """
train:
  model: {path: tiny-gpt2, layers: 2, width: 64, heads: 4, vocab_size: 1024}
  method: full
  batch_size: 8
  micro_batch_size: 16
  max_length: 96
  learning_rate: 0.005
  validation_fraction: 0.3
  eval_every: 1000
  checkpoint: last
  canaries: {count: 3, repetitions: [1, 16], length: 5}
audit:
  exposure: {method: extrapolate, sample_size: 2000}
  extraction: {prefix_records: 24, samples: 16, prefix_tokens: 3, suffix_tokens: 24, max_new_tokens: 32}
  gates: {max_canary_exposure: %s, max_pii_leaks: %s, max_mia_auc: %s}
"""


def _privtune(*args: str) -> int:
    from privtune.cli import main

    try:
        main([str(a) for a in args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("audit")
    rng = random.Random(1)
    items = ["router", "modem", "laptop", "printer", "phone", "tablet"]
    issues = ["keeps rebooting", "will not charge", "shows a blank screen", "drops the connection", "is slow"]
    lines = []
    for i in range(60):
        t = f"the {rng.choice(items)} {rng.choice(issues)} since the update, order {rng.randint(100, 999)}"
        if i % 3 == 0:
            t = f"order {rng.randint(100, 999)} for {PLANTED}: " + t
        lines.append(json.dumps({"text": t}))
    data = base / "data.jsonl"
    data.write_text("\n".join(lines) + "\n")
    (base / "cfg.yaml").write_text(CONFIG % ("null", "null", "null"))
    out = {}
    # the DP run needs fewer epochs to show its point (and DP steps cost more)
    for name, flags in (
        ("nodp", ["--no-dp", "--epochs", "25"]),
        ("dp", ["--target-epsilon", "8", "--epochs", "10"]),
    ):
        run = base / "runs" / name
        assert _privtune("ingest", data, "--schema", "text", "--out", run, "--json") == 0
        assert _privtune("scan", run, "--ner", "none", "--json") == 0
        assert _privtune("train", run, "--config", base / "cfg.yaml", "--quiet", "--json", *flags) == 0
        out[name] = run
    out["cfg"] = base / "cfg.yaml"
    out["base"] = base
    return out


@pytest.fixture(scope="module")
def reports(runs) -> dict[str, dict]:
    got = {}
    for name in ("nodp", "dp"):
        assert _privtune("audit", runs[name], "--config", runs["cfg"], "--json") == 0
        got[name] = json.loads((runs[name] / "audit" / "audit.json").read_text())
    return got


def test_exposure_grows_with_repetitions_and_falls_with_dp(reports):
    nodp = reports["nodp"]["canaries"]["by_repetitions"]
    dp = reports["dp"]["canaries"]["by_repetitions"]
    assert reports["nodp"]["canaries"]["method"] == "extrapolated"
    assert nodp["16"]["mean"] > nodp["1"]["mean"]
    assert nodp["16"]["mean"] > dp["16"]["mean"]
    assert dp["1"]["mean"] < nodp["1"]["mean"]


def test_membership_inference_separates_overfit_model(reports):
    nodp = reports["nodp"]["membership"]
    dp = reports["dp"]["membership"]
    assert set(nodp["scores"]) == {"loss", "zlib", "min_k", "min_k_plus_plus", "reference_ratio"}
    assert nodp["scores"]["loss"]["auc"] > 0.7
    assert nodp["scores"]["loss"]["auc"] > dp["scores"]["loss"]["auc"]
    assert nodp["perplexity"]["validation"] > nodp["perplexity"]["train"]


def test_planted_pii_is_reported_by_type_never_by_value(runs, reports):
    leaks = reports["nodp"]["pii_leaks"]
    assert leaks["checked"] and leaks["distinct_by_type"].get("EMAIL_ADDRESS", 0) >= 1
    assert all(PLANTED not in json.dumps(e) for e in leaks["examples"])
    for f in (runs["nodp"] / "audit").rglob("*"):
        if f.is_file():
            assert PLANTED.encode() not in f.read_bytes(), f
    for f in ("run.json",):
        assert PLANTED not in (runs["nodp"] / f).read_text()


def test_gates_fail_with_exit_3_and_mark_the_stage(runs, reports, cli):
    strict = runs["base"] / "strict.yaml"
    strict.write_text(CONFIG % ("3.0", "0", "0.6"))
    res = cli("audit", runs["nodp"], "--config", strict, "--samples", "4")
    assert res.code == 3
    assert "canary exposure" in res.out and "FAIL" in res.out
    assert PLANTED not in res.out + res.err
    stage = json.loads((runs["nodp"] / "run.json").read_text())["stages"]["audit"]
    assert stage["status"] == "failed" and "canary exposure" in stage["error"]


def test_plots_are_standalone_svg(runs, reports):
    for name in ("exposure", "roc", "perplexity"):
        svg = (runs["nodp"] / reports["nodp"]["plots"][name]).read_text()
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg


def test_audit_without_training_is_an_input_error(tmp_path, cli):
    run = tmp_path / "empty"
    run.mkdir(mode=0o700)
    from privtune.rundir import RunDir

    RunDir(run)
    res = cli("audit", run)
    assert res.code == 2 and "privtune train" in res.err


ONE_RUN_CONFIG = """
train:
  model: {path: tiny-gpt2, layers: 2, width: 64, heads: 4, vocab_size: 1024}
  method: full
  batch_size: 8
  micro_batch_size: 16
  max_length: 64
  learning_rate: 0.005
  validation_fraction: 0.3
  eval_every: 1000
  checkpoint: last
  canaries: {count: 60, repetitions: [4], length: 5, audit_mode: true}
audit:
  exposure: {method: extrapolate, sample_size: 500}
  extraction: {prefix_records: 4, samples: 4, max_new_tokens: 8}
  gates: {max_canary_exposure: null, max_pii_leaks: null, max_mia_auc: null}
"""


def test_one_run_audit_bounds_epsilon_end_to_end(runs):
    """Steinke et al. one-run audit wired through training's audit mode: ε̂ is computed from the
    recorded inclusions, the memorising non-DP model gets a positive lower bound, and the DP model's
    ε̂ never exceeds its accountant ε (the gate is evaluated, not skipped)."""
    base = runs["base"]
    cfg = base / "one_run.yaml"
    cfg.write_text(ONE_RUN_CONFIG)
    got = {}
    for name, flags in (("nodp", ["--no-dp", "--epochs", "20"]), ("dp", ["--target-epsilon", "4", "--epochs", "5"])):
        run = base / "one_run" / name
        assert _privtune("ingest", base / "data.jsonl", "--schema", "text", "--out", run, "--json") == 0
        assert _privtune("train", run, "--config", cfg, "--quiet", "--json", *flags) == 0
        assert _privtune("audit", run, "--config", cfg, "--json") == 0
        got[name] = json.loads((run / "audit" / "audit.json").read_text())
    one_nodp = got["nodp"]["canaries"]["one_run"]
    one_dp = got["dp"]["canaries"]["one_run"]
    assert one_nodp["m"] == one_dp["m"] == 60
    assert one_nodp["epsilon_lower_bound"] > 0.0
    gate = next(g for g in got["dp"]["gates"] if g["name"].startswith("empirical"))
    assert gate["passed"] is True
    assert one_dp["epsilon_lower_bound"] <= got["dp"]["accountant_epsilon"]
