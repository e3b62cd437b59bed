"""`privtune ingest`."""

from __future__ import annotations

from pathlib import Path

import typer

from privtune.cli.output import console, emit_json, progress, progress_advancer


def _parse_rename(pairs: list[str]) -> dict[str, str] | None:
    from privtune.errors import ConfigError

    if not pairs:
        return None
    out = {}
    for pair in pairs:
        src, sep, dst = pair.partition("=")
        if not sep or not src or not dst:
            raise ConfigError(f"--rename expects SOURCE=TARGET, got {pair!r}")
        out[src] = dst
    return out


def register(app: typer.Typer) -> None:
    @app.command("ingest")
    def ingest(
        inputs: list[Path] = typer.Argument(
            None,
            help="Input files (CSV, TSV, JSONL, JSON array, Parquet; "
            ".gz accepted) or Hugging Face `datasets` directories.",
        ),
        out: Path = typer.Option(..., "--out", "-o", help="Run directory (created 0700)."),
        schema: str = typer.Option(None, "--schema", help="text | prompt_completion | chat."),
        config: Path = typer.Option(
            None, "--config", "-c", help="Pipeline YAML; flags override its ingest section."
        ),
        fmt: str = typer.Option(None, "--format", help="Force a format instead of detecting by extension."),
        rename: list[str] = typer.Option(None, "--rename", help="SOURCE=TARGET field renaming (repeatable)."),
        keep: list[str] = typer.Option(
            None, "--keep", help="Extra field to keep as metadata (repeatable); all others are dropped."
        ),
        user_id_field: str = typer.Option(None, "--user-id-field", help="Field with the data subject's id."),
        max_record_bytes: int = typer.Option(
            None, "--max-record-bytes", help="Quarantine records larger than this."
        ),
        dedupe: bool = typer.Option(
            None, "--dedupe/--no-dedupe", help="Remove exact duplicates (default on)."
        ),
        strict: bool = typer.Option(
            None, "--strict", help="Exit non-zero at the first bad record, writing nothing."
        ),
        split: list[str] = typer.Option(
            None, "--split", help="Split of a `datasets` directory (repeatable)."
        ),
        as_json: bool = typer.Option(False, "--json", help="Print the report as JSON."),
    ) -> None:
        """Read user data into a run: schema mapping, data minimization, quarantine of bad records.

        Example: privtune ingest tickets.csv --schema prompt_completion --rename body=prompt
        --rename summary=completion --keep channel --user-id-field customer_id --out runs/demo
        """
        from privtune.config import load_config, with_overrides
        from privtune.ingest import run_ingest
        from privtune.rundir import RunDir
        from privtune.secure.store import open_store

        cfg = load_config(config)
        cfg = with_overrides(
            cfg,
            "ingest",
            inputs=[str(p) for p in inputs] if inputs else None,
            format=fmt,
            record_schema=schema,
            rename=_parse_rename(rename or []),
            keep=keep or None,
            user_id_field=user_id_field,
            max_record_bytes=max_record_bytes,
            dedupe=dedupe,
            strict=strict,
            splits=split or None,
        )
        run = RunDir(out)
        store = open_store(run, getattr(cfg, "security", None))
        with progress(quiet=as_json) as bar:

            def hook(desc: str, total: int, unit: str):
                return progress_advancer(bar, f"ingest {desc}", total, unit)

            summary = run_ingest(cfg.ingest.inputs, cfg.ingest, store, progress=hook)
        if as_json:
            emit_json({"run": str(out), **summary})
            return
        _print_summary(out, summary)


def _print_summary(out: Path, s: dict) -> None:
    from rich.table import Table

    t = Table(title=f"ingest → {out}", show_header=True)
    t.add_column("input")
    for col in ("read", "kept", "quarantined", "duplicates"):
        t.add_column(col, justify="right")
    for i in s["inputs"]:
        t.add_row(
            Path(i["file"]).name,
            str(i["read"]),
            str(i["kept"]),
            str(i["quarantined"]),
            str(i["duplicates_removed"]),
        )
    t.add_row(
        "[bold]total", str(s["read"]), str(s["kept"]), str(s["quarantined"]), str(s["duplicates_removed"])
    )
    console.print(t)
    if s["quarantine_reasons"]:
        console.print(
            "quarantined by reason: " + ", ".join(f"{k} {v}" for k, v in s["quarantine_reasons"].items())
        )
    if s["dropped_fields"]:
        console.print(
            "dropped by minimization (field: values): "
            + ", ".join(f"{k}: {v}" for k, v in s["dropped_fields"].items())
        )
    console.print(
        f"records: {out}/ingest/records.jsonl  quarantine: {out}/ingest/quarantine.jsonl  "
        f"({s['records_per_s'] or 0:.0f} records/s)"
    )
