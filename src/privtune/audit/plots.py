"""Standalone SVG plots for the release report: exposure per repetition, ROC curves, perplexity
histograms. Only aggregate numbers are drawn (no text, no secrets)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np


def _fig():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.rcParams["svg.hashsalt"] = "privtune"  # deterministic ids in the SVG
    return plt, plt.subplots(figsize=(5.5, 3.8))


def _svg(plt, fig) -> bytes:
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    return buf.getvalue()


def exposure_plot(rows: list[dict[str, Any]], log2_space: float, chance: float) -> bytes:
    plt, (fig, ax) = _fig()
    reps = sorted({r["repetitions"] for r in rows})
    for j, rep in enumerate(reps):
        for inc, marker, label in ((True, "o", "included"), (False, "x", "not included")):
            ys = [r["exposure"] for r in rows if r["repetitions"] == rep and r["included"] == inc]
            if ys:
                xs = j + np.linspace(-0.15, 0.15, len(ys)) if len(ys) > 1 else [j]
                ax.scatter(
                    xs, ys, marker=marker, color="C0" if inc else "C3", label=label if j == 0 else None
                )
    ax.axhline(log2_space, color="grey", ls="--", lw=1, label="maximum (log2 |R|)")
    ax.axhline(chance, color="grey", ls=":", lw=1, label="chance (~1.44 bits)")
    ax.set_xticks(range(len(reps)), [str(r) for r in reps])
    ax.set_xlabel("repetitions of the canary in training")
    ax.set_ylabel("exposure (bits)")
    ax.set_title("Canary exposure")
    ax.legend(fontsize=7)
    return _svg(plt, fig)


def roc_plot(curves: dict[str, tuple[np.ndarray, np.ndarray]], aucs: dict[str, float]) -> bytes:
    plt, (fig, ax) = _fig()
    for name, (fpr, tpr) in curves.items():
        ax.step(
            np.maximum(fpr, 1e-4), np.maximum(tpr, 1e-4), where="post", label=f"{name} (AUC {aucs[name]:.3f})"
        )
    grid = np.logspace(-4, 0, 50)
    ax.plot(grid, grid, color="grey", ls=":", lw=1, label="chance")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("Membership inference ROC (log-log)")
    ax.legend(fontsize=7)
    return _svg(plt, fig)


def perplexity_plot(nll: dict[str, list[float]]) -> bytes:
    plt, (fig, ax) = _fig()
    values = [v for vs in nll.values() for v in vs]
    bins = np.linspace(min(values), max(values), 30) if values else 10
    for name, vs in nll.items():
        ax.hist(vs, bins=bins, alpha=0.5, density=True, label=name)
    ax.set_xlabel("mean token loss (nats) = log perplexity")
    ax.set_ylabel("density")
    ax.set_title("Per-record log-perplexity")
    ax.legend(fontsize=7)
    return _svg(plt, fig)
