"""`privtune audit RUN`: memorization and leakage audit of a trained model, with gates (exit 3)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from privtune.cli.output import console, emit_json, err_console, progress


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def print_summary(report: dict[str, Any]) -> None:
    """The human summary: headline numbers, then one row per gate."""
    from rich.table import Table

    can, mia = report.get("canaries", {}), report.get("membership", {})
    eps = report.get("accountant_epsilon")
    console.print(
        f"[bold]audit[/] dp={report.get('dp')}  accountant ε={_fmt(eps)}  ({_fmt(report.get('seconds'))} s)"
    )
    if can.get("by_repetitions"):
        t = Table(
            "repetitions",
            "canaries",
            "mean exposure",
            "max exposure",
            "extracted (greedy)",
            title=f"canary exposure ({can['method']}, |R| = {can['space_size']:,}, max {can['log2_space']:.1f} bits)",
        )
        for rep, row in can["by_repetitions"].items():
            t.add_row(
                rep,
                str(row["count"]),
                f"{row['mean']:.2f}",
                f"{row['max']:.2f}",
                str(row["extracted_greedy"]),
            )
        console.print(t)
        if can.get("one_run"):
            o = can["one_run"]
            console.print(
                f"one-run audit: {o['v']}/{o['r']} correct guesses of {o['m']} canaries -> "
                f"empirical ε ≥ {o['epsilon_lower_bound']:.3f}"
            )
    if mia.get("scores"):
        t = Table(
            "scorer",
            "AUC",
            "± s.e.",
            "TPR@1%FPR",
            "TPR@0.1%FPR",
            title=f"membership inference ({mia['best']['members']} members, {mia['best']['nonmembers']} held out)",
        )
        for name, row in mia["scores"].items():
            t.add_row(
                name,
                f"{row['auc']:.3f}",
                f"{row['auc_stderr']:.3f}",
                f"{row['tpr_at_1pct_fpr']:.3f}",
                f"{row['tpr_at_0.1pct_fpr']:.3f}",
            )
        console.print(t)
        p = mia["perplexity"]
        console.print("perplexity: " + "  ".join(f"{k}={v:.3g}" for k, v in p.items()))
    ex = report.get("extraction", {})
    if ex.get("prefix", {}).get("records"):
        p = ex["prefix"]
        console.print(f"prefix attack: {p['exact']}/{p['records']} exact, {p['near_verbatim']} near-verbatim")
    leaks = report.get("pii_leaks", {})
    if leaks.get("checked"):
        by = ", ".join(f"{k}: {v}" for k, v in leaks["distinct_by_type"].items()) or "none"
        console.print(f"PII regurgitated: {leaks['distinct_values']} distinct values ({by})")
    else:
        console.print(f"PII regurgitation not checked: {leaks.get('reason')}")
    t = Table("gate", "value", "threshold", "result", title="gates")
    for g in report.get("gates", []):
        result = {True: "[green]pass[/]", False: "[bold red]FAIL[/]", None: "[dim]n/a[/]"}[g["passed"]]
        t.add_row(
            g["name"],
            _fmt(g["value"]),
            _fmt(g["threshold"]),
            f"{result} {g['detail'] if g['passed'] is None else ''}",
        )
    console.print(t)


def _override(cfg: Any, sub: str, **values: Any) -> Any:
    """Copy of cfg with audit.<sub> fields replaced (validated; errors name the flag's field)."""
    from pydantic import ValidationError

    from privtune.config import format_validation_error
    from privtune.errors import ConfigError

    section = getattr(cfg.audit, sub)
    try:
        new = type(section).model_validate({**section.model_dump(), **values})
    except ValidationError as err:
        raise ConfigError(format_validation_error(err, "command line", {})) from None
    return cfg.model_copy(update={"audit": cfg.audit.model_copy(update={sub: new})})


def register(app: typer.Typer) -> None:
    @app.command("audit")
    def audit(
        run: Path = typer.Argument(..., help="Run directory with a trained model (`privtune train`)."),
        config: Path | None = typer.Option(None, "--config", help="Pipeline YAML config (audit: section)."),
        method: str | None = typer.Option(
            None, "--exposure", help="Canary exposure: auto, exact or extrapolate."
        ),
        samples: int | None = typer.Option(None, "--samples", help="Untargeted generations."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as one JSON object."),
    ) -> None:
        """Measure memorization and leakage of the trained model; exit 3 when a gate is crossed.

        Canary exposure, extraction attacks (prefix and untargeted), PII regurgitation by fingerprint,
        membership inference (LOSS, zlib, Min-K%, Min-K%++, reference ratio) and the one-run ε lower
        bound. Writes RUN/audit/audit.json and SVG plots.

        Example: privtune audit runs/demo --json
        """
        from privtune.audit.stage import run_audit
        from privtune.config import load_config
        from privtune.errors import GateFailed

        cfg = load_config(config)
        if method is not None:
            cfg = _override(cfg, "exposure", method=method)
        if samples is not None:
            cfg = _override(cfg, "extraction", samples=samples)
        with progress(rate_unit="candidates", quiet=as_json) as bar:

            def track(desc: str, total: int):
                task = bar.add_task(desc, total=total, rate="")
                return lambda n: bar.advance(task, n)

            try:
                report = run_audit(run, cfg, progress=track)
            except GateFailed as exc:
                report = getattr(exc, "report", None)
                if report is not None:
                    emit_json(report) if as_json else print_summary(report)
                raise
        if as_json:
            emit_json(report)
        else:
            print_summary(report)
            err_console.print(f"[green]audit passed[/]; report: {run}/audit/audit.json")
