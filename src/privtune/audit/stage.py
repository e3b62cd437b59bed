"""`privtune audit RUN`: measure what the trained model gives back, write the report, apply the gates.

Inputs (from the train stage): the trained and base models, `train/summary.json` (ε, δ, record
source), `train/splits.json` (members vs held-out), `train/canaries.json`, and the PII fingerprint set
when the scan stage produced one. Outputs: `audit/audit.json` (no values, no secrets, no texts) and
SVG plots. A crossed gate marks the stage failed and raises GateFailed (exit 3).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from privtune.audit.gates import evaluate_gates, failed
from privtune.errors import GateFailed, InputError, KeyUnavailable
from privtune.rundir import RunDir

REPORT = "audit/audit.json"
PLOTS = {"exposure": "audit/exposure.svg", "roc": "audit/roc.svg", "perplexity": "audit/perplexity.svg"}


def _no_progress(desc: str, total: int) -> Callable[[int], None]:
    return lambda n: None


def _pii_scanner(store: Any, security: Any) -> tuple[Any, dict[str, Any]]:
    """A LeakCounter keyed like the scan stage, or None with the reason it cannot run."""
    try:
        from privtune.pii.fingerprints import (
            FINGERPRINT_ARTIFACT,
            KEY_PURPOSE,
            find_leaks,
            fingerprint,
            load_fingerprint_set,
        )
    except ImportError:
        return None, {"checked": False, "reason": "PII module not installed"}
    if not store.exists(FINGERPRINT_ARTIFACT):
        return None, {"checked": False, "reason": f"no {FINGERPRINT_ARTIFACT} (run `privtune scan` first)"}
    from privtune.audit.extraction import LeakCounter
    from privtune.secure.keys import load_key_provider

    try:
        key = load_key_provider(security, create=False).derived_secret(KEY_PURPOSE)
    except KeyUnavailable as exc:
        return None, {"checked": False, "reason": f"fingerprint key unavailable ({exc})"}
    fps = load_fingerprint_set(store)
    counter = LeakCounter(lambda text: find_leaks(text, key, fps), lambda t, v: fingerprint(key, t, v))
    return counter, {"checked": True, "fingerprints": len(fps)}


def run_audit(
    run_path: str | Path, cfg: Any, progress: Callable[[str, int], Callable[[int], None]] | None = None
) -> dict[str, Any]:
    """Run every measurement, write `audit/audit.json` + plots, and enforce the gates."""
    from privtune.secure.store import open_store

    progress = progress or _no_progress
    run = RunDir(run_path, create=False)
    security = getattr(cfg, "security", None)
    store = open_store(run, security)
    ac = cfg.audit
    for need in ("train/summary.json", "train/splits.json", "train/model/meta.json"):
        if not store.exists(need):
            raise InputError(f"{run.path}: missing {need} (run `privtune train` first)")
    summary = store.read_json("train/summary.json")
    splits = store.read_json("train/splits.json")
    inputs = {n: store.hash(n) for n in ("train/summary.json", "train/splits.json", "train/model/meta.json")}
    has_canaries = store.exists("train/canaries.json")
    if has_canaries:
        inputs["train/canaries.json"] = store.hash("train/canaries.json")
    run.begin_stage("audit", inputs, cfg.section_hash("audit"))
    t0 = time.time()
    import torch

    threads = torch.get_num_threads()
    try:
        report = _measure(run, store, cfg, summary, splits, has_canaries, progress)
    except Exception as exc:
        run.fail_stage("audit", f"{type(exc).__name__}")
        raise
    finally:
        torch.set_num_threads(threads)
    report["seconds"] = round(time.time() - t0, 2)
    gates = evaluate_gates(report, ac.gates)
    report["gates"] = [g.to_json() for g in gates]
    bad = failed(gates)
    report["passed"] = not bad
    outputs = {REPORT: store.write_json(REPORT, report)}
    outputs.update({n: store.hash(n) for n in PLOTS.values() if store.exists(n)})
    if bad:
        reason = "gate failed: " + ", ".join(g.name for g in bad)
        run.fail_stage("audit", reason)
        err = GateFailed(f"{run.path}: audit {reason} (see {REPORT})")
        err.report = report  # type: ignore[attr-defined]
        raise err
    run.finish_stage("audit", outputs, {"passed": True, "gates": {g.name: g.passed for g in gates}})
    return report


def _measure(
    run: RunDir,
    store: Any,
    cfg: Any,
    summary: dict,
    splits: dict,
    has_canaries: bool,
    progress: Callable[[str, int], Callable[[int], None]],
) -> dict[str, Any]:
    from privtune.audit import measures, plots
    from privtune.train import load_base_model, load_trained_model
    from privtune.train.data import encode as train_encode

    ac = cfg.audit
    for stale in PLOTS.values():
        store.delete(stale)
    seed = cfg.run.seed if ac.seed is None else ac.seed
    rng = np.random.default_rng(seed)
    model, tok = load_trained_model(run, store)
    base, _ = load_base_model(run, store)
    from privtune.train.runtime import configure_threads

    configure_threads(model, cfg.train.threads)  # small models: one thread (see train/runtime.py)
    max_length = cfg.train.max_length
    report: dict[str, Any] = {
        "dp": bool(summary.get("dp")),
        "accountant_epsilon": summary.get("epsilon"),
        "delta": summary.get("delta"),
        "unit_of_privacy": summary.get("unit_of_privacy"),
        "seed": seed,
    }
    # canaries
    spec = store.read_json("train/canaries.json") if has_canaries else None
    if spec and spec.get("canaries"):
        can = measures.measure_canaries(model, tok, spec, ac, rng, progress, summary.get("delta"))
        plot = can.pop("_plot")
        store.write(
            PLOTS["exposure"],
            plots.exposure_plot(plot["rows"], can["log2_space"], can["chance_exposure"]),
            sensitive=False,
        )
        report["canaries"] = can
    else:
        report["canaries"] = {"skipped": "no canaries (set train.canaries.count)"}
    # records: members (training split) and non-members (held-out split)
    train_ids, val_ids = (
        set(map(str, splits.get("train_ids", []))),
        set(map(str, splits.get("validation_ids", []))),
    )
    members, nonmembers = [], []
    for rec in store.iter_jsonl(summary.get("source") or "ingest/records.jsonl"):
        rid = str(rec.get("id"))
        if rid in train_ids:
            members.append(rec)
        elif rid in val_ids:
            nonmembers.append(rec)
    mc = ac.membership
    pick = lambda recs: [recs[i] for i in sorted(rng.permutation(len(recs))[: mc.max_records])]  # noqa: E731
    mia = measures.measure_membership(model, base, tok, pick(members), pick(nonmembers), ac, max_length)
    mplot = mia.pop("_plot", None)
    if mplot:
        aucs = {k: v["auc"] for k, v in mia["scores"].items()}
        store.write(PLOTS["roc"], plots.roc_plot(mplot["curves"], aucs), sensitive=False)
        store.write(PLOTS["perplexity"], plots.perplexity_plot(mplot["nll"]), sensitive=False)
    report["membership"] = mia
    # extraction + memorization + PII regurgitation
    leaks, pii_info = _pii_scanner(store, getattr(cfg, "security", None))
    train_tok = [train_encode(r, tok, max_length)[0] for r in members]
    if spec:
        from privtune.train.canaries import canary_records

        train_tok += [train_encode(r, tok, max_length)[0] for r in canary_records(spec)]
    report["extraction"] = measures.measure_extraction(model, base, tok, train_tok, ac, rng, leaks, seed)
    report["pii_leaks"] = {**pii_info, **(leaks.summary() if leaks is not None else {})}
    report["memorization"] = {
        "perplexity": mia.get("perplexity"),
        "ngram_overlap": report["extraction"]["ngram_overlap"],
    }
    report["plots"] = {k: v for k, v in PLOTS.items() if store.exists(v)}
    report["model"] = (summary.get("model") or {}).get("path")
    return report
