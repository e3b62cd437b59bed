"""Everything a server needs, loaded once from a run: model, keys, limits, guard, queue, logs.

The model and tokenizer are decrypted in memory only (through the ArtifactStore); secrets for the
fingerprint, canary, watermark and throttling hashes come from the key provider.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privtune.errors import InputError
from privtune.rundir import RunDir
from privtune.serve.apikeys import KeyStore
from privtune.serve.config import ServeConfig

KEYS_DB = "serve/keys.sqlite"
REVIEW_DB = "serve/review.sqlite"


def keystore(run_dir: str | Path) -> KeyStore:
    run = RunDir(run_dir, create=False)
    return KeyStore(run.stage_dir("serve") / "keys.sqlite")


@dataclass
class Stats:
    """Recent guard CPU time per response (ms, thread time: excludes generation and waiting) for
    /admin/stats and the benchmark."""

    guard_ms: deque[float] = field(default_factory=lambda: deque(maxlen=10000))
    requests: int = 0
    blocked: int = 0
    changed: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, ms: float, blocked: bool, changed: bool) -> None:
        with self.lock:
            self.guard_ms.append(ms)
            self.requests += 1
            self.blocked += int(blocked)
            self.changed += int(changed)

    def summary(self) -> dict[str, Any]:
        import numpy as np

        with self.lock:
            xs = list(self.guard_ms)
            out: dict[str, Any] = {
                "requests": self.requests,
                "blocked": self.blocked,
                "changed": self.changed,
            }
        if xs:
            out.update(
                guard_ms_p50=float(np.percentile(xs, 50)),
                guard_ms_p99=float(np.percentile(xs, 99)),
                guard_ms_max=max(xs),
            )
        return out


@dataclass
class ServeState:
    cfg: ServeConfig
    run: RunDir
    model_name: str
    model: Any
    tokenizer: Any
    keys: KeyStore
    review: Any
    limiter: Any
    extraction: Any
    guard: Any  # OutputGuard | None
    watermark: Any  # WatermarkBias | None
    reqlog: Any
    audit: Any  # AuditLog | None
    sampler: Any
    gen_slots: threading.BoundedSemaphore
    stats: Stats = field(default_factory=Stats)
    started: float = field(default_factory=time.time)

    def audit_event(self, key_id: str, outcome: str, details: dict[str, Any]) -> None:
        if self.audit is not None:
            self.audit.append("serve_request", f"apikey:{key_id}", {}, outcome, details)


def load_tokenizer(store: Any) -> Any:
    """Just the tokenizer of a run (for watermark detection), without loading weights."""
    import json

    if store.exists("train/base/tokenizer.json"):
        from privtune.train.models import tokenizer_from_json

        return tokenizer_from_json(json.loads(store.read_bytes("train/base/tokenizer.json"))["tokenizer"])
    if store.exists("train/base/source.json"):
        from transformers import AutoTokenizer

        path = store.read_json("train/base/source.json")["path"]
        return AutoTokenizer.from_pretrained(path, local_files_only=True, trust_remote_code=False)
    raise InputError(f"{store.run.path}: no model in this run (run `privtune train` first)")


def build_guard(cfg: Any, store: Any, provider: Any, warn: Any = None) -> Any:
    """The output guard for a run: scanner + training fingerprint set + canaries."""
    from privtune.pii.analyzer import Analyzer
    from privtune.pii.fingerprints import (
        FINGERPRINT_ARTIFACT,
        KEY_PURPOSE,
        FingerprintSet,
        load_fingerprint_set,
    )
    from privtune.serve.guard import CanaryMatcher, OutputGuard

    g = cfg.serve.guard
    pii = cfg.pii.model_copy(deep=True)
    pii.ner.model = "none"  # regex speed on the response path; names are matched through fingerprints
    if g.entities is not None:
        pii.entities = list(g.entities)
    pii.score_threshold = min(g.score_threshold, 0.3)
    fp_key = provider.derived_secret(KEY_PURPOSE)
    if store.exists(FINGERPRINT_ARTIFACT):
        fps = load_fingerprint_set(store)
    else:
        fps = FingerprintSet()
        if warn:
            warn(
                "no training PII fingerprint set (scan/fingerprints.json): run `privtune scan RUN` to block "
                "regurgitated training values"
            )
    canaries = CanaryMatcher(
        store.read_json("train/canaries.json") if store.exists("train/canaries.json") else None,
        provider.derived_secret("serve-canary"),
    )
    return OutputGuard(g, Analyzer(pii), fp_key, fps, canaries)


def load_state(run_dir: str | Path, cfg: Any, warn: Any = None, audit: bool = True) -> ServeState:
    """Load a run for serving (`cfg` is a PipelineConfig)."""
    import torch

    from privtune.pii.analyzer import Analyzer
    from privtune.secure.auditlog import AuditLog
    from privtune.secure.keys import load_key_provider
    from privtune.secure.store import open_store
    from privtune.serve.extraction import ExtractionMonitor
    from privtune.serve.generate import Sampler
    from privtune.serve.ratelimit import RateLimiter
    from privtune.serve.reqlog import RequestLog
    from privtune.serve.review import ReviewQueue
    from privtune.serve.watermark import KEY_PURPOSE as WM_PURPOSE
    from privtune.serve.watermark import GreenList, WatermarkBias
    from privtune.train.artifacts import load_base_model, load_trained_model

    sc: ServeConfig = cfg.serve
    run = RunDir(run_dir, create=False)
    store = open_store(run, cfg.security)
    provider = load_key_provider(cfg.security)
    loader = load_trained_model if sc.adapter == "trained" else load_base_model
    model, tokenizer = loader(run, store)
    torch.set_num_threads(sc.threads)
    serve_dir = run.stage_dir("serve")
    guard = build_guard(cfg, store, provider, warn) if sc.guard.enabled else None
    wm = None
    if sc.watermark.enabled:
        green = GreenList(provider.derived_secret(WM_PURPOSE), len(tokenizer), sc.watermark.gamma)
        wm = WatermarkBias(green, sc.watermark.delta)
    log_pii = cfg.pii.model_copy(deep=True)
    log_pii.ner.model = "none"
    return ServeState(
        cfg=sc,
        run=run,
        model_name=sc.model_name or run.path.resolve().name,
        model=model,
        tokenizer=tokenizer,
        keys=KeyStore(serve_dir / "keys.sqlite"),
        review=ReviewQueue(serve_dir / "review.sqlite"),
        limiter=RateLimiter(sc.rate_limit),
        extraction=ExtractionMonitor(sc.extraction, provider.derived_secret("serve-extraction")),
        guard=guard,
        watermark=wm,
        reqlog=RequestLog(
            Path(sc.log.path) if sc.log.path else serve_dir / "requests.jsonl",
            sc.log.consent,
            Analyzer(log_pii),
        ),
        audit=AuditLog(provider=provider, security=cfg.security) if audit else None,
        sampler=Sampler(model, tokenizer),
        gen_slots=threading.BoundedSemaphore(sc.concurrency),
    )
