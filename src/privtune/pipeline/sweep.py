"""`privtune sweep`: one train + audit per ε on shared ingest/scan/protect outputs, plotted together.

The data stages run once in the parent run; each child run gets a byte-for-byte copy of their
(encrypted) artifacts and run.json entries, so the children skip them and differ only in ε.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from privtune.config import PipelineConfig
from privtune.errors import ConfigError, GateFailed
from privtune.rundir import RunDir

SHARED_STAGES = ("ingest", "scan", "protect")


def parse_epsilons(text: str) -> list[float]:
    out = []
    for part in text.split(","):
        part = part.strip().lower()
        try:
            eps = float("inf") if part in ("inf", "infinity", "none") else float(part)
        except ValueError:
            raise ConfigError(f"--epsilons: {part!r} is not a number or 'inf'") from None
        if eps <= 0:
            raise ConfigError("--epsilons: every ε must be > 0")
        out.append(eps)
    if not out:
        raise ConfigError("--epsilons: give at least one value, e.g. 1,3,8,inf")
    return out


def _label(eps: float) -> str:
    return "inf" if eps == float("inf") else f"{eps:g}"


def _child_config(cfg: PipelineConfig, parent: Path, eps: float) -> PipelineConfig:
    dp = cfg.dp.model_copy(
        update={"enabled": eps != float("inf"), "target_epsilon": None if eps == float("inf") else eps}
    )
    run = cfg.run.model_copy(update={"name": f"eps-{_label(eps)}", "dir": str(parent / "sweep")})
    stages = cfg.pipeline.model_copy(update={"release": False})
    return cfg.model_copy(update={"dp": dp, "run": run, "pipeline": stages})


def _share(parent: RunDir, child_path: Path) -> None:
    """Copy the shared stages' artifacts and run.json entries into a child run (skipping them there)."""
    child = RunDir(child_path)
    state = parent.read()
    names = [n for n in state["artifacts"] if n.split("/", 1)[0] in SHARED_STAGES]
    for name in names:
        dst = child.path / name
        dst.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        shutil.copy2(parent.path / name, dst)
    with child.update() as data:
        for name in names:
            data["artifacts"][name] = state["artifacts"][name]
        for stage in SHARED_STAGES:
            if stage in state["stages"]:
                data["stages"][stage] = state["stages"][stage]
        data["security"] = state.get("security")
        data["parent"] = str(parent.path)


def _point(child: RunDir, store: Any, eps: float, outcome: str) -> dict[str, Any]:
    train = store.read_json("train/summary.json") if store.exists("train/summary.json") else {}
    audit = store.read_json("audit/audit.json") if store.exists("audit/audit.json") else {}
    canaries = audit.get("canaries") or {}
    return {
        "target_epsilon": None if eps == float("inf") else eps,
        "epsilon": train.get("epsilon") if train.get("dp") else None,
        "run": str(child.path),
        "outcome": outcome,
        "val_loss": train.get("val_loss"),
        "val_perplexity": train.get("val_perplexity"),
        "max_canary_exposure": canaries.get("max_exposure"),
        "mia_auc": ((audit.get("membership") or {}).get("best") or {}).get("auc"),
        "pii_leaks": (audit.get("pii_leaks") or {}).get("distinct_values"),
        "audit_passed": audit.get("passed"),
    }


def run_sweep(cfg: PipelineConfig, epsilons: list[float], notify: Any = None) -> dict[str, Any]:
    from privtune.pipeline.runner import run_pipeline
    from privtune.secure.store import open_store

    base = cfg.model_copy(
        update={"pipeline": cfg.pipeline.model_copy(update={"train": False, "release": False})}
    )
    run_pipeline(base, notify=notify)
    parent = RunDir(Path(cfg.run.dir) / cfg.run.name, create=False)
    points = []
    for eps in epsilons:
        child_cfg = _child_config(cfg, parent.path, eps)
        child_path = Path(child_cfg.run.dir) / child_cfg.run.name
        if not (child_path / "run.json").exists():
            _share(parent, child_path)
        outcome = "passed"
        try:
            run_pipeline(child_cfg, notify=notify)
        except GateFailed:
            outcome = "gate failed"
        child = RunDir(child_path, create=False)
        points.append(_point(child, open_store(child, cfg.security), eps, outcome))
    result = {"points": points}
    store = open_store(parent, cfg.security)
    store.write_json("release/sweep.json", result, sensitive=False)
    store.write("release/sweep.svg", plot_sweep(points).encode(), sensitive=False)
    return result


def plot_sweep(points: list[dict[str, Any]]) -> str:
    """Utility (validation loss) and leakage (exposure, MIA AUC, PII leaks) against ε, one figure."""
    import io

    import matplotlib

    matplotlib.use("svg")
    import matplotlib.pyplot as plt

    labels = [_label(p["target_epsilon"]) if p["target_epsilon"] else "∞ (no DP)" for p in points]
    x = list(range(len(points)))
    fig, axes = plt.subplots(1, 4, figsize=(14, 3.4))
    series = (
        ("validation loss", "val_loss"),
        ("max canary exposure (bits)", "max_canary_exposure"),
        ("membership AUC", "mia_auc"),
        ("PII values leaked", "pii_leaks"),
    )
    for ax, (title, key) in zip(axes, series, strict=True):
        ys = [p[key] if p[key] is not None else float("nan") for p in points]
        ax.plot(x, ys, marker="o")
        ax.set_xticks(x, labels)
        ax.set_xlabel("target ε")
        ax.set_title(title, fontsize=10)
        if key == "mia_auc":
            ax.axhline(0.5, color="grey", linestyle=":", linewidth=1)
    fig.tight_layout()
    buf = io.StringIO()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()
