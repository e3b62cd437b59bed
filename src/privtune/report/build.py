"""The report and the signed manifest, written together so the manifest always covers the report."""

from __future__ import annotations

from typing import Any

from privtune.report.controls import controls, plain_summary
from privtune.report.data import PRIVACY_KEYS, collect
from privtune.report.html import render
from privtune.rundir import RunDir

REPORT_HTML = "release/report.html"
REPORT_JSON = "release/report.json"


def build_report(run: RunDir, store: Any, signer: str | None = None) -> dict[str, Any]:
    """Collect the stage outputs and write release/report.json + the self-contained report.html."""
    report = collect(run, store, signer)
    report["controls"] = controls(report, run.read().get("config") or {})
    report["summary"] = plain_summary(report)
    plots = report.pop("plots")
    store.write_json(REPORT_JSON, report, sensitive=False)
    report["plots"] = plots
    store.write(REPORT_HTML, render(report).encode("utf-8"), sensitive=False)
    return report


def sign_release(run: RunDir, store: Any, security: Any, config: dict[str, Any]) -> dict[str, Any]:
    """Report, then a signed manifest over every artifact (report included), then verify it."""
    from privtune.secure.keys import load_key_provider
    from privtune.secure.manifest import build_manifest, verify_run

    provider = load_key_provider(security)
    report = build_report(run, store, provider.key_id)
    extra: dict[str, Any] = {"config": config, "parent": None}
    if store.exists("train/summary.json"):
        summary = store.read_json("train/summary.json")
        extra["privacy"] = {k: summary.get(k) for k in PRIVACY_KEYS}
    if store.exists("audit/audit.json"):
        audit = store.read_json("audit/audit.json")
        extra["audit"] = {"passed": audit.get("passed"), "gates": audit.get("gates")}
    ingest = run.stage("ingest").get("inputs", {})
    extra["inputs"] = {f"input:{i}": h for i, h in enumerate(ingest.values())}
    build_manifest(run, store, provider, extra)
    problems, _ = verify_run(run.path, None)
    return {"report": report, "verified": not problems, "problems": problems}
