"""Map the threat model and what the run did to a controls checklist and a plain-language summary."""

from __future__ import annotations

from typing import Any

APPLIED, NOT_APPLIED, NA = "applied", "not applied", "not applicable"


def _c(category: str, name: str, status: str, evidence: str) -> dict[str, str]:
    return {"category": category, "control": name, "status": status, "evidence": evidence}


def controls(report: dict[str, Any], config: dict[str, Any]) -> list[dict[str, str]]:
    tm = report.get("threat_model") or {}
    data, prot, train = report.get("data") or {}, report.get("protection"), report.get("training")
    audit, release = report.get("audit"), report.get("release")
    serve = config.get("serve") or {}
    served = tm.get("deployment", "api") == "api"
    out = [
        _c(
            "preparation",
            "threat model",
            APPLIED if tm else NOT_APPLIED,
            f"adversaries: {', '.join(tm.get('adversaries', [])) or 'none'}; worst case: {tm.get('worst_case', '-')}",
        ),
        _c(
            "preparation",
            "data minimization",
            APPLIED if data else NOT_APPLIED,
            f"kept fields {data.get('kept_fields')}; dropped {sum((data.get('dropped_fields') or {}).values())} "
            f"values in {len(data.get('dropped_fields') or {})} fields"
            if data
            else "no ingest report",
        ),
        _c(
            "preparation",
            "PII de-identification and segmentation",
            APPLIED if prot else NOT_APPLIED,
            f"routes {prot.get('routes')}; surviving structured originals: "
            f"{(prot.get('verification') or {}).get('surviving_structured')}"
            if prot
            else "protect stage not run",
        ),
    ]
    if train:
        out += [
            _c(
                "training",
                "parameter-efficient adapters",
                APPLIED if train.get("method") == "lora" else NOT_APPLIED,
                f"method {train.get('method')}",
            ),
            _c(
                "training",
                "differential privacy (DP-SGD)",
                APPLIED if train.get("dp") else NOT_APPLIED,
                f"ε={_num(train.get('epsilon'))}, δ={_num(train.get('delta'))}, unit: {train.get('unit_of_privacy')}, "
                f"accountant {train.get('accountant')}"
                if train.get("dp")
                else "trained without DP",
            ),
            _c(
                "training",
                "private compute (MPC / enclave)",
                NOT_APPLIED,
                "training ran on the operator's machine in the clear (data protected by de-identification and DP)",
            ),
        ]
    else:
        out.append(_c("training", "training", NA, "training disabled"))
    sec = (release or {}).get("encryption") or {}
    out += [
        _c(
            "operational",
            "encryption at rest",
            APPLIED if sec.get("enabled") and not sec.get("unencrypted_sensitive") else NOT_APPLIED,
            f"provider {sec.get('provider')}; unencrypted sensitive artifacts: "
            f"{len(sec.get('unencrypted_sensitive') or [])}"
            if release
            else "no release manifest",
        ),
        _c(
            "operational",
            "key custody",
            APPLIED if sec.get("provider") else NOT_APPLIED,
            f"key provider {sec.get('provider')}, signing key {((release or {}).get('signature') or {}).get('key_id')}",
        ),
        _c(
            "operational",
            "tamper-evident audit log",
            APPLIED,
            "hash-chained, signed SQLite log of every stage action (privtune log verify)",
        ),
        _c(
            "operational",
            "signed manifest",
            APPLIED if release and (release.get("signature") or {}).get("key_id") else NOT_APPLIED,
            f"Ed25519 by {(release.get('signature') or {}).get('key_id')}; `privtune verify` checks every hash"
            if release and (release.get("signature") or {}).get("key_id")
            else "no release signed yet",
        ),
        _c(
            "post-training",
            "memorization and leakage tests",
            APPLIED if audit else NOT_APPLIED,
            f"gates {'passed' if audit and audit.get('passed') else 'failed'}" if audit else "audit not run",
        ),
        _c(
            "post-training",
            "canaries",
            APPLIED if train and train.get("canaries") else NOT_APPLIED,
            f"{train.get('canaries') if train else 0} canaries inserted",
        ),
    ]
    guard, wm, rl = serve.get("guard") or {}, serve.get("watermark") or {}, serve.get("rate_limit") or {}
    if served:
        out += [
            _c(
                "post-training",
                "output PII filter",
                APPLIED if guard.get("enabled", True) else NOT_APPLIED,
                "privtune serve scans every response; training-PII fingerprints always blocked",
            ),
            _c(
                "post-training",
                "watermarking",
                APPLIED if wm.get("enabled") else NOT_APPLIED,
                f"green-list γ={wm.get('gamma')}, δ={wm.get('delta')}"
                if wm.get("enabled")
                else "serve.watermark.enabled is false",
            ),
            _c(
                "production",
                "rate limits and extraction throttling",
                APPLIED,
                f"{rl.get('requests_per_minute')} requests/min, {rl.get('tokens_per_minute')} tokens/min per key",
            ),
            _c(
                "production",
                "monitoring",
                APPLIED,
                "review queue for flagged responses; audit-log entry per request",
            ),
        ]
    else:
        for cat, name in (
            ("post-training", "output PII filter"),
            ("post-training", "watermarking"),
            ("production", "rate limits and extraction throttling"),
            ("production", "monitoring"),
        ):
            out.append(_c(cat, name, NA, f"deployment is {tm.get('deployment')}: the model is not served"))
    out.append(
        _c(
            "production",
            "incident response",
            APPLIED,
            "crypto-shredding with `privtune keys destroy`; `privtune reveal` and every key use are logged",
        )
    )
    return out


def _num(v: Any) -> str:
    return "-" if v is None else f"{v:.3g}" if isinstance(v, float) else str(v)


def plain_summary(report: dict[str, Any]) -> str:
    data, prot, train, audit = (report.get(k) for k in ("data", "protection", "training", "audit"))
    parts = []
    if data:
        parts.append(
            f"{data['kept']} of {data['read']} input records were used; {data['quarantined']} malformed "
            f"records were set aside and {sum((data.get('dropped_fields') or {}).values())} values in fields "
            "outside the allow-list were removed before processing."
        )
    pii = report.get("pii_found")
    if pii and prot:
        total = sum(pii["by_type"].values())
        parts.append(
            f"{total} pieces of personal data or secrets were detected and replaced; a re-scan found "
            f"{(prot.get('verification') or {}).get('surviving_structured', 0)} structured values "
            "(emails, phone numbers, cards, account numbers, keys) left in the training data."
        )
    if train:
        if train.get("dp"):
            parts.append(
                f"The model was trained with differential privacy at ε = {_num(train.get('epsilon'))} "
                f"(δ = {_num(train.get('delta'))}) per {train.get('unit_of_privacy')}: the training "
                f"mathematically limits how much any single {train.get('unit_of_privacy')}'s data can "
                "influence the model."
            )
        else:
            parts.append(
                "The model was trained WITHOUT differential privacy: there is no formal limit on "
                "what it may have memorized."
            )
    if audit:
        leaks = (audit.get("pii_leaks") or {}).get("distinct_values")
        auc = (audit.get("membership_best") or {}).get("auc")
        verdict = "passed every configured gate" if audit.get("passed") else "FAILED at least one gate"
        parts.append(
            f"An attack audit tried to extract training data: {leaks if leaks is not None else 'no'} "
            f"distinct training PII values were reproduced, and a membership-inference attacker did "
            f"{'no better than chance' if auc is not None and auc < 0.6 else 'better than chance'} "
            f"(AUC {_num(auc)}). The run {verdict}."
        )
    return " ".join(parts)
