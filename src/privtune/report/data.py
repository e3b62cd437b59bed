"""Collect the report's facts from the stage outputs (never from memory: the report must match them)."""

from __future__ import annotations

from typing import Any

from privtune.rundir import RunDir

STAGE_OUTPUTS = {
    "ingest": "ingest/report.json",
    "scan": "scan/report.json",
    "protect": "protect/report.json",
    "train": "train/summary.json",
    "audit": "audit/audit.json",
}
# The privacy parameters a manifest signs and a report shows, as `train/summary.json` names them.
PRIVACY_KEYS = (
    "epsilon",
    "delta",
    "noise_multiplier",
    "sample_rate",
    "steps",
    "accountant",
    "unit_of_privacy",
    "dp",
)
TRAINING_KEYS = (
    "model",
    "method",
    "units",
    "max_grad_norm",
    "train_records",
    "validation_records",
    "val_loss",
    "val_perplexity",
    "stopped_for_budget",
    "canaries",
    "source",
)
PLOTS = ("audit/exposure.svg", "audit/roc.svg", "audit/perplexity.svg")


def _read(store: Any, name: str) -> dict[str, Any] | None:
    return store.read_json(name) if store.exists(name) else None


def collect(run: RunDir, store: Any, signer: str | None = None) -> dict[str, Any]:
    state = run.read()
    src = {k: _read(store, v) for k, v in STAGE_OUTPUTS.items()}
    ing, scan, prot, train, audit = (src[k] for k in STAGE_OUTPUTS if k != "manifest")
    out: dict[str, Any] = {
        "run": state.get("name"),
        "created": state.get("created"),
        "privtune_version": state.get("privtune_version"),
        "stages": {k: v.get("status") for k, v in state.get("stages", {}).items()},
        "threat_model": (state.get("config") or {}).get("threat_model"),
    }
    if ing:
        out["data"] = {
            k: ing.get(k)
            for k in (
                "read",
                "kept",
                "quarantined",
                "duplicates_removed",
                "quarantine_reasons",
                "dropped_fields",
                "kept_fields",
                "schema",
            )
        }
    if scan:
        out["pii_found"] = {
            "by_type": scan.get("counts_by_type", {}),
            "by_field": scan.get("counts_by_field", {}),
            "ner": scan.get("ner"),
            "records": scan.get("records"),
        }
    if prot:
        out["protection"] = {
            k: prot.get(k)
            for k in (
                "default_operator",
                "operators",
                "policy",
                "levels",
                "routes",
                "vault_entries",
                "verification",
            )
        }
    if train:
        out["training"] = {k: train.get(k) for k in (*PRIVACY_KEYS, *TRAINING_KEYS)}
    if audit:
        mem = audit.get("membership", {})
        canaries = audit.get("canaries", {})
        out["audit"] = {
            "passed": audit.get("passed"),
            "gates": audit.get("gates", []),
            "canaries": canaries,
            "exposure_by_repetitions": canaries.get("by_repetitions"),
            "one_run": canaries.get("one_run"),
            "membership_best": mem.get("best"),
            "membership_scores": mem.get("scores"),
            "perplexity": mem.get("perplexity"),
            "extraction": audit.get("extraction"),
            "pii_leaks": {k: v for k, v in (audit.get("pii_leaks") or {}).items() if k != "examples"},
            "accountant_epsilon": audit.get("accountant_epsilon"),
            "seconds": audit.get("seconds"),
        }
    artifacts = state.get("artifacts", {})
    released = {n: a for n, a in sorted(artifacts.items()) if not n.startswith("release/")}
    sec = state.get("security") or {}
    out["release"] = {
        "artifacts": {n: a.get("sha256") for n, a in released.items()},
        "encryption": {
            "enabled": bool(sec.get("encrypt")),
            "provider": sec.get("provider"),
            "unencrypted_sensitive": [
                n for n, a in released.items() if a.get("sensitive") and not a.get("encrypted")
            ],
        },
        "signature": {"alg": "Ed25519", "key_id": signer},
    }
    out["plots"] = {p: store.read_bytes(p).decode("utf-8") for p in PLOTS if store.exists(p)}
    return out
