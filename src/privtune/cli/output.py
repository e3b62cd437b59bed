"""Console helpers shared by the command modules: one stdout console, one stderr console."""

from __future__ import annotations

import json
import sys
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console()
err_console = Console(stderr=True)


def emit_json(obj: Any) -> None:
    """Machine-readable output: exactly one JSON document on stdout."""
    sys.stdout.write(json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()


def progress(*, rate_unit: str = "records", quiet: bool = False) -> Progress:
    """A progress bar on stderr; `quiet` (e.g. with --json) or a non-terminal hides it."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=True,
        disable=quiet or not err_console.is_terminal,
    )


def progress_advancer(bar: Progress, description: str, total: int, unit: str = "records"):
    """Add a task and return `advance(n)`, which also refreshes the throughput column."""
    task = bar.add_task(description, total=total or None, rate="")
    state = {"task": next(t for t in bar.tasks if t.id == task)}

    def advance(n: int) -> None:
        bar.advance(task, n)
        t = state["task"]
        if t.elapsed:
            rate = t.completed / t.elapsed
            bar.update(
                task, rate=f"{rate / (1 << 20):.1f} MB/s" if unit == "bytes" else f"{rate:.0f} {unit}/s"
            )

    return advance


def warn(msg: str) -> None:
    err_console.print(f"[bold yellow]warning:[/] {msg}", highlight=False)
