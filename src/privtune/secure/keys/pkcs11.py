"""`pkcs11` provider: the key-encryption key is a non-extractable AES-256 key inside an HSM.

Data keys are wrapped with the token's AES-GCM (CKM_AES_GCM); key versions are token objects
labelled `<key_label>-v<N>`, the highest N being current. Works with any PKCS#11 module (tested with
SoftHSM2). The PIN comes from an environment variable, never from the config file.
"""

from __future__ import annotations

import hashlib
import os
import re
import secrets
from functools import cache
from pathlib import Path
from typing import Any

from privtune.errors import ConfigError, KeyUnavailable
from privtune.secure.keys.base import KeyProvider, pack_wrapped, privtune_home, unpack_wrapped
from privtune.secure.keys.sidecar import Sidecar

_DEFAULT_MODULES = ("/usr/lib/softhsm/libsofthsm2.so", "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so")


@cache
def _lib(module: str) -> Any:
    import pkcs11

    return pkcs11.lib(module)


class Pkcs11Provider(KeyProvider):
    name = "pkcs11"

    def __init__(self, cfg: Any, create: bool = True) -> None:
        try:
            import pkcs11
        except ImportError:
            raise KeyUnavailable("pkcs11 provider needs python-pkcs11: pip install 'privtune[hsm]'") from None
        self._p11 = pkcs11
        module = cfg.module or os.environ.get("PRIVTUNE_PKCS11_MODULE")
        if not module:
            module = next((m for m in _DEFAULT_MODULES if Path(m).exists()), None)
        if not module or not Path(module).exists():
            raise ConfigError(
                "security.pkcs11.module: PKCS#11 library not found (set it or PRIVTUNE_PKCS11_MODULE)"
            )
        pin = os.environ.get(cfg.pin_env)
        if not pin:
            raise KeyUnavailable(f"pkcs11: set the token PIN in the {cfg.pin_env} environment variable")
        self.cfg = cfg
        try:
            token = _lib(module).get_token(token_label=cfg.token_label)
            try:
                self._session = token.open(user_pin=pin, rw=True)
            except pkcs11.exceptions.UserAlreadyLoggedIn:  # login is per process: share it
                self._session = token.open(rw=True)
        except pkcs11.PKCS11Error as exc:
            raise KeyUnavailable(
                f"pkcs11: cannot open token {cfg.token_label!r} ({type(exc).__name__})"
            ) from None
        tag = hashlib.sha256(f"{cfg.token_label}/{cfg.key_label}".encode()).hexdigest()[:12]
        self.sidecar = Sidecar(privtune_home() / "keys" / f"pkcs11-{tag}.json")
        if not self._versions():
            if not create:
                raise KeyUnavailable(
                    f"pkcs11: no key {cfg.key_label!r} on token {cfg.token_label!r} (run: privtune keys init)"
                )
            self._generate(1)
        if not self.sidecar.exists():
            if not create:
                raise KeyUnavailable(f"{self.sidecar.path}: key state file missing (run: privtune keys init)")
            self.sidecar.create(
                self.wrap, {"provider": "pkcs11", "token": cfg.token_label, "key_label": cfg.key_label}
            )
        self.sidecar.load(self.unwrap)

    def _versions(self) -> dict[int, Any]:
        p = self._p11
        pat = re.compile(re.escape(self.cfg.key_label) + r"-v(\d+)$")
        out = {}
        for obj in self._session.get_objects({p.Attribute.CLASS: p.ObjectClass.SECRET_KEY}):
            m = pat.match(obj[p.Attribute.LABEL])
            if m:
                out[int(m.group(1))] = obj
        return out

    def _generate(self, n: int) -> None:
        p = self._p11
        self._session.generate_key(
            p.KeyType.AES,
            256,
            label=f"{self.cfg.key_label}-v{n}",
            store=True,
            template={p.Attribute.SENSITIVE: True, p.Attribute.EXTRACTABLE: False},
        )

    def _label(self, n: int) -> str:
        return f"{self.cfg.key_label}-v{n}"

    @property
    def key_id(self) -> str:
        return f"pkcs11:{self.cfg.token_label}/{self._label(max(self._versions()))}"

    def wrap(self, data_key: bytes) -> bytes:
        n = max(self._versions())
        key = self._versions()[n]
        nonce = secrets.token_bytes(12)
        params = self._p11.GCMParams(nonce, b"privtune-kek|" + self._label(n).encode(), 128)
        ct = key.encrypt(data_key, mechanism=self._p11.Mechanism.AES_GCM, mechanism_param=params)
        return pack_wrapped(self._label(n), nonce + bytes(ct))

    def unwrap(self, blob: bytes) -> bytes:
        label, payload = unpack_wrapped(blob)
        m = re.fullmatch(re.escape(self.cfg.key_label) + r"-v(\d+)", label)
        key = self._versions().get(int(m.group(1))) if m else None
        if key is None:
            raise KeyUnavailable(
                f"data key was wrapped by HSM key {label!r}, which is not on token {self.cfg.token_label!r} "
                "(wrong token, or that version was destroyed)"
            )
        params = self._p11.GCMParams(payload[:12], b"privtune-kek|" + label.encode(), 128)
        try:
            return bytes(
                key.decrypt(payload[12:], mechanism=self._p11.Mechanism.AES_GCM, mechanism_param=params)
            )
        except self._p11.PKCS11Error:
            raise KeyUnavailable(f"cannot unwrap data key with HSM key {label!r} (damaged header)") from None

    def _signing_key(self) -> Any:
        return self.sidecar.signing_key()

    def _master_secret(self) -> bytes:
        return self.sidecar.secret()

    def rotate(self) -> str:
        self._generate(max(self._versions()) + 1)
        self.sidecar.rewrap(self.wrap)
        return self.key_id

    def destroy(self, version: str | None = None) -> list[str]:
        versions = self._versions()
        prefix = f"pkcs11:{self.cfg.token_label}/"
        if version is None:
            gone = [prefix + self._label(n) for n in versions]
            for obj in versions.values():
                obj.destroy()
            self.sidecar.remove()
            return gone
        label = version.removeprefix(prefix)
        m = re.fullmatch(re.escape(self.cfg.key_label) + r"-v(\d+)", label)
        if not m or int(m.group(1)) not in versions:
            raise KeyUnavailable(f"pkcs11: no key version {version!r}")
        if int(m.group(1)) == max(versions):
            raise KeyUnavailable(
                f"key version {version!r} is current; rotate first, then destroy the old one"
            )
        versions[int(m.group(1))].destroy()
        return [prefix + label]

    def describe(self) -> dict[str, Any]:
        cur = max(self._versions())
        prefix = f"pkcs11:{self.cfg.token_label}/"
        return {
            "provider": self.name,
            "key_id": self.key_id,
            "token": self.cfg.token_label,
            "state_file": str(self.sidecar.path),
            "versions": [
                {"key_id": prefix + self._label(n), "current": n == cur} for n in sorted(self._versions())
            ],
            "signing_public_key": self.public_key_pem(),
        }
