"""Render the report as one self-contained HTML page: inline CSS and SVG, no scripts, no external assets."""

from __future__ import annotations

import html
import json
import re
from typing import Any

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d2733;background:#f5f7fa}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{margin:0 0 4px}h2{border-bottom:2px solid #d9e0e8;padding-bottom:4px;margin-top:32px}
.meta{color:#5b6b7c}.card{background:#fff;border-radius:8px;padding:16px 20px;margin:12px 0;
box-shadow:0 1px 3px rgba(0,0,0,.08)}.summary{font-size:1.05em;line-height:1.5}
table{border-collapse:collapse;width:100%;margin:8px 0}th,td{text-align:left;padding:5px 8px;
border-bottom:1px solid #e6ebf0;vertical-align:top}th{background:#eef2f6}td.num{text-align:right;
font-variant-numeric:tabular-nums}.ok{color:#137333;font-weight:600}.bad{color:#b3261e;font-weight:600}
.na{color:#6b7785}.kpis{display:flex;flex-wrap:wrap;gap:12px}.kpi{background:#fff;border-radius:8px;
padding:12px 16px;min-width:150px;box-shadow:0 1px 3px rgba(0,0,0,.08)}.kpi b{display:block;font-size:1.6em}
.plots{display:flex;flex-wrap:wrap;gap:12px}.plots figure{background:#fff;margin:0;padding:8px;border-radius:8px;
flex:1 1 320px}.plots svg{width:100%;height:auto}code{font-size:.9em;word-break:break-all}
"""


def esc(v: Any) -> str:
    return html.escape("-" if v is None else str(v))


def num(v: Any, digits: int = 4) -> str:
    if v is None:
        return "-"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, float):
        return f"{v:.{digits}g}"
    return esc(v)


def table(headers: list[str], rows: list[list[Any]], num_cols: set[int] | None = None) -> str:
    num_cols = num_cols or set()
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{num(c)}</td>'
            if i in num_cols
            else f"<td>{c if isinstance(c, Markup) else esc(c)}</td>"
            for i, c in enumerate(r)
        )
        + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


class Markup(str):
    """Already-safe HTML."""


def status(passed: Any) -> Markup:
    if passed is None:
        return Markup('<span class="na">not measured</span>')
    return Markup('<span class="ok">pass</span>' if passed else '<span class="bad">FAIL</span>')


def _svg(text: str) -> str:
    """Embed an SVG inline: strip the XML prolog/doctype; SVG text is produced by privtune itself."""
    text = re.sub(r"<\?xml[^>]*\?>", "", text)
    text = re.sub(r"<!DOCTYPE[^>]*>", "", text, flags=re.S)
    text = re.sub(r"<script.*?</script>", "", text, flags=re.S | re.I)
    text = re.sub(r"<metadata>.*?</metadata>", "", text, flags=re.S)
    return text.strip()


def render(r: dict[str, Any]) -> str:
    s: list[str] = []
    tr, au, rel, data = r.get("training") or {}, r.get("audit") or {}, r.get("release"), r.get("data") or {}
    s.append(f"<h1>Privacy report — {esc(r.get('run'))}</h1>")
    s.append(
        f'<p class="meta">privtune {esc(r.get("privtune_version"))} · run created {esc(r.get("created"))}</p>'
    )
    verdict = au.get("passed")
    s.append('<div class="kpis">')
    for label, value in (
        ("ε (accountant)", num(tr.get("epsilon"), 3) if tr.get("dp") else "no DP"),
        ("δ", num(tr.get("delta"), 3)),
        ("unit of privacy", esc(tr.get("unit_of_privacy"))),
        ("MIA AUC", num((au.get("membership_best") or {}).get("auc"), 3)),
        ("PII leaks", num((au.get("pii_leaks") or {}).get("distinct_values"))),
        ("audit", "passed" if verdict else "FAILED" if verdict is False else "-"),
    ):
        s.append(f'<div class="kpi">{esc(label)}<b data-kpi="{esc(label)}">{value}</b></div>')
    s.append("</div>")
    s.append(f'<h2>Summary</h2><div class="card summary">{esc(r.get("summary"))}</div>')

    s.append("<h2>Controls</h2>")
    s.append(
        table(
            ["category", "control", "status", "evidence"],
            [
                [
                    c["category"],
                    c["control"],
                    Markup(
                        f'<span class="{ {"applied": "ok", "not applied": "bad"}.get(c["status"], "na") }">'
                        f"{esc(c['status'])}</span>"
                    ),
                    c["evidence"],
                ]
                for c in r.get("controls", [])
            ],
        )
    )
    tm = r.get("threat_model") or {}
    if tm:
        s.append(
            '<div class="card"><b>Threat model.</b> Data: '
            + esc(", ".join(tm.get("data_types", [])))
            + ". Adversaries: "
            + esc(", ".join(tm.get("adversaries", [])))
            + ". Worst case: "
            + esc(tm.get("worst_case"))
            + ". Deployment: "
            + esc(tm.get("deployment"))
            + ".</div>"
        )

    s.append("<h2>Data inventory</h2>")
    if data:
        s.append(
            table(
                ["read", "kept", "quarantined", "duplicates removed", "schema"],
                [
                    [
                        data.get("read"),
                        data.get("kept"),
                        data.get("quarantined"),
                        data.get("duplicates_removed"),
                        data.get("schema"),
                    ]
                ],
                {0, 1, 2, 3},
            )
        )
        dropped = data.get("dropped_fields") or {}
        s.append(
            "<p>Kept fields: "
            + esc(", ".join(data.get("kept_fields") or []))
            + ". Dropped by minimization: "
            + (esc(", ".join(f"{k} ({v} values)" for k, v in dropped.items())) or "none")
            + ".</p>"
        )
    pii = r.get("pii_found")
    if pii:
        s.append("<h3>PII and secrets found (before protection)</h3>")
        s.append(table(["entity type", "count"], [[k, v] for k, v in sorted(pii["by_type"].items())], {1}))
        s.append(
            f"<p>By field: {esc(json.dumps(pii.get('by_field')))}. NER: {esc(json.dumps(pii.get('ner')))}.</p>"
        )
    prot = r.get("protection")
    if prot:
        ver = prot.get("verification") or {}
        s.append("<h3>Protection</h3>")
        s.append(
            table(
                [
                    "operators applied",
                    "segmentation (routes)",
                    "surviving structured originals",
                    "verification",
                ],
                [
                    [
                        json.dumps(prot.get("operators")),
                        json.dumps(prot.get("routes")),
                        ver.get("surviving_structured"),
                        status(ver.get("passed")),
                    ]
                ],
                {2},
            )
        )

    s.append("<h2>Training</h2>")
    if tr:
        model = tr.get("model") or {}
        s.append(
            table(
                ["model", "method", "ε", "δ", "σ", "q", "steps", "accountant", "unit", "val loss", "val ppl"],
                [
                    [
                        model.get("path"),
                        tr.get("method"),
                        tr.get("epsilon") if tr.get("dp") else "no DP",
                        tr.get("delta"),
                        tr.get("noise_multiplier"),
                        tr.get("sample_rate"),
                        tr.get("steps"),
                        tr.get("accountant"),
                        tr.get("unit_of_privacy"),
                        tr.get("val_loss"),
                        tr.get("val_perplexity"),
                    ]
                ],
                {2, 3, 4, 5, 6, 9, 10},
            )
        )
    else:
        s.append("<p>Training did not run.</p>")

    s.append("<h2>Audit</h2>")
    if au:
        s.append(
            table(
                ["gate", "value", "threshold", "status", "detail"],
                [
                    [
                        g.get("name"),
                        g.get("value"),
                        g.get("threshold"),
                        status(g.get("passed")),
                        g.get("detail"),
                    ]
                    for g in au.get("gates", [])
                ],
                {1, 2},
            )
        )
        by_rep = au.get("exposure_by_repetitions") or {}
        if by_rep:
            rows = [
                [k, *(v.get(x) for x in ("mean", "max", "count", "extracted_greedy"))]
                if isinstance(v, dict)
                else [k, v, None, None, None]
                for k, v in sorted(by_rep.items(), key=lambda kv: int(kv[0]) if str(kv[0]).isdigit() else 0)
            ]
            s.append(
                "<h3>Canary exposure by repetitions (bits)</h3>"
                + table(["repetitions", "mean", "max", "canaries", "extracted (greedy)"], rows, {1, 2, 3, 4})
            )
        one = au.get("one_run")
        if one:
            s.append(
                f"<p>Empirical ε lower bound (one-run audit): <b>{num(one.get('epsilon_lower_bound'), 3)}</b> vs "
                f"accountant ε {num(au.get('accountant_epsilon'), 3)}.</p>"
            )
        scores = au.get("membership_scores") or {}
        if scores:
            s.append(
                "<h3>Membership inference</h3>"
                + table(
                    ["scorer", "AUC", "TPR @ 1% FPR", "TPR @ 0.1% FPR"],
                    [
                        [k, v.get("auc"), v.get("tpr_at_1pct_fpr"), v.get("tpr_at_0.1pct_fpr")]
                        for k, v in scores.items()
                    ],
                    {1, 2, 3},
                )
            )
        ex = au.get("extraction") or {}
        pre = ex.get("prefix") or {}
        ngr = ex.get("ngram_overlap") or {}
        leaks = au.get("pii_leaks") or {}
        s.append(
            "<h3>Extraction and memorization</h3>"
            + table(
                [
                    "prefix attack: exact",
                    "near-verbatim",
                    "8-gram overlap",
                    "16-gram overlap",
                    "PII values leaked",
                    "by type",
                ],
                [
                    [
                        pre.get("exact"),
                        pre.get("near_verbatim"),
                        (ngr.get("8") or {}).get("overlap"),
                        (ngr.get("16") or {}).get("overlap"),
                        leaks.get("distinct_values"),
                        json.dumps(leaks.get("distinct_by_type") or {}),
                    ]
                ],
                {0, 1, 2, 3, 4},
            )
        )
        plots = r.get("plots") or {}
        if plots:
            s.append(
                '<div class="plots">'
                + "".join(
                    f"<figure>{_svg(svg)}<figcaption>{esc(name.split('/')[-1])}</figcaption></figure>"
                    for name, svg in plots.items()
                )
                + "</div>"
            )
    else:
        s.append("<p>The audit did not run.</p>")

    s.append("<h2>Release</h2>")
    if rel:
        sig = rel.get("signature") or {}
        s.append(
            f"<p>Every artifact below, and this report, is listed by SHA-256 in <code>release/manifest.json</code>, "
            f"signed {esc(sig.get('alg'))} by <code>{esc(sig.get('key_id'))}</code>; check it with "
            f"<code>privtune verify RUN</code>. "
            f"Encryption: {esc(json.dumps(rel.get('encryption')))}.</p>"
        )
        s.append(
            table(
                ["artifact", "SHA-256"],
                [[n, Markup(f"<code>{esc(h)}</code>")] for n, h in rel["artifacts"].items()],
            )
        )
    else:
        s.append("<p>No signed release yet (run <code>privtune run</code> with release enabled).</p>")
    body = "\n".join(s)
    return (
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" '
        f'content="width=device-width,initial-scale=1"><title>privtune privacy report — {esc(r.get("run"))}</title>'
        f"<style>{CSS}</style></head><body><main>{body}</main></body></html>\n"
    )
