"""`privtune sample tickets`: synthetic support tickets with gold PII spans."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import typer

from privtune.cli.output import console, emit_json, err_console


def register(app: typer.Typer) -> None:
    sample_app = typer.Typer(help="Generate synthetic data for demos and benchmarks.", no_args_is_help=True)
    app.add_typer(sample_app, name="sample")

    @sample_app.command("tickets")
    def tickets(
        n: int = typer.Option(1000, "--n", help="Number of tickets (>= 0)."),
        seed: int = typer.Option(0, "--seed", help="Random seed; same (n, seed, locales) gives identical bytes."),
        out: Path | None = typer.Option(None, "--out", help="Output file (.jsonl, .csv, optionally .gz). "
                                        "Default: JSONL on stdout, no gold file unless --gold."),
        fmt: str | None = typer.Option(None, "--format", help="jsonl or csv (default: from the --out suffix)."),
        locales: list[str] | None = typer.Option(None, "--locale", help="Customer locale, repeatable "
                                                 "(default: en_US en_GB de_DE fr_FR es_ES it_IT nl_NL)."),
        gold: Path | None = typer.Option(None, "--gold", help="Gold spans file (default: OUT with "
                                         "suffix .gold.jsonl, e.g. tickets.csv -> tickets.gold.jsonl)."),
        as_json: bool = typer.Option(False, "--json", help="Print a JSON summary."),
    ) -> None:
        """Write synthetic customer-support tickets (prompt + agent summary) and their gold PII spans.

        The gold file has one JSON line per record: {"id": int, "spans": [{"field": "prompt"|"completion",
        "start": int, "end": int, "entity_type": str}]}, Python string offsets into the field value.
        Order ids, tracking numbers, amounts and log timestamps are not PII and are not labelled.

        Example: privtune sample tickets --n 5000 --seed 1 --out tickets.jsonl
        """
        from privtune.errors import InputError
        from privtune.sample import generate_tickets
        from privtune.sample.io import FORMATS, gold_path_for, write_tickets
        from privtune.sample.locales import locale_spec

        if n < 0:
            raise InputError("--n must be >= 0")
        for code in locales or []:
            locale_spec(code)  # unknown locale -> InputError naming the supported ones
        if fmt is None:
            fmt = "csv" if out is not None and ".csv" in out.suffixes else "jsonl"
        if fmt not in FORMATS:
            raise InputError(f"--format must be one of {', '.join(FORMATS)}")
        if out is None and as_json:
            raise InputError("--json needs --out (the records themselves go to stdout otherwise)")
        if out is not None and gold is None:
            gold = gold_path_for(out)
        if gold is not None and out is not None and gold.resolve() == out.resolve():
            raise InputError("--gold must differ from --out")

        started = time.perf_counter()
        stats = write_tickets(generate_tickets(n, seed, locales or None), out, fmt, gold, stdout=sys.stdout)
        elapsed = time.perf_counter() - started
        summary = {
            "records": stats.records, "users": stats.users, "spans": stats.spans,
            "entity_counts": stats.entity_counts, "out": str(out) if out else "-",
            "gold": str(gold) if gold else None, "format": fmt, "seed": seed,
            "records_per_s": round(stats.records / elapsed, 1) if elapsed > 0 else None,
        }
        if as_json:
            emit_json(summary)
            return
        target = console if out is not None else err_console
        counts = ", ".join(f"{k} {v}" for k, v in stats.entity_counts.items()) or "none"
        target.print(f"[green]wrote[/] {stats.records} tickets from {stats.users} customers to {summary['out']}"
                     + (f", gold spans to {gold}" if gold else ""), highlight=False)
        target.print(f"gold spans by type: {counts}", highlight=False)
