"""`privtune config validate|example`."""

from __future__ import annotations

from pathlib import Path

import typer

from privtune.cli.output import console, emit_json


def register(app: typer.Typer) -> None:
    config_app = typer.Typer(help="Validate or print the pipeline config.", no_args_is_help=True)
    app.add_typer(config_app, name="config")

    @config_app.command("validate")
    def validate(
        file: Path = typer.Argument(..., help="YAML config file."),
        as_json: bool = typer.Option(False, "--json", help="Print the validated config as JSON."),
    ) -> None:
        """Check a config: unknown keys and bad values are reported with their YAML path and line.

        Example: privtune config validate privtune.yaml
        """
        from privtune.config import load_config

        cfg = load_config(file)
        if as_json:
            emit_json({"valid": True, "config": cfg.model_dump(mode="json", by_alias=True)})
        else:
            console.print(f"[green]ok[/] {file} is a valid privtune config")

    @config_app.command("example")
    def example() -> None:
        """Print a complete, commented config with every default.

        Example: privtune config example > privtune.yaml
        """
        from privtune.config import example_yaml

        typer.echo(example_yaml(), nl=False)
