from privtune.audit.config import GateConfig
from privtune.audit.gates import evaluate_gates


def _mia(auc: float, se: float) -> dict:
    return {"membership": {"best": {"auc": auc, "auc_stderr": se, "scorer": "loss", "members": 50, "nonmembers": 40}}}


def _gate(report: dict, threshold: float) -> dict:
    gates = evaluate_gates(report, GateConfig(max_mia_auc=threshold))
    return next(g for g in gates if g.name == "membership inference AUC").to_json()


def test_mia_gate_needs_evidence_not_noise():
    # 0.607 ± 0.092 (few held-out records) is compatible with chance: no failure
    assert _gate(_mia(0.607, 0.092), 0.6)["passed"] is True
    # the same AUC measured precisely is a real finding
    assert _gate(_mia(0.607, 0.001), 0.6)["passed"] is False
    # an overfit model fails even with a noisy estimate
    g = _gate(_mia(0.95, 0.05), 0.6)
    assert g["passed"] is False and g["value"] == 0.95 and "lower bound" in g["detail"]


def test_mia_gate_not_measured():
    assert _gate({"membership": {"skipped": "no held-out records"}}, 0.6)["passed"] is None


def test_mia_gate_not_judged_on_too_few_nonmembers():
    report = _mia(0.9, 0.05)
    report["membership"]["best"]["nonmembers"] = 10
    g = _gate(report, 0.6)
    assert g["passed"] is None and "too few" in g["detail"]


def test_mia_gate_corrects_for_picking_the_best_of_several_scorers():
    one = _mia(0.686, 0.048)
    five = _mia(0.686, 0.048)
    five["membership"]["scores"] = {k: {} for k in ("loss", "zlib", "min_k", "min_k_plus_plus", "reference_ratio")}
    assert _gate(one, 0.6)["passed"] is False  # 0.686 - 1.645 * 0.048 = 0.607
    assert _gate(five, 0.6)["passed"] is True  # 0.686 - 2.326 * 0.048 = 0.574
