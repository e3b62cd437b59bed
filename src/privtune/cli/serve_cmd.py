"""`privtune serve RUN`, `privtune serve keys create|list|revoke`, `privtune watermark detect`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import typer
from typer.core import TyperGroup

from privtune.cli.output import console, emit_json, warn

_CONFIG = typer.Option(None, "--config", "-c", help="Pipeline YAML (sections serve, pii, security).")
_JSON = typer.Option(False, "--json", help="Machine-readable output.")


class _ServeGroup(TyperGroup):
    """`privtune serve RUN ...` runs the server; `privtune serve keys ...` manages API keys."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and not args[0].startswith("-"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


def _audit(config: Path | None, action: str, **details: Any) -> None:
    from privtune.config import load_config
    from privtune.secure.auditlog import append_event

    append_event(action, None, {}, "ok", details, security=load_config(config).security)


def register(app: typer.Typer) -> None:
    serve_app = typer.Typer(
        cls=_ServeGroup,
        help="Serve a trained run behind API keys, rate limits and the output PII guard "
        "(`privtune serve RUN`), and manage its API keys (`privtune serve keys ...`).",
        no_args_is_help=True,
    )
    keys_app = typer.Typer(help="API keys of a run's server (stored hashed).", no_args_is_help=True)
    serve_app.add_typer(keys_app, name="keys")
    app.add_typer(serve_app, name="serve")
    wm_app = typer.Typer(help="Output watermark tools.", no_args_is_help=True)
    app.add_typer(wm_app, name="watermark")

    @serve_app.command("run")
    def serve_run(
        run: Path = typer.Argument(..., help="Run directory with a trained model."),
        config: Path | None = _CONFIG,
        host: str | None = typer.Option(None, "--host", help="Bind address (default 127.0.0.1)."),
        port: int | None = typer.Option(None, "--port", help="TCP port (default 8000)."),
        tls_cert: Path | None = typer.Option(None, "--tls-cert", help="TLS certificate chain (PEM)."),
        tls_key: Path | None = typer.Option(None, "--tls-key", help="TLS private key (PEM)."),
    ) -> None:
        """Start the OpenAI-compatible server for RUN (`privtune serve RUN` is the short form).

        Example: privtune serve runs/demo --port 8000 --tls-cert cert.pem --tls-key key.pem
        """
        import uvicorn

        from privtune.config import load_config, with_overrides
        from privtune.errors import ConfigError
        from privtune.serve.app import create_app
        from privtune.serve.service import load_state

        if (tls_cert is None) != (tls_key is None):
            raise ConfigError("--tls-cert and --tls-key go together")
        cfg = with_overrides(load_config(config), "serve", host=host, port=port)
        state = load_state(run, cfg, warn=warn)
        if not state.keys.list():
            warn(f"no API keys yet: create one with `privtune serve keys create {run} --name NAME`")
        if cfg.serve.host not in ("127.0.0.1", "::1", "localhost") and tls_cert is None:
            warn("serving on a non-loopback address without TLS: API keys and outputs travel in clear text")
        scheme = "https" if tls_cert else "http"
        console.print(
            f"serving [bold]{state.model_name}[/] on {scheme}://{cfg.serve.host}:{cfg.serve.port}/v1",
            highlight=False,
        )
        uvicorn.run(
            create_app(state),
            host=cfg.serve.host,
            port=cfg.serve.port,
            log_level="warning",
            ssl_certfile=str(tls_cert) if tls_cert else None,
            ssl_keyfile=str(tls_key) if tls_key else None,
            access_log=False,
        )

    @keys_app.command("create")
    def keys_create(
        run: Path = typer.Argument(..., help="Run directory."),
        name: str = typer.Option(..., "--name", help="Who the key is for (letters, digits, . _ @ -)."),
        role: str = typer.Option("user", "--role", help="user or admin (admin: review queue, flags, stats)."),
        config: Path | None = _CONFIG,
        as_json: bool = _JSON,
    ) -> None:
        """Create an API key; the secret is printed once and only its hash is stored.

        Example: privtune serve keys create runs/demo --name alice --role user
        """
        from privtune.serve.service import keystore

        key, token = keystore(run).create(name, role)
        _audit(config, "serve_key_create", key=key.id, role=role)
        if as_json:
            emit_json({**key.to_json(), "api_key": token})
            return
        console.print(
            f"created key [bold]{key.id}[/] ({role}) for {name}; it is shown only now:", highlight=False
        )
        console.print(token, highlight=False, soft_wrap=True)

    @keys_app.command("list")
    def keys_list(run: Path = typer.Argument(..., help="Run directory."), as_json: bool = _JSON) -> None:
        """List API keys (ids, names, roles, revocation; never secrets).

        Example: privtune serve keys list runs/demo
        """
        from rich.table import Table

        from privtune.serve.service import keystore

        keys = keystore(run).list()
        if as_json:
            emit_json([k.to_json() for k in keys])
            return
        t = Table("id", "name", "role", "status")
        for k in keys:
            t.add_row(k.id, k.name, k.role, "revoked" if k.revoked else "active")
        console.print(t)

    @keys_app.command("revoke")
    def keys_revoke(
        run: Path = typer.Argument(..., help="Run directory."),
        key_id: str = typer.Argument(..., help="Key id (from `keys list`)."),
        config: Path | None = _CONFIG,
    ) -> None:
        """Revoke an API key; a running server refuses it from the next request on.

        Example: privtune serve keys revoke runs/demo 3f2a9c0d1e4b5a67
        """
        from privtune.serve.service import keystore

        key = keystore(run).revoke(key_id)
        _audit(config, "serve_key_revoke", key=key.id)
        console.print(f"revoked key {key.id} ({key.name})", highlight=False)

    @wm_app.command("detect")
    def wm_detect(
        file: Path = typer.Argument(..., help="Text file to test."),
        run: Path = typer.Option(
            ..., "--run", help="Run whose server produced the text (for its tokenizer)."
        ),
        config: Path | None = _CONFIG,
        as_json: bool = _JSON,
    ) -> None:
        """Test a text for the server's green-list watermark: z-score, p-value and verdict.

        Example: privtune watermark detect answer.txt --run runs/demo
        """
        from privtune.serve.wmdetect import detect_file

        result = detect_file(file, run, config)
        if as_json:
            emit_json(result)
            return
        verdict = "[bold red]watermarked[/]" if result["watermarked"] else "[green]no watermark detected[/]"
        console.print(
            f"{verdict}: z = {result['z']:.2f} (threshold {result['z_threshold']}), p = {result['p_value']:.3g}, "
            f"{result['green']}/{result['tokens_scored']} green tokens (γ = {result['gamma']})",
            highlight=False,
        )
