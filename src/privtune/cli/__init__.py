"""The `privtune` command: thin wrappers that parse arguments and call one function each.

Each stage module exposes `register(app)`; heavy libraries (torch, spaCy) are imported inside the
commands that need them so that `privtune --help` and `privtune scan` start fast.
"""

from __future__ import annotations

import importlib
import os
import sys

import click
import typer
from rich.markup import escape

from privtune.errors import EXIT_CODES, PrivtuneError

COMMAND_MODULES = ("config_cmd", "ingest_cmd", "demo_cmd", "train_cmd", "secure_cmd", "pii_cmd", "sample_cmd", "serve_cmd", "audit_cmd", "pipeline_cmd")

_EPILOG = "Exit codes: " + ", ".join(f"{k} {v}" for k, v in EXIT_CODES.items()) + "."

app = typer.Typer(
    name="privtune",
    help="Fine-tune open LLMs on sensitive data without leaking it.\n\n"
    "Quick start: [bold]privtune demo[/] runs the pipeline on bundled synthetic support tickets.",
    epilog=_EPILOG,
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
    add_completion=False,
)


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", help="Print the version and exit.", is_eager=True),
) -> None:
    if version:
        from privtune import __version__

        typer.echo(__version__)
        raise typer.Exit(0)


for _name in COMMAND_MODULES:
    importlib.import_module(f"privtune.cli.{_name}").register(app)


try:  # typer >= 0.20 ships its own copy of click's exception classes
    from typer._click import exceptions as _typer_click

    _USAGE_ERRORS: tuple[type[BaseException], ...] = (click.ClickException, _typer_click.ClickException)
    _ABORTS: tuple[type[BaseException], ...] = (click.exceptions.Abort, typer.Abort, KeyboardInterrupt)
    _EXITS: tuple[type[BaseException], ...] = (click.exceptions.Exit, typer.Exit)
except ImportError:  # pragma: no cover - older typer uses click directly
    _USAGE_ERRORS = (click.ClickException,)
    _ABORTS = (click.exceptions.Abort, KeyboardInterrupt)
    _EXITS = (click.exceptions.Exit,)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app and map errors to documented exit codes, never a traceback."""
    from privtune.cli.output import err_console

    try:
        rv = app(args=argv, prog_name="privtune", standalone_mode=False)
    except _EXITS as exc:
        sys.exit(exc.exit_code)
    except _USAGE_ERRORS as exc:
        exc.show()
        sys.exit(2)
    except _ABORTS:
        err_console.print("interrupted: outputs are written atomically; run the same command again to resume")
        sys.exit(130)
    except PrivtuneError as exc:
        err_console.print(f"[bold red]error:[/] {escape(str(exc))}", highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        # Unexpected errors: the message may quote data, so only the type is shown unless debugging.
        if os.environ.get("PRIVTUNE_DEBUG"):
            raise
        err_console.print(
            f"[bold red]internal error:[/] {type(exc).__name__} (set PRIVTUNE_DEBUG=1 for the traceback)",
            highlight=False,
        )
        sys.exit(1)
    if rv == 130:  # typer returns Ctrl-C as exit code 130 when not in standalone mode
        err_console.print("interrupted: outputs are written atomically; run the same command again to resume")
    sys.exit(rv if isinstance(rv, int) else 0)
