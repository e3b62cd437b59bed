"""`privtune demo`."""

from __future__ import annotations

from pathlib import Path

import typer

from privtune.cli.output import console, emit_json, err_console


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        out: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Run directory to create."),
        write_config: Path = typer.Option(None, "--write-config", help="Save the demo's config as YAML."),
        as_json: bool = typer.Option(False, "--json", help="Print the stage results as JSON."),
    ) -> None:
        """Run the full pipeline (ingest → scan → protect → DP training → audit → signed report) on the
        bundled synthetic support tickets with a tiny model, and print where the report is.

        Example: privtune demo --out runs/demo
        """
        from privtune.demo import demo_config
        from privtune.fsutil import write_atomic
        from privtune.pipeline.quickstart import config_yaml
        from privtune.pipeline.runner import run_pipeline

        cfg = demo_config(out)
        if write_config:
            write_atomic(write_config, config_yaml(cfg).encode())

        def notify(stage: str, event: str) -> None:
            if not as_json:
                err_console.print(f"{stage:8s} {event}")

        results = run_pipeline(cfg, notify=notify)
        if as_json:
            emit_json({"run": str(out), "stages": [vars(r) for r in results]})
            return
        from privtune.cli.pipeline_cmd import _summary_table

        _summary_table(out, results)
        console.print(f"[bold green]demo finished.[/] Open the privacy report: {out}/release/report.html")
        console.print(f"Verify the signed release: privtune verify {out}")
