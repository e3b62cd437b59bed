"""Signed release manifest: SHA-256 of every artifact, config, versions, privacy and audit facts.

The manifest is canonical JSON (sorted keys, no whitespace variance) signed with the key
provider's Ed25519 key. Inputs appear by fingerprint only (the caller passes hashes, never
content). `verify_run` rechecks the signature against a trusted public key and every hash, and
returns every mismatch rather than stopping at the first.
"""

from __future__ import annotations

import base64
import json
import time
from importlib import metadata
from pathlib import Path
from typing import Any

from privtune.errors import InputError, IntegrityError
from privtune.fsutil import sha256_file
from privtune.rundir import RunDir
from privtune.secure.keys.base import KeyProvider, verify_signature
from privtune.secure.store import ArtifactStore

MANIFEST = "release/manifest.json"
FORMAT = "privtune-manifest/1"
RESERVED = {"format", "run", "created", "artifacts", "packages", "encryption", "signature"}
PACKAGES = (
    "privtune",
    "torch",
    "transformers",
    "peft",
    "opacus",
    "dp-accounting",
    "safetensors",
    "tokenizers",
    "cryptography",
    "presidio-analyzer",
    "spacy",
)


def package_versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def build_manifest(
    run: RunDir, store: ArtifactStore, provider: KeyProvider, extra: dict[str, Any]
) -> dict[str, Any]:
    """Write and return `release/manifest.json`.

    `extra` carries the caller's facts: `config` (dict), `privacy` (ε, δ, σ, q, steps, accountant,
    unit), `audit` (results), `parent` (manifest hash or run of the lineage parent), `inputs`
    (name -> fingerprint). Keys in RESERVED are computed here and cannot be overridden.
    """
    clash = RESERVED & set(extra)
    if clash:
        raise InputError(f"manifest: reserved keys in extra: {sorted(clash)}")
    data = run.read()
    artifacts = {}
    for name, info in sorted(data["artifacts"].items()):
        if name == MANIFEST:
            continue
        if not store.exists(name):
            raise IntegrityError(f"{run.path}: artifact {name} is in run.json but missing on disk")
        artifacts[name] = {
            k: info.get(k) for k in ("sha256", "content_sha256", "bytes", "sensitive", "encrypted", "key_id")
        }
    sec = data.get("security", {})
    body: dict[str, Any] = {
        "format": FORMAT,
        "run": data.get("name", run.path.name),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "artifacts": artifacts,
        "packages": package_versions(),
        "encryption": {
            "enabled": bool(sec.get("encrypt", any(a["encrypted"] for a in artifacts.values()))),
            "provider": sec.get("provider"),
            "unencrypted_sensitive": sorted(
                n for n, a in artifacts.items() if a["sensitive"] and not a["encrypted"]
            ),
        },
        **{k: extra[k] for k in sorted(extra)},
    }
    body["signature"] = {
        "alg": "Ed25519",
        "key_id": provider.key_id,
        "public_key": provider.public_key_pem(),
        "value": base64.b64encode(provider.sign(canonical(body))).decode(),
    }
    store.write_json(MANIFEST, body, sensitive=False)
    return body


def verify_run(run_path: Path, public_key_pem: str | None) -> tuple[list[str], dict[str, Any]]:
    """Every problem found (empty: verified) and the manifest. `public_key_pem` None: embedded key."""
    run = RunDir(run_path, create=False)
    path = run.path / MANIFEST
    if not path.is_file():
        raise InputError(f"{run.path}: no {MANIFEST} (run `privtune release` first)")
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
        sig = manifest.pop("signature")
        value = base64.b64decode(sig["value"])
    except (ValueError, KeyError, TypeError):
        return [f"{MANIFEST}: unreadable or unsigned manifest"], {}
    problems: list[str] = []
    trusted = public_key_pem or sig.get("public_key", "")
    if public_key_pem and sig.get("public_key", "").strip() != public_key_pem.strip():
        problems.append(f"{MANIFEST}: signed by a different key ({sig.get('key_id')}) than the trusted one")
    try:
        verify_signature(trusted, canonical(manifest), value)
    except IntegrityError:
        problems.append(f"{MANIFEST}: signature does not verify (manifest edited or wrong key)")
    index = run.read()["artifacts"]
    for name, info in sorted(manifest.get("artifacts", {}).items()):
        p = run.path / name
        if not p.is_file():
            problems.append(f"{name}: missing")
            continue
        actual = sha256_file(p)
        if actual != info.get("sha256"):
            problems.append(
                f"{name}: SHA-256 mismatch (manifest {info.get('sha256', '')[:12]}…, file {actual[:12]}…)"
            )
        if index.get(name, {}).get("sha256") not in (None, info.get("sha256")):
            problems.append(f"{name}: run.json records a different hash than the manifest")
    for name in sorted(set(index) - set(manifest.get("artifacts", {})) - {MANIFEST}):
        problems.append(f"{name}: artifact not covered by the manifest")
    return problems, {**manifest, "signature": sig}
