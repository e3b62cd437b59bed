"""`privtune scan`, `privtune protect`, `privtune reveal`."""

from __future__ import annotations

from pathlib import Path

import typer

from privtune.cli.output import console, emit_json, progress, progress_advancer, warn


def _load(config: Path | None, ner: str | None, fields: list[str] | None, workers: int | None):  # type: ignore[no-untyped-def]
    from privtune.config import load_config, with_overrides

    cfg = load_config(config)
    if ner is not None:
        cfg = cfg.model_copy(update={"pii": cfg.pii.model_copy(update={"ner": cfg.pii.ner.model_copy(update={"model": ner})})})
    return with_overrides(cfg, "pii", fields=fields or None, workers=workers)


def _print_counts(title: str, counts: dict[str, int]) -> None:
    from rich.table import Table

    t = Table(title=title)
    t.add_column("")
    t.add_column("count", justify="right")
    for k, v in counts.items():
        t.add_row(k, str(v))
    console.print(t)


def register(app: typer.Typer) -> None:
    @app.command("scan")
    def scan(
        input_path: Path = typer.Argument(..., metavar="INPUT", help="Input file (any format ingest reads) or a run directory."),
        field: list[str] = typer.Option(None, "--field", help="Only scan this field (repeatable; `messages` = all turns)."),
        findings: Path = typer.Option(None, "--findings", help="Findings JSONL to write (required for a file INPUT)."),
        as_json: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
        workers: int = typer.Option(None, "--workers", min=1, help="Worker processes (default: config pii.workers)."),
        ner: str = typer.Option(None, "--ner", help="NER model: installed spaCy pipeline name/path, hf:<dir>, gliner:<dir>, or `none`."),
        config: Path = typer.Option(None, "--config", "-c", help="Pipeline YAML (sections pii, ingest, security)."),
    ) -> None:
        """Find PII and secrets: one JSON line per record and field with offsets, types, scores and
        keyed fingerprints (never the values), plus a summary.

        Example: privtune scan tickets.jsonl --findings findings.jsonl --workers 2
        """
        from privtune.pii.stage import run_scan

        cfg = _load(config, ner, field, workers)
        with progress(quiet=as_json) as bar:
            summary = run_scan(
                str(input_path), cfg, findings=findings, warn=warn,
                progress=progress_advancer(bar, "scan", 0),
            )
        if as_json:
            emit_json(summary)
            return
        _print_counts("findings by type", summary["counts_by_type"])
        _print_counts("findings by field", summary["counts_by_field"])
        ner_s = f"{summary['ner']['name']} {summary['ner']['version']}" if summary["ner"] else "none (regex only)"
        console.print(
            f"{summary['records']} records, {summary['spans']} spans, NER: {ner_s}, "
            f"{len(summary['recognizers'])} recognizers, {summary['records_per_s'] or 0:.0f} records/s"
        )

    @app.command("protect")
    def protect(
        run_dir: Path = typer.Argument(
            ..., metavar="RUN|FILE", help="Run directory (after `privtune ingest`), or a data file with --out."
        ),
        out: Path = typer.Option(
            None, "--out", "-o", help="With a FILE: the new run directory it is ingested into and protected in."
        ),
        config: Path = typer.Option(None, "--config", "-c", help="Pipeline YAML (sections pii, protect, security)."),
        ner: str = typer.Option(None, "--ner", help="NER model: installed spaCy pipeline name/path, hf:<dir>, gliner:<dir>, or `none`."),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    ) -> None:
        """De-identify a run by policy: protect/train.jsonl, protect/eval_only.jsonl, a report (JSON +
        HTML) and a verification re-scan (no original structured value may survive).

        Example: privtune protect runs/demo --config privtune.yaml
        Example: privtune protect tickets.jsonl --out runs/tickets   (ingest with the config, then protect)
        """
        from privtune.pii.protect import protect_file, run_protect

        cfg = _load(config, ner, None, None)
        with progress(quiet=as_json) as bar:
            advance = progress_advancer(bar, "protect", 0)
            if out is not None:
                report = protect_file(str(run_dir), str(out), cfg, warn=warn, progress=advance)
                run_dir = out
            else:
                report = run_protect(str(run_dir), cfg, warn=warn, progress=advance)
        if as_json:
            emit_json(report)
            return
        _print_counts("routes", report["routes"])
        _print_counts("operators", report["operators"])
        v = report["verification"]
        console.print(
            f"verification: {'[green]passed' if v['passed'] else '[red]FAILED'}[/] "
            f"({v['surviving_structured']} surviving structured originals); report: {run_dir}/protect/report.html"
        )

    @app.command("reveal")
    def reveal(
        run_dir: Path = typer.Argument(..., metavar="RUN", help="Run directory holding protect/vault.sqlite."),
        input_path: Path = typer.Argument(..., metavar="INPUT", help="Text or JSONL file with vault tokens."),
        out: Path = typer.Option(..., "--out", "-o", help="Where to write the revealed text (0600)."),
        reason: str = typer.Option(..., "--reason", help="Why the values are revealed (goes to the audit log)."),
        config: Path = typer.Option(None, "--config", "-c", help="Pipeline YAML (security section)."),
    ) -> None:
        """Turn vault tokens back into the original values, for an authorised user; audited.

        Example: privtune reveal runs/demo flagged.jsonl --out flagged.revealed.jsonl --reason "ticket 4711"
        """
        from privtune.pii.reveal import run_reveal

        cfg = _load(config, None, None, None)
        n, unknown = run_reveal(str(run_dir), input_path, out, reason, cfg)
        console.print(f"revealed {n} value(s) into {out}" + (f"; {unknown} unknown token(s) left" if unknown else ""))
