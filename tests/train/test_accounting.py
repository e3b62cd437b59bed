"""Accountant wrapper against independent reference values (issue 4) and the `privtune budget` CLI."""

from __future__ import annotations

import json

import pytest

from privtune.errors import ConfigError
from privtune.train.accounting import Plan, PrivacyAccountant, calibrate_noise, epsilon


@pytest.mark.parametrize(
    ("sigma", "q", "steps", "rdp", "pld"),
    [(1.5, 0.04, 2250, 7.3291, 6.769), (10.0, 1.0, 100, 4.7285, 4.377)],
)
def test_reference_values(sigma, q, steps, rdp, pld):
    assert epsilon(sigma, q, steps, 1e-5, "rdp") == pytest.approx(rdp, abs=1e-3)
    assert epsilon(sigma, q, steps, 1e-5, "pld") == pytest.approx(pld, abs=1e-3)
    # PRV is tight: within its error tolerance (0.01 by default in Opacus, plus discretisation) of PLD.
    assert epsilon(sigma, q, steps, 1e-5, "prv") == pytest.approx(pld, abs=0.03)


@pytest.mark.slow
def test_calibration_meets_target_without_overshoot():
    for acc in ("rdp", "pld"):
        sigma = calibrate_noise(6.769, 0.04, 2250, 1e-5, acc)
        eps = epsilon(sigma, 0.04, 2250, 1e-5, acc)
        assert eps <= 6.769
        assert eps >= 6.769 - 0.02
    assert calibrate_noise(6.769, 0.04, 2250, 1e-5, "pld") == pytest.approx(1.5, abs=0.01)


def test_unreachable_epsilon_is_a_clear_error():
    with pytest.raises(ConfigError, match="unreachable"):
        calibrate_noise(1e-6, 1.0, 10_000, 1e-5, "rdp", max_sigma=64)


def test_accountant_state_roundtrip_composes_like_one_run():
    acc = PrivacyAccountant("rdp", 1e-5)
    for _ in range(30):
        acc.step(1.5, 0.04)
    restored = PrivacyAccountant.from_state(json.loads(json.dumps(acc.state_dict())))
    restored.step(1.5, 0.04, 20)
    assert restored.steps == 50
    assert restored.epsilon() == pytest.approx(epsilon(1.5, 0.04, 50, 1e-5, "rdp"), rel=1e-9)
    assert acc.epsilon(20, 1.5, 0.04) == pytest.approx(restored.epsilon(), rel=1e-9)


def test_plan_from_data():
    plan = Plan.from_data(10_000, 400, epochs=90)
    assert plan.sample_rate == pytest.approx(0.04)
    assert plan.steps == 2250


@pytest.mark.slow
def test_budget_cli(cli):
    r = cli("budget", "--noise-multiplier", "1.5", "--sample-rate", "0.04", "--steps", "2250", "--accountant", "rdp", "--json")
    assert r.code == 0, r.err
    out = json.loads(r.out)
    assert out["epsilon"] == pytest.approx(7.3291, abs=1e-3)
    assert out["per_epoch"][-1]["steps"] == 2250
    r = cli("budget", "--target-epsilon", "4.377", "--dataset-size", "100", "--batch-size", "100", "--steps", "100",
            "--accountant", "pld", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out)["noise_multiplier"] == pytest.approx(10.0, abs=0.05)
    r = cli("budget", "--sample-rate", "0.1", "--steps", "10")
    assert r.code == 2 and "exactly one" in r.err
