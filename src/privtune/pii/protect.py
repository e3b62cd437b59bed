"""The protect stage: findings + policy -> protected train / eval_only sets, vault, verification.

Everything that can fail on configuration (unknown entity types in the policy, missing keys,
routes) is checked before anything is written; outputs appear atomically through the store.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

from privtune.errors import ConfigError, InputError
from privtune.pii.config import ENTITY_TYPES
from privtune.pii.fingerprints import KEY_PURPOSE, find_leaks, fingerprint, load_fingerprint_set
from privtune.pii.operators import OPERATORS, OperatorContext
from privtune.pii.operators.pseudonym import Pseudonym
from privtune.pii.scan import FINDINGS_ARTIFACT, RECORDS_ARTIFACT
from privtune.pii.segment import check_routes, level_of
from privtune.pii.vault import VAULT_ARTIFACT, Vault
from privtune.records import get_field, set_field

TRAIN = "protect/train.jsonl"
EVAL_ONLY = "protect/eval_only.jsonl"
REPORT_JSON = "protect/report.json"
REPORT_HTML = "protect/report.html"
STRUCTURED = ("EMAIL_ADDRESS", "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_SSN", "IP_ADDRESS", "SECRET")


def check_policy(cfg: Any) -> set[str]:
    """Validate the policy against known types; return the key purposes the operators need."""
    known = set(ENTITY_TYPES) | {c.entity_type for c in cfg.pii.custom}
    bad = sorted(set(cfg.protect.policy) - known)
    if bad:
        raise ConfigError(f"protect.policy: unknown entity type(s) {bad}; known: {', '.join(sorted(known))}")
    check_routes(cfg.protect.rules, cfg.protect.routes)
    for types in cfg.protect.rules.values():
        unknown = sorted(set(types) - known)
        if unknown:
            raise ConfigError(f"protect.rules: unknown entity type(s) {unknown}")
    ops = {cfg.protect.default_operator, *cfg.protect.policy.values()}
    return {k for op in ops for k in OPERATORS[op].needs_keys}


def _grouped(findings: Iterator[dict[str, Any]]) -> Iterator[tuple[Any, list[dict[str, Any]]]]:
    cur: Any = object()
    group: list[dict[str, Any]] = []
    for line in findings:
        if line["record"] != cur and group:
            yield cur, group
            group = []
        cur = line["record"]
        group.append(line)
    if group:
        yield cur, group


def protect_record(
    record: dict[str, Any], lines: list[dict[str, Any]], cfg: Any, ctx: OperatorContext
) -> tuple[dict[str, Any] | None, Counter[str]]:
    """Apply the policy to one record; None when an operator drops it. Returns ops used too."""
    ops_used: Counter[str] = Counter()
    policy, default = cfg.protect.policy, cfg.protect.default_operator
    persons = [
        get_field(record, ln["field"])[s["start"] : s["end"]]
        for ln in lines
        for s in ln["spans"]
        if s["entity_type"] == "PERSON"
    ]
    Pseudonym.learn_names(persons, ctx)
    out = json.loads(json.dumps(record))
    for ln in lines:
        text = get_field(record, ln["field"])
        pieces, pos = [], 0
        for s in sorted(ln["spans"], key=lambda s: s["start"]):
            if s["start"] < pos:
                continue
            op_name = policy.get(s["entity_type"], default)
            repl = OPERATORS[op_name].apply(text[s["start"] : s["end"]], s["entity_type"], ctx)
            ops_used[op_name] += 1
            if repl is None:
                return None, ops_used
            pieces += [text[pos : s["start"]], repl]
            pos = s["end"]
        pieces.append(text[pos:])
        set_field(out, ln["field"], "".join(pieces))
    return out, ops_used


def protect_keys(cfg: Any) -> tuple[dict[str, bytes], bytes]:
    """The keys the policy's operators need, and the fingerprint key: checked (policy, rules,
    routes) and loaded before anything is written."""
    from privtune.pii.stage import derived_key

    keys = {p: derived_key(cfg, p) for p in sorted(check_policy(cfg))}
    return keys, derived_key(cfg, KEY_PURPOSE)


def protect_file(input_path: str, out_run: str, cfg: Any, *, warn: Callable[[str], None] | None = None,
                 progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Ingest a file (any format ingest reads, with the config's `ingest` section) into a new run,
    then protect it: one command from raw data to protected train / eval_only sets.

    The policy, routes and keys are checked before the run directory is created."""
    from pathlib import Path

    from privtune.ingest import run_ingest
    from privtune.pii.scan import is_run_dir
    from privtune.rundir import RunDir
    from privtune.secure.store import open_store

    if not Path(input_path).is_file():
        raise InputError(f"{input_path}: input not found (a file, or a run directory without --out)")
    if is_run_dir(out_run) or (Path(out_run).exists() and any(Path(out_run).iterdir())):
        raise InputError(f"{out_run}: --out must be a new or empty directory")
    keys = protect_keys(cfg)
    ingest_cfg = cfg.ingest.model_copy(update={"inputs": [input_path]})
    run_ingest([input_path], ingest_cfg, open_store(RunDir(out_run), getattr(cfg, "security", None)))
    return run_protect(out_run, cfg, warn=warn, progress=progress, keys=keys)


def run_protect(run_path: str, cfg: Any, *, warn: Callable[[str], None] | None = None,
                progress: Callable[[int], None] | None = None,
                keys: tuple[dict[str, bytes], bytes] | None = None) -> dict[str, Any]:
    """`keys`: what `protect_keys(cfg)` returned, when the caller has already checked and loaded them."""
    from privtune.pii.analyzer import Analyzer
    from privtune.pii.ner import load_ner
    from privtune.pii.report_html import render_report
    from privtune.pii.scan import is_run_dir
    from privtune.pii.stage import run_scan
    from privtune.records import text_fields
    from privtune.rundir import RunDir
    from privtune.secure.store import open_store

    if keys is None:
        check_policy(cfg)
    if not is_run_dir(run_path):
        raise InputError(f"{run_path}: not a run directory (run `privtune ingest ... --out RUN` first)")
    keys, fp_key = keys or protect_keys(cfg)  # fails before anything is written
    run = RunDir(run_path, create=False)
    store = open_store(run, getattr(cfg, "security", None))
    if not store.exists(RECORDS_ARTIFACT):
        raise InputError(f"{run_path}: run has no {RECORDS_ARTIFACT}; run `privtune ingest` first")
    scan_st = run.stage("scan")
    if scan_st.get("status") != "done" or scan_st.get("inputs", {}).get(RECORDS_ARTIFACT) != store.hash(
        RECORDS_ARTIFACT
    ) or scan_st.get("config_hash") != cfg.section_hash("pii"):
        run_scan(run_path, cfg, findings=None, warn=warn)
    real = load_fingerprint_set(store)
    vault = Vault(keys["vault"]) if "vault" in keys else None
    ctx = OperatorContext(keys, cfg.protect, real, fp_key, vault)
    run.begin_stage("protect", {FINDINGS_ARTIFACT: store.hash(FINDINGS_ARTIFACT)}, cfg.section_hash("protect"))
    counts: dict[str, Counter[str]] = {k: Counter() for k in ("type", "field", "operator", "level", "route")}
    examples: list[str] = []
    try:
        findings = _grouped(store.iter_jsonl(FINDINGS_ARTIFACT))
        nxt = next(findings, None)
        with store.writer(TRAIN, sensitive=True) as ftrain, store.writer(EVAL_ONLY, sensitive=True) as feval:
            for i, rec in enumerate(store.iter_jsonl(RECORDS_ARTIFACT)):
                ref = rec.get("id", i)
                lines: list[dict[str, Any]] = []
                if nxt is not None and nxt[0] == ref:
                    lines = nxt[1]
                    nxt = next(findings, None)
                ctx.new_record(str(rec.get("user_id") or f"record:{ref}"))
                types = [s["entity_type"] for ln in lines for s in ln["spans"]]
                for ln in lines:
                    for s in ln["spans"]:
                        counts["type"][s["entity_type"]] += 1
                        counts["field"][ln["field"].split(".", 1)[0]] += 1
                level = level_of(types, cfg.protect.rules)
                route = cfg.protect.routes[level]
                counts["level"][level] += 1
                if route != "excluded":
                    prot, used = protect_record(rec, lines, cfg, ctx)
                    counts["operator"].update(used)
                    if prot is None:
                        route = "excluded"
                        counts["level"]["dropped_by_operator"] += 1
                    else:
                        fh = ftrain if route == "train" else feval
                        fh.write((json.dumps(prot, ensure_ascii=False) + "\n").encode())
                        if len(examples) < 5 and lines and route == "train":
                            examples.append(next(v for _, v in text_fields(prot))[:400])
                counts["route"][route] += 1
                if progress:
                    progress(1)
        outputs = {TRAIN: store.hash(TRAIN), EVAL_ONLY: store.hash(EVAL_ONLY)}
        if vault is not None:
            outputs[VAULT_ARTIFACT] = store.write(VAULT_ARTIFACT, vault.to_bytes(), sensitive=True)
        analyzer = Analyzer(cfg.pii, load_ner(cfg.pii.ner))
        verification = verify(store, analyzer, fp_key, real)
        report = {
            "records": sum(counts["route"].values()),
            "routes": dict(counts["route"]),
            "levels": dict(counts["level"]),
            "findings_by_type": dict(sorted(counts["type"].items())),
            "findings_by_field": dict(sorted(counts["field"].items())),
            "operators": dict(sorted(counts["operator"].items())),
            "policy": cfg.protect.policy,
            "default_operator": cfg.protect.default_operator,
            "vault_entries": len(vault) if vault is not None else 0,
            "verification": verification,
            "examples": examples,
        }
        # Examples are protected text, but a value the scanner missed would show in them: they go only
        # into the encrypted HTML page, never into the plaintext JSON.
        public = {k: v for k, v in report.items() if k != "examples"}
        outputs[REPORT_JSON] = store.write_json(REPORT_JSON, public, sensitive=False)
        outputs[REPORT_HTML] = store.write(REPORT_HTML, render_report(report).encode(), sensitive=True)
        run.finish_stage("protect", outputs, {k: report[k] for k in ("records", "routes", "verification")})
    except BaseException as exc:
        run.fail_stage("protect", type(exc).__name__)
        raise
    return {k: v for k, v in report.items() if k != "examples"}


def verify(store: Any, analyzer: Any, fp_key: bytes, real: Any) -> dict[str, Any]:
    """Re-scan the protected output: residual findings by type, and original values that survive
    (by fingerprint, including names found by word n-grams)."""
    from privtune.records import text_fields

    residual: Counter[str] = Counter()
    surviving: Counter[str] = Counter()
    for name in (TRAIN, EVAL_ONLY):
        batch: list[str] = []
        for rec in store.iter_jsonl(name):
            batch.extend(v for _, v in text_fields(rec))
            if len(batch) >= 512:
                _check(batch, analyzer, fp_key, real, residual, surviving)
                batch = []
        _check(batch, analyzer, fp_key, real, residual, surviving)
    structured = sum(surviving[t] for t in STRUCTURED)
    return {
        "residual_by_type": dict(sorted(residual.items())),
        "surviving_originals_by_type": dict(sorted(surviving.items())),
        "surviving_structured": structured,
        "passed": structured == 0,
    }


def _check(texts: list[str], analyzer: Any, key: bytes, real: Any, residual: Counter[str], surviving: Counter[str]) -> None:
    for text, spans in zip(texts, analyzer.analyze_many(texts), strict=True):
        seen = set()
        for s in spans:
            residual[s.entity_type] += 1
            if fingerprint(key, s.entity_type, text[s.start : s.end]) in real:
                surviving[s.entity_type] += 1
                seen.add((s.start, s.end))
        for t, a, b in find_leaks(text, key, real):
            if (a, b) not in seen:
                surviving[t] += 1
