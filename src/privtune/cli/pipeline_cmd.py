"""`privtune run` and `privtune report`."""

from __future__ import annotations

from pathlib import Path

import typer

from privtune.cli.output import console, emit_json, err_console


def register(app: typer.Typer) -> None:
    @app.command("run")
    def run(
        config: Path = typer.Argument(
            None, help="Pipeline YAML config (omit with --data for safe defaults)."
        ),
        data: Path = typer.Option(None, "--data", help="Quick start: one data file; schema detected."),
        out: Path = typer.Option(None, "--out", "-o", help="Run directory (default: run.dir/run.name)."),
        model: str = typer.Option(None, "--model", help="Local HF causal LM directory."),
        preset: str = typer.Option(None, "--preset", help="Built-in tiny model: tiny-gpt2 or tiny-llama."),
        epsilon: float = typer.Option(None, "--epsilon", help="Privacy budget ε (inf: no DP; default 8)."),
        write_config: Path = typer.Option(None, "--write-config", help="Also save the equivalent YAML here."),
        force: bool = typer.Option(False, "--force", help="Re-run every stage even if unchanged."),
        as_json: bool = typer.Option(False, "--json", help="Print stage results as JSON."),
    ) -> None:
        """Run the whole pipeline: ingest → scan → protect → train → audit → release (report).

        Unchanged stages are skipped; an interrupted run resumes. Exit 3 when an audit gate fails.

        Example: privtune run --data tickets.csv --preset tiny-gpt2 --epsilon 8 --out runs/tickets
        """
        from privtune.config import load_config, with_overrides
        from privtune.errors import ConfigError, GateFailed
        from privtune.fsutil import write_atomic
        from privtune.pipeline.quickstart import config_yaml, quickstart_config
        from privtune.pipeline.runner import run_pipeline

        if model and preset:
            raise ConfigError("give --model or --preset, not both")
        if data is not None:
            if config is not None:
                raise ConfigError("give a CONFIG file or --data, not both")
            cfg = quickstart_config(str(data), str(out or Path("runs") / data.stem), model or preset, epsilon)
        elif config is not None:
            cfg = load_config(config)
            if out is not None:
                cfg = with_overrides(cfg, "run", name=out.name, dir=str(out.parent))
            if model or preset:
                cfg = cfg.model_copy(
                    update={
                        "train": cfg.train.model_copy(
                            update={"model": cfg.train.model.model_copy(update={"path": model or preset})}
                        )
                    }
                )
            if epsilon is not None:
                cfg = with_overrides(
                    cfg,
                    "dp",
                    target_epsilon=None if epsilon == float("inf") else epsilon,
                    enabled=epsilon != float("inf"),
                )
        else:
            raise ConfigError("give a CONFIG file or --data FILE (see privtune run --help)")
        if write_config:
            write_atomic(write_config, config_yaml(cfg).encode())
        run_dir = Path(cfg.run.dir) / cfg.run.name

        def notify(stage: str, event: str) -> None:
            if not as_json:
                style = {"done": "green", "skipped": "cyan", "failed": "bold red", "disabled": "dim"}.get(
                    event, ""
                )
                err_console.print(f"[{style}]{stage:8s} {event}[/]" if style else f"{stage:8s} {event} …")

        try:
            results = run_pipeline(cfg, notify=notify, force=force)
        except GateFailed:
            if not as_json:
                console.print(f"[bold red]audit gate failed[/]; report: {run_dir}/release/report.html")
            raise
        if as_json:
            emit_json({"run": str(run_dir), "stages": [vars(r) for r in results]})
            return
        _summary_table(run_dir, results)

    @app.command("sweep")
    def sweep(
        config: Path = typer.Argument(..., help="Pipeline YAML config."),
        epsilons: str = typer.Option(
            "1,3,8,inf", "--epsilons", help="Comma-separated ε values; inf = no DP."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the sweep points as JSON."),
    ) -> None:
        """Train and audit one run per ε (sharing ingest, scan and protect) and plot utility and leakage
        against ε: the experiment that chooses ε. Writes release/sweep.json and release/sweep.svg.

        Example: privtune sweep privtune.yaml --epsilons 1,3,8,inf
        """
        from rich.table import Table

        from privtune.config import load_config
        from privtune.pipeline.sweep import parse_epsilons, run_sweep

        cfg = load_config(config)
        eps = parse_epsilons(epsilons)

        def notify(stage: str, event: str) -> None:
            if not as_json:
                err_console.print(f"{stage:8s} {event}")

        result = run_sweep(cfg, eps, notify=notify)
        if as_json:
            emit_json(result)
            return
        t = Table(title="ε sweep")
        for c in ("target ε", "ε spent", "val loss", "max exposure", "MIA AUC", "PII leaks", "audit"):
            t.add_column(c)
        for p in result["points"]:
            t.add_row(
                *(
                    f"{v:.4g}" if isinstance(v, float) else str(v)
                    for v in (
                        p["target_epsilon"] or "inf",
                        p["epsilon"],
                        p["val_loss"],
                        p["max_canary_exposure"],
                        p["mia_auc"],
                        p["pii_leaks"],
                        p["outcome"],
                    )
                )
            )
        console.print(t)
        run_dir = Path(cfg.run.dir) / cfg.run.name
        console.print(f"figure: {run_dir}/release/sweep.svg  table: {run_dir}/release/sweep.json")

    @app.command("report")
    def report(
        run_dir: Path = typer.Argument(..., help="Run directory."),
        config: Path = typer.Option(None, "--config", "-c", help="Pipeline YAML (its security: section)."),
        as_json: bool = typer.Option(False, "--json", help="Print the report data as JSON."),
    ) -> None:
        """Write the privacy report (release/report.html, self-contained, and release/report.json) and
        re-sign the release manifest so that it covers the new report.

        Example: privtune report runs/demo
        """
        from privtune.config import load_config
        from privtune.report.build import sign_release
        from privtune.rundir import RunDir
        from privtune.secure.store import open_store

        cfg = load_config(config)
        run = RunDir(run_dir, create=False)
        store = open_store(run, cfg.security)
        result = sign_release(run, store, cfg.security, run.read().get("config") or {})
        data = result["report"]
        if as_json:
            data.pop("plots", None)
            emit_json({**data, "manifest_verified": result["verified"]})
            return
        console.print(f"report: {run_dir}/release/report.html")
        console.print(data["summary"])


def _summary_table(run_dir: Path, results: list) -> None:
    from rich.table import Table

    t = Table(title=f"privtune run → {run_dir}")
    for c in ("stage", "status", "seconds", "key results"):
        t.add_column(c)
    for r in results:
        keys = ", ".join(
            f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in list(r.summary.items())[:5]
        )
        t.add_row(r.stage, r.status, f"{r.seconds:.1f}" if r.seconds else "", keys)
    console.print(t)
    console.print(f"report: {run_dir}/release/report.html")
