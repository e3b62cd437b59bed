"""`privtune keys|encrypt|decrypt|verify|log|purge`: key custody, encryption at rest, provenance."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from privtune.cli.output import console, emit_json, err_console

_CONFIG = typer.Option(None, "--config", "-c", help="Pipeline config (its `security:` section is used).")
_JSON = typer.Option(False, "--json", help="Machine-readable output.")


def _security(config: Path | None) -> Any:
    from privtune.config import load_config

    return load_config(config).security


def _log(
    security: Any, action: str, outcome: str = "ok", artifacts: dict | None = None, **details: Any
) -> None:
    from privtune.secure.auditlog import append_event

    append_event(action, None, artifacts or {}, outcome, details, security=security)


def _file_hash(path: Path) -> str:
    from privtune.fsutil import sha256_file

    return sha256_file(path)


def register(app: typer.Typer) -> None:
    keys_app = typer.Typer(
        help="Create, inspect, rotate or destroy the keys that protect artifacts.", no_args_is_help=True
    )
    app.add_typer(keys_app, name="keys")
    log_app = typer.Typer(help="The tamper-evident audit log.", no_args_is_help=True)
    app.add_typer(log_app, name="log")

    @keys_app.command("init")
    def keys_init(config: Path | None = _CONFIG, as_json: bool = _JSON) -> None:
        """Create the configured key material if missing (the key file, or HSM/KMS key state).

        Example: privtune keys init
        """
        from privtune.secure.keys import load_key_provider

        sec = _security(config)
        kp = load_key_provider(sec, create=True)
        _log(sec, "keys_init", key=kp.key_id)
        info = kp.describe()
        if as_json:
            emit_json(info)
        else:
            console.print(f"key ready: [bold]{info['key_id']}[/] ({info['provider']})", highlight=False)

    @keys_app.command("show")
    def keys_show(config: Path | None = _CONFIG, as_json: bool = _JSON) -> None:
        """Show the provider, current key id, retained key versions and the signing public key.

        Example: privtune keys show --json
        """
        from privtune.secure.keys import load_key_provider

        info = load_key_provider(_security(config), create=False).describe()
        if as_json:
            emit_json(info)
            return
        console.print(f"provider: {info['provider']}\ncurrent key: {info['key_id']}", highlight=False)
        for k, v in info.items():
            if k not in {"provider", "key_id", "versions", "signing_public_key"}:
                console.print(f"{k}: {v}", highlight=False)
        for v in info.get("versions", []):
            console.print(f"  version {v['key_id']}{' (current)' if v['current'] else ''}", highlight=False)
        console.print(info["signing_public_key"], highlight=False)

    @keys_app.command("rotate")
    def keys_rotate(
        rewrap: list[Path] = typer.Option(
            [], "--rewrap", help="Run directory or file to re-wrap (repeatable)."
        ),
        config: Path | None = _CONFIG,
        as_json: bool = _JSON,
    ) -> None:
        """New key-encryption key version; re-wrap data keys of the given runs/files (content untouched).

        Old versions are kept, so artifacts not re-wrapped stay readable; destroy an old version only
        after re-wrapping everything that uses it.
        Example: privtune keys rotate --rewrap runs/demo
        """
        from privtune.secure.files import rewrap_tree
        from privtune.secure.keys import load_key_provider

        sec = _security(config)
        kp = load_key_provider(sec, create=False)
        old = kp.key_id
        new = kp.rotate()
        done, same = rewrap_tree(list(rewrap), kp)
        _log(sec, "keys_rotate", old_key=old, new_key=new, rewrapped=done)
        if as_json:
            emit_json({"old_key_id": old, "key_id": new, "rewrapped": done, "unchanged": same})
        else:
            console.print(f"rotated {old} -> [bold]{new}[/]; re-wrapped {done} file(s)", highlight=False)

    @keys_app.command("destroy")
    def keys_destroy(
        version: str | None = typer.Option(None, "--version", help="Destroy only this old key version."),
        yes: bool = typer.Option(
            False, "--yes", help="Confirm: data under the destroyed key is lost for good."
        ),
        config: Path | None = _CONFIG,
    ) -> None:
        """Crypto-shred: destroy key material so every artifact encrypted under it is unreadable forever.

        Example: privtune keys destroy --version keyfile:kf-0123456789abcdef --yes
        """
        from privtune.errors import InputError
        from privtune.secure.keys import load_key_provider

        if not yes:
            raise InputError(
                "refusing to destroy keys without --yes (artifacts under them become unreadable)"
            )
        sec = _security(config)
        kp = load_key_provider(sec, create=False)
        _log(sec, "keys_destroy", outcome="started", target=version or "all")
        gone = kp.destroy(version)
        if version is not None:
            _log(sec, "keys_destroy", destroyed=gone)
        console.print(f"destroyed: {', '.join(gone)}", highlight=False)

    @app.command("encrypt")
    def encrypt(
        src: Path = typer.Argument(..., help="Plaintext file."),
        dst: Path = typer.Argument(..., help="Encrypted output (written atomically, mode 0600)."),
        name: str | None = typer.Option(
            None, "--name", help="Name the content is bound to (default: input file name)."
        ),
        force: bool = typer.Option(False, "--force", help="Replace an existing output."),
        config: Path | None = _CONFIG,
    ) -> None:
        """Encrypt any file (e.g. a raw dataset) with the configured key, in authenticated chunks.

        Example: privtune encrypt tickets.jsonl tickets.jsonl.enc
        """
        from privtune.secure.envelope import EnvelopeCipher
        from privtune.secure.files import encrypt_file
        from privtune.secure.keys import load_key_provider

        sec = _security(config)
        cipher = EnvelopeCipher(load_key_provider(sec), chunk_size=sec.chunk_size)
        bound = encrypt_file(src, dst, cipher, name, force)
        _log(sec, "encrypt", artifacts={"output": _file_hash(dst)}, key=cipher.key_id)
        err_console.print(
            f"encrypted {src} -> {dst} (bound to {bound!r}, key {cipher.key_id})", highlight=False
        )

    @app.command("decrypt")
    def decrypt(
        src: Path = typer.Argument(
            ..., help="File written by `privtune encrypt` (or an encrypted artifact)."
        ),
        dst: Path = typer.Argument(
            ..., help="Plaintext output (mode 0600); nothing is written if any check fails."
        ),
        name: str | None = typer.Option(None, "--name", help="Require the file to be bound to this name."),
        force: bool = typer.Option(False, "--force", help="Replace an existing output."),
        config: Path | None = _CONFIG,
    ) -> None:
        """Decrypt and authenticate a file; exit 4 on tampering/truncation, 5 when the key is missing.

        Example: privtune decrypt tickets.jsonl.enc tickets.jsonl
        """
        from privtune.errors import PrivtuneError
        from privtune.secure.envelope import EnvelopeCipher
        from privtune.secure.files import decrypt_file
        from privtune.secure.keys import load_key_provider

        sec = _security(config)
        cipher = EnvelopeCipher(load_key_provider(sec, create=False), chunk_size=sec.chunk_size)
        try:
            decrypt_file(src, dst, cipher, name, force)
        except PrivtuneError as exc:
            _log(
                sec,
                "decrypt",
                outcome="failed",
                artifacts={"input": _file_hash(src)} if src.is_file() else {},
                error=type(exc).__name__,
            )
            raise
        _log(sec, "decrypt", artifacts={"input": _file_hash(src)})
        err_console.print(f"decrypted {src} -> {dst}", highlight=False)

    @app.command("verify")
    def verify(
        run: Path = typer.Argument(..., help="Run directory with release/manifest.json."),
        public_key: Path | None = typer.Option(
            None, "--public-key", help="Trusted signer PEM (default: this provider's)."
        ),
        config: Path | None = _CONFIG,
        as_json: bool = _JSON,
    ) -> None:
        """Check the manifest signature and every artifact hash; name every mismatch (exit 4 on any).

        Example: privtune verify runs/demo
        """
        from privtune.errors import IntegrityError
        from privtune.secure.keys import load_key_provider
        from privtune.secure.manifest import verify_run

        sec = _security(config)
        pem = public_key.read_text() if public_key else load_key_provider(sec, create=False).public_key_pem()
        problems, manifest = verify_run(run, pem)
        _log(sec, "verify", outcome="ok" if not problems else "failed", problems=len(problems))
        if as_json:
            emit_json(
                {
                    "verified": not problems,
                    "problems": problems,
                    "artifacts": len(manifest.get("artifacts", {})),
                }
            )
        else:
            for p in problems:
                err_console.print(f"[red]mismatch:[/] {p}", highlight=False)
        if problems:
            raise IntegrityError(f"{run}: {len(problems)} problem(s) found; the release does not verify")
        if not as_json:
            console.print(
                f"[green]verified[/] {run}: signature and {len(manifest['artifacts'])} artifact hash(es)"
            )

    @log_app.command("show")
    def log_show(
        last: int = typer.Option(20, "--last", help="Number of most recent entries."),
        config: Path | None = _CONFIG,
        as_json: bool = _JSON,
    ) -> None:
        """Print the most recent audit log entries.

        Example: privtune log show --last 50
        """
        from privtune.secure.auditlog import AuditLog

        rows = AuditLog(security=_security(config)).entries(last)
        if as_json:
            emit_json(rows)
            return
        for r in rows:
            console.print(
                f"{r['seq']:>6} {r['ts']} {r['actor']} {r['action']} {r['outcome']} {r['details']}",
                highlight=False,
            )

    @log_app.command("verify")
    def log_verify(config: Path | None = _CONFIG, as_json: bool = _JSON) -> None:
        """Recompute the hash chain and check signed checkpoints; names the first bad entry (exit 4).

        Example: privtune log verify
        """
        from privtune.secure.auditlog import AuditLog

        res = AuditLog(security=_security(config)).verify()
        if as_json:
            emit_json({"verified": True, **res})
        else:
            console.print(
                f"[green]audit log verified[/]: {res['entries']} entries, {res['checkpoints']} signed checkpoint(s), "
                f"{res['unsigned_tail']} entries after the last checkpoint"
            )

    @log_app.command("export")
    def log_export(
        out: Path = typer.Argument(..., help="JSON file to write (entries, signed checkpoints)."),
        config: Path | None = _CONFIG,
    ) -> None:
        """Seal the head with a signature and export the whole log for an auditor.

        Example: privtune log export audit-2025.json
        """
        import json

        from privtune.fsutil import write_atomic
        from privtune.secure.auditlog import AuditLog

        log = AuditLog(security=_security(config))
        log.seal()
        log.verify()
        doc = {
            "format": "privtune-auditlog-export/1",
            "entries": log.entries(),
            "checkpoints": log.checkpoints(),
        }
        write_atomic(out, (json.dumps(doc, indent=2) + "\n").encode())
        console.print(f"exported {len(doc['entries'])} entries to {out}", highlight=False)

    @app.command("purge")
    def purge(
        run: Path = typer.Argument(..., help="Run directory."),
        dry_run: bool = typer.Option(False, "--dry-run", help="List what would be removed."),
        config: Path | None = _CONFIG,
        as_json: bool = _JSON,
    ) -> None:
        """Delete temporary checkpoints and intermediate files per `security.retention`; idempotent, logged.

        Example: privtune purge runs/demo --dry-run
        """
        from privtune.rundir import RunDir
        from privtune.secure.purge import purge_run

        sec = _security(config)
        rd = RunDir(run, create=False)
        removed = purge_run(rd, sec.retention, dry_run=dry_run)
        if not dry_run:
            hashes = {n: h for n, h in removed.items() if h}
            _log(sec, "purge", artifacts=hashes, removed=len(removed), run_id=_run_token(rd.path))
        if as_json:
            emit_json({"dry_run": dry_run, "removed": sorted(removed)})
        else:
            for n in sorted(removed):
                console.print(f"{'would remove' if dry_run else 'removed'} {n}", highlight=False)
            console.print(f"{len(removed)} file(s) {'to remove' if dry_run else 'removed'}", highlight=False)


def _run_token(path: Path) -> str:
    """Run identifier for the audit log: the folder name when it is a plain token, else its hash."""
    import hashlib
    import re

    name = path.resolve().name
    return (
        name
        if re.fullmatch(r"[A-Za-z0-9._-]{1,100}", name)
        else hashlib.sha256(str(path.resolve()).encode()).hexdigest()[:16]
    )
