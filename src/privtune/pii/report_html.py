"""Self-contained HTML page for the protect report (no scripts, no external assets, values escaped)."""

from __future__ import annotations

import html
from typing import Any


def _table(title: str, data: dict[str, Any]) -> str:
    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{html.escape(str(v))}</td></tr>" for k, v in data.items())
    return f"<h2>{html.escape(title)}</h2><table><tr><th></th><th>count</th></tr>{rows}</table>"


def render_report(report: dict[str, Any]) -> str:
    v = report["verification"]
    status = "passed" if v["passed"] else "FAILED"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>privtune protect report</title>",
        "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:.2em .6em}pre{background:#f6f6f6;padding:.5em;white-space:pre-wrap}"
        ".bad{color:#b00}.ok{color:#070}</style></head><body>",
        "<h1>De-identification report</h1>",
        f"<p>{report['records']} records. Verification: <b class='{'ok' if v['passed'] else 'bad'}'>{status}</b> "
        f"({v['surviving_structured']} surviving original values of structured types).</p>",
        _table("Routes", report["routes"]),
        _table("Sensitivity levels", report["levels"]),
        _table("Findings by type", report["findings_by_type"]),
        _table("Findings by field", report["findings_by_field"]),
        _table("Operators used", report["operators"]),
        _table("Residual findings in the output, by type", v["residual_by_type"]),
        _table("Original values surviving in the output, by type", v["surviving_originals_by_type"]),
        "<h2>Examples (protected form only)</h2>",
        *(f"<pre>{html.escape(e)}</pre>" for e in report["examples"]),
        "</body></html>",
    ]
    return "\n".join(parts)
