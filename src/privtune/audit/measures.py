"""The audit's measurements on real models: canary exposure, membership inference, extraction and
memorization statistics. Each function returns a JSON-ready dict plus the arrays its plot needs."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from privtune.audit import scoring as sc
from privtune.audit.canary import exposure_from_fit, exposure_from_rank, fit_skewnorm
from privtune.audit.config import AuditConfig
from privtune.audit.extraction import (
    LeakCounter,
    check_top_candidates,
    continuation_match,
    prefix_attack_summary,
    rank_generations,
)
from privtune.audit.membership import all_scores
from privtune.audit.one_run import one_run_audit
from privtune.audit.overlap import NgramIndex
from privtune.audit.roc import roc_curve, summarize_roc

Progress = Callable[[str, int], Callable[[int], None]]  # (description, total) -> advance(n)


def _group_stats(values: Sequence[float]) -> dict[str, float]:
    a = np.asarray(values, dtype=np.float64)
    return {
        "mean": float(a.mean()),
        "median": float(np.median(a)),
        "max": float(a.max()),
        "min": float(a.min()),
    }


def measure_canaries(
    model: Any,
    tok: Any,
    spec: dict[str, Any],
    cfg: AuditConfig,
    rng: np.random.Generator,
    progress: Progress,
    delta: float | None,
) -> dict[str, Any]:
    """Exposure of every canary (exact rank or skew-normal extrapolation), by repetition count; greedy
    extraction of the secret from the canary's prefix; the one-run ε lower bound in audit mode."""
    canaries = spec["canaries"]
    alphabet, length = spec["alphabet"], int(spec["length"])
    space = len(alphabet) ** length
    ec = cfg.exposure
    exact = ec.method == "exact" or (ec.method == "auto" and space <= ec.exact_max_space)
    scorer = sc.SecretSpaceScorer(model, tok, spec["format"], batch_size=ec.batch_size)
    idx = np.array([sc.secret_index(c["secret"], alphabet) for c in canaries], dtype=np.int64)
    included = np.array([bool(c["included"]) for c in canaries])
    if exact:
        px_all = scorer.score_space(alphabet, length, on_progress=progress("canary space (exact)", space))
        px = px_all[idx]
        sample = px_all[rng.choice(space, size=min(ec.sample_size, space), replace=False)]
    else:
        sample_idx = rng.integers(0, space, size=ec.sample_size)
        sample = scorer.score_space(
            alphabet, length, indices=sample_idx, on_progress=progress("canary sample", ec.sample_size)
        )
        px = scorer.score([c["secret"] for c in canaries])
    fit = fit_skewnorm(sample)
    rows = []
    inc_px = px[included]
    for i, c in enumerate(canaries):
        row: dict[str, Any] = {
            "id": c["id"],
            "repetitions": c["repetitions"],
            "included": c["included"],
            "log_perplexity_bits": float(px[i]),
            "exposure_extrapolated": exposure_from_fit(float(px[i]), fit),
        }
        if exact:
            # other inserted canaries are training data, not references: they leave R
            lower = int(np.count_nonzero(px_all < px[i])) - int(np.count_nonzero(inc_px < px[i]))
            row["rank"] = 1 + lower
            row["exposure_exact"] = exposure_from_rank(
                1 + lower, space - int(included.sum()) + (1 if c["included"] else 0)
            )
        row["exposure"] = row.get("exposure_exact", row["exposure_extrapolated"])
        rows.append(row)
    # greedy extraction: does the model complete the canary prefix with the secret?
    head = spec["format"].split("{secret}", 1)[0]
    extracted = 0
    if head:
        cont = sc.greedy_continuations(model, [scorer.prefix], max_new_tokens=length * 2 + 4)[0]
        text = tok.decode(list(scorer.prefix) + cont, skip_special_tokens=True)
        guess = text[len(tok.decode(scorer.prefix, skip_special_tokens=True)) :]
        for row, c in zip(rows, canaries, strict=True):
            row["extracted_greedy"] = c["secret"] in guess
            extracted += row["extracted_greedy"]
    by_rep: dict[str, Any] = {}
    for reps in sorted({c["repetitions"] for c in canaries}):
        sel = [r["exposure"] for r in rows if r["repetitions"] == reps and r["included"]]
        if sel:
            by_rep[str(reps)] = {
                "count": len(sel),
                **_group_stats(sel),
                "extracted_greedy": sum(
                    1 for r in rows if r["repetitions"] == reps and r.get("extracted_greedy")
                ),
            }
    out: dict[str, Any] = {
        "method": "exact" if exact else "extrapolated",
        "space_size": space,
        "log2_space": math.log2(space),
        "chance_exposure": 1 / math.log(2),  # E[exposure] of an unseen secret ≈ 1.44 bits
        "reference_sample": int(sample.size),
        "skewnorm": dict(zip(("shape", "loc", "scale"), fit, strict=True)),
        "by_repetitions": by_rep,
        "max_exposure": max((r["exposure"] for r in rows if r["included"]), default=0.0),
        "canaries": rows,
    }
    if spec.get("audit_mode"):
        scores = np.array([r["exposure"] for r in rows])
        out["one_run"] = one_run_audit(
            scores, included, cfg.one_run_guess_fraction, delta or 0.0, cfg.significance
        )
    out["_plot"] = {"sample": sample, "rows": rows}
    return out


def _loss_positions(ids: list[int], labels: list[int]) -> np.ndarray:
    from privtune.train.data import IGNORE

    return np.array([i for i, lab in enumerate(labels[1:]) if lab != IGNORE], dtype=np.int64)


def score_records(
    model: Any,
    base: Any | None,
    tok: Any,
    records: Sequence[dict[str, Any]],
    max_length: int,
    batch: int,
    k: float,
) -> list[dict[str, float]]:
    """Every membership score of each record, on the tokens training computed loss on."""
    from privtune.train.data import encode as train_encode

    enc = [train_encode(r, tok, max_length) for r in records]
    keep = [i for i, (ids, labels) in enumerate(enc) if len(_loss_positions(ids, labels))]
    ids = [enc[i][0] for i in keep]
    pad = sc._pad_id(tok)
    tgt = sc.score_ids(model, ids, pad, batch, distribution=True)
    ref = sc.score_ids(base, ids, pad, batch) if base is not None else [None] * len(ids)
    out = []
    for i, t, b in zip(keep, tgt, ref, strict=True):
        pos = _loss_positions(*enc[i])
        text = tok.decode([enc[i][0][p + 1] for p in pos], skip_special_tokens=True)
        s = all_scores(
            t.logprobs[pos], text, t.mu[pos], t.sigma[pos], b.logprobs[pos] if b is not None else None, k
        )
        s["nll"] = -float(t.logprobs[pos].mean())
        if b is not None:
            s["base_nll"] = -float(b.logprobs[pos].mean())
        out.append(s)
    return out


def measure_membership(
    model: Any,
    base: Any | None,
    tok: Any,
    members: Sequence[dict],
    nonmembers: Sequence[dict],
    cfg: AuditConfig,
    max_length: int,
) -> dict[str, Any]:
    mc = cfg.membership
    mem = score_records(model, base, tok, members, max_length, cfg.batch_size, mc.k)
    non = score_records(model, base, tok, nonmembers, max_length, cfg.batch_size, mc.k)
    out: dict[str, Any] = {"k": mc.k, "scores": {}}
    curves = {}
    if not mem or not non:
        out["skipped"] = "needs both training and held-out records (train.validation_fraction > 0)"
        return out
    for name in mem[0]:
        if name in ("nll", "base_nll"):
            continue
        m = [s[name] for s in mem]
        n = [s[name] for s in non]
        res = summarize_roc(m, n)
        res["auc_stderr"] = _hanley_mcneil(res["auc"], len(m), len(n))
        out["scores"][name] = res
        curves[name] = roc_curve(m, n)
    best = max(out["scores"], key=lambda s: out["scores"][s]["auc"])
    out["best"] = {"scorer": best, **out["scores"][best]}
    ppl = {
        "train": math.exp(float(np.mean([s["nll"] for s in mem]))),
        "validation": math.exp(float(np.mean([s["nll"] for s in non]))),
    }
    if base is not None:
        ppl["base_train"] = math.exp(float(np.mean([s["base_nll"] for s in mem])))
        ppl["base_validation"] = math.exp(float(np.mean([s["base_nll"] for s in non])))
    ppl["shift_validation_over_train"] = ppl["validation"] / ppl["train"]
    out["perplexity"] = ppl
    out["_plot"] = {
        "curves": curves,
        "nll": {
            "train": [s["nll"] for s in mem],
            "validation": [s["nll"] for s in non],
            **({"base (train)": [s["base_nll"] for s in mem]} if base is not None else {}),
        },
    }
    return out


def _hanley_mcneil(auc: float, n_pos: int, n_neg: int) -> float:
    """Standard error of an AUC estimate (Hanley & McNeil 1982): how much the AUC moves by chance."""
    q1, q2 = auc / (2 - auc), 2 * auc * auc / (1 + auc)
    var = (auc * (1 - auc) + (n_pos - 1) * (q1 - auc * auc) + (n_neg - 1) * (q2 - auc * auc)) / (
        n_pos * n_neg
    )
    return math.sqrt(max(var, 0.0))


def measure_extraction(
    model: Any,
    base: Any | None,
    tok: Any,
    train_ids: Sequence[list[int]],
    cfg: AuditConfig,
    rng: np.random.Generator,
    leaks: LeakCounter | None,
    seed: int,
) -> dict[str, Any]:
    """Prefix and untargeted extraction, n-gram overlap of generations with training, PII regurgitation."""
    ex = cfg.extraction
    eos = getattr(tok, "eos_token_id", None)
    out: dict[str, Any] = {}
    # (a) prefix attack
    k, m = ex.prefix_tokens, ex.suffix_tokens
    eligible = [i for i, ids in enumerate(train_ids) if len(ids) > k + 1]
    chosen = rng.permutation(eligible)[: ex.prefix_records].tolist() if eligible else []
    if chosen:
        prompts = [train_ids[i][:k] for i in chosen]
        conts = sc.greedy_continuations(model, prompts, m, cfg.batch_size)
        results = [continuation_match(c, train_ids[i][k : k + m]) for i, c in zip(chosen, conts, strict=True)]
        out["prefix"] = prefix_attack_summary(results, ex.near_verbatim)
        if leaks is not None:
            for p, c in zip(prompts, conts, strict=True):
                shown = tok.decode(p, skip_special_tokens=True)
                full = tok.decode(list(p) + sc.cut_at_eos(c, eos), skip_special_tokens=True)
                leaks.scan(full, "prefix", generated_from=len(shown) if full.startswith(shown) else 0)
    else:
        out["prefix"] = {"records": 0, "skipped": f"no training record longer than {k + 1} tokens"}
    # (b) untargeted: each sample starts from the first token of a random training record
    gens: list[list[int]] = []
    if ex.samples and train_ids:
        starts = [[train_ids[i][0]] for i in rng.integers(0, len(train_ids), size=ex.samples)]
        raw = sc.sample_generations(
            model,
            starts,
            ex.max_new_tokens,
            ex.top_k,
            ex.temperature_start,
            ex.temperature_decay_tokens,
            seed,
            batch_size=max(cfg.batch_size, 32),
        )
        gens = [s + sc.cut_at_eos(g, eos) for s, g in zip(starts, raw, strict=True)]
        gens = [g for g in gens if len(g) >= 2]
    texts = [tok.decode(g, skip_special_tokens=True) for g in gens]
    if gens:
        tgt = [t.logprobs for t in sc.score_ids(model, gens, sc._pad_id(tok), cfg.batch_size)]
        ref = (
            [t.logprobs for t in sc.score_ids(base, gens, sc._pad_id(tok), cfg.batch_size)]
            if base is not None
            else None
        )
        rankings = rank_generations(texts, tgt, ref)
        index16 = NgramIndex(max(cfg.ngram_sizes))
        for ids in train_ids:
            index16.add(ids)
        out["untargeted"] = {
            "samples": len(gens),
            "top_candidates": check_top_candidates(rankings, gens, index16, ex.top_candidates),
        }
        if leaks is not None:
            for t in texts:
                leaks.scan(t, "untargeted")
    else:
        out["untargeted"] = {"samples": 0}
    # memorization: n-gram overlap of all generations with the training data
    overlap = {}
    for n in cfg.ngram_sizes:
        index = NgramIndex(n)
        for ids in train_ids:
            index.add(ids)
        overlap[str(n)] = index.overlap(gens)
    out["ngram_overlap"] = overlap
    return out
