"""`privtune demo`."""

from __future__ import annotations

from pathlib import Path

import typer

from privtune.cli.output import console, emit_json, progress, progress_advancer


def register(app: typer.Typer) -> None:
    @app.command("demo")
    def demo(
        out: Path = typer.Option(Path("runs/demo"), "--out", "-o", help="Run directory to create."),
        as_json: bool = typer.Option(False, "--json", help="Print the stage summaries as JSON."),
    ) -> None:
        """Run the pipeline on the bundled synthetic support tickets and print where the outputs are.

        Example: privtune demo --out runs/demo
        """
        from privtune.demo import run_demo

        with progress(quiet=as_json) as bar:
            summary = run_demo(out, progress=lambda d, t, u: progress_advancer(bar, f"ingest {d}", t, u))
        if as_json:
            emit_json({"run": str(out), **summary})
            return
        ing = summary["ingest"]
        console.print(f"[bold green]demo run written to {out}[/]")
        console.print(
            f"ingest: {ing['read']} read, {ing['kept']} kept, {ing['quarantined']} quarantined, "
            f"{ing['duplicates_removed']} duplicates removed"
        )
        console.print(f"  records (encrypted):  {out}/ingest/records.jsonl")
        console.print(f"  quarantine:           {out}/ingest/quarantine.jsonl")
        console.print(f"  report:               {out}/ingest/report.json")
        console.print(f"  run state:            {out}/run.json")
        console.print(f"read a record file with: privtune decrypt {out}/ingest/records.jsonl records.jsonl")
