"""Audit gates: config thresholds checked against the measurements; any crossed gate fails the run."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from privtune.audit.config import GateConfig


@dataclass
class Gate:
    name: str
    value: float | None
    threshold: float | None
    passed: bool | None  # None: not evaluated (disabled, or the measurement was not possible)
    detail: str

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _gate(name: str, value: float | None, threshold: float | None, detail: str, missing: str) -> Gate:
    if threshold is None:
        return Gate(name, value, None, None, "disabled")
    if value is None:
        return Gate(name, None, threshold, None, missing)
    return Gate(name, value, threshold, value <= threshold, detail)


def _mia_gate(mia: dict[str, Any], threshold: float | None, min_nonmembers: int = 1) -> Gate:
    """Fail only on evidence: the one-sided 95% lower bound of the best AUC must exceed the threshold.

    With few held-out records the AUC is noisy (±0.1 at 10 non-members), and the best of k scorers
    is picked after the fact, which biases it upward; so the bound is Bonferroni-corrected for the k
    scorers (z at 1 − 0.05/k). Comparing the point estimate would fail private models by chance.
    """
    best = mia.get("best") or {}
    auc, se = best.get("auc"), best.get("auc_stderr")
    gate = _gate("membership inference AUC", auc, threshold, "", mia.get("skipped", "not measured"))
    if gate.passed is None or auc is None:
        return gate
    if (best.get("nonmembers") or 0) < min_nonmembers:
        why = f"only {best.get('nonmembers')} held-out records (< {min_nonmembers}): too few to judge"
        return Gate(gate.name, auc, threshold, None, why)
    from statistics import NormalDist

    k = max(1, len(mia.get("scores") or {}))
    lower = auc - NormalDist().inv_cdf(1 - 0.05 / k) * (se or 0.0)
    detail = (
        f"best scorer: {best.get('scorer', '-')}; AUC {auc:.3f} ± {se or 0.0:.3f} "
        f"({best.get('members')} members, {best.get('nonmembers')} held out); "
        f"fails when the 95% lower bound {lower:.3f} (corrected for {k} scorers) exceeds the threshold"
    )
    return Gate(gate.name, auc, threshold, lower <= threshold, detail)


def evaluate_gates(report: dict[str, Any], gates: GateConfig) -> list[Gate]:
    """One Gate per configured threshold, in a fixed order (the summary table's rows)."""
    can = report.get("canaries") or {}
    mia = report.get("membership") or {}
    pii = report.get("pii_leaks") or {}
    ngram = ((report.get("extraction") or {}).get("ngram_overlap") or {}).get("16") or {}
    out = [
        _gate(
            "canary exposure (bits)",
            can.get("max_exposure") if can.get("canaries") else None,
            gates.max_canary_exposure,
            "highest exposure of an included canary",
            "no canaries in training",
        ),
        _gate(
            "PII values regurgitated",
            pii.get("distinct_values") if pii.get("checked") else None,
            gates.max_pii_leaks,
            "distinct training PII values found in generations",
            pii.get("reason", "PII fingerprint set unavailable"),
        ),
        _mia_gate(mia, gates.max_mia_auc, gates.min_mia_nonmembers),
        _gate(
            "unique 16-gram overlap",
            ngram.get("unique_overlap") if ngram.get("generated_ngrams") else None,
            gates.max_unique_16gram_overlap,
            "share of generated 16-grams found in exactly one training record",
            "no generations long enough",
        ),
    ]
    one_run = can.get("one_run")
    eps = report.get("accountant_epsilon")
    if not gates.epsilon_consistency:
        out.append(Gate("empirical ε ≤ accountant ε", None, None, None, "disabled"))
    elif one_run is None or eps is None:
        why = (
            "no one-run canaries (train.canaries.audit_mode)"
            if one_run is None
            else "model trained without DP"
        )
        out.append(
            Gate("empirical ε ≤ accountant ε", one_run and one_run["epsilon_lower_bound"], eps, None, why)
        )
    else:
        v = one_run["epsilon_lower_bound"]
        out.append(
            Gate(
                "empirical ε ≤ accountant ε",
                v,
                eps,
                v <= eps,
                f"one-run lower bound from {one_run['v']}/{one_run['r']} correct guesses",
            )
        )
    return out


def failed(gates: list[Gate]) -> list[Gate]:
    return [g for g in gates if g.passed is False]
