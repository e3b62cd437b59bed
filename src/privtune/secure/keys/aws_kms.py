"""`aws-kms` provider: data keys are wrapped by an AWS KMS key (Encrypt/Decrypt with an encryption context).

KMS keeps every backing-key version of a key internally, so rotation here calls on-demand KMS
rotation and bumps a local generation: re-wrapping moves data keys to the newest material and the
new key id marks which artifacts were re-wrapped. Individual old versions cannot be destroyed in
KMS; `destroy` without a version schedules deletion of the whole KMS key (AWS enforces a 7-30 day
waiting period) and removes the local state.
"""

from __future__ import annotations

import hashlib
from typing import Any

from privtune.errors import ConfigError, KeyUnavailable
from privtune.secure.keys.base import KeyProvider, pack_wrapped, privtune_home, unpack_wrapped
from privtune.secure.keys.sidecar import Sidecar


class AwsKmsProvider(KeyProvider):
    name = "aws-kms"

    def __init__(self, cfg: Any, create: bool = True) -> None:
        try:
            import boto3
            import botocore.exceptions
        except ImportError:
            raise KeyUnavailable("aws-kms provider needs boto3: pip install 'privtune[kms]'") from None
        if not cfg.key_id:
            raise ConfigError("security.aws_kms.key_id: required for the aws-kms provider")
        self.cfg = cfg
        self._errors = (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError)
        self._kms = boto3.client("kms", region_name=cfg.region, endpoint_url=cfg.endpoint_url)
        tag = hashlib.sha256(f"{cfg.region}/{cfg.key_id}".encode()).hexdigest()[:12]
        self.sidecar = Sidecar(privtune_home() / "keys" / f"aws-kms-{tag}.json")
        self._generation = 1
        if not self.sidecar.exists():
            if not create:
                raise KeyUnavailable(f"{self.sidecar.path}: key state file missing (run: privtune keys init)")
            self._describe_key()
            self.sidecar.create(self.wrap, {"provider": "aws-kms", "kms_key": cfg.key_id, "generation": 1})
        self._generation = int(self.sidecar.meta().get("generation", 1))
        self.sidecar.load(self.unwrap)

    def _describe_key(self) -> dict[str, Any]:
        try:
            return self._kms.describe_key(KeyId=self.cfg.key_id)["KeyMetadata"]
        except self._errors as exc:
            raise KeyUnavailable(f"aws-kms: key {self.cfg.key_id!r} unavailable ({_code(exc)})") from None

    @property
    def key_id(self) -> str:
        return f"aws-kms:{self.cfg.key_id}#g{self._generation}"

    def _context(self, gen: str) -> dict[str, str]:
        return {"privtune": "data-key", "generation": gen}

    def wrap(self, data_key: bytes) -> bytes:
        gen = f"g{self._generation}"
        try:
            r = self._kms.encrypt(
                KeyId=self.cfg.key_id, Plaintext=data_key, EncryptionContext=self._context(gen)
            )
        except self._errors as exc:
            raise KeyUnavailable(f"aws-kms: cannot wrap with {self.cfg.key_id!r} ({_code(exc)})") from None
        return pack_wrapped(gen, r["CiphertextBlob"])

    def unwrap(self, blob: bytes) -> bytes:
        gen, payload = unpack_wrapped(blob)
        try:
            r = self._kms.decrypt(
                CiphertextBlob=payload, KeyId=self.cfg.key_id, EncryptionContext=self._context(gen)
            )
        except self._errors as exc:
            raise KeyUnavailable(
                f"aws-kms: cannot unwrap data key with {self.cfg.key_id!r} ({_code(exc)}; wrong key or damaged header)"
            ) from None
        return r["Plaintext"]

    def _signing_key(self) -> Any:
        return self.sidecar.signing_key()

    def _master_secret(self) -> bytes:
        return self.sidecar.secret()

    def rotate(self) -> str:
        try:
            self._kms.rotate_key_on_demand(KeyId=self.cfg.key_id)
        except self._errors as exc:
            raise KeyUnavailable(f"aws-kms: on-demand rotation refused ({_code(exc)})") from None
        self._generation += 1
        meta = self.sidecar.meta()
        meta["generation"] = self._generation
        self.sidecar.rewrap(self.wrap, meta)
        return self.key_id

    def destroy(self, version: str | None = None) -> list[str]:
        if version is not None:
            raise KeyUnavailable(
                "aws-kms keeps old key material inside the KMS key; a single version cannot be destroyed. "
                "Use a separate KMS key per retention domain and destroy that key."
            )
        try:
            self._kms.schedule_key_deletion(KeyId=self.cfg.key_id, PendingWindowInDays=7)
        except self._errors as exc:
            raise KeyUnavailable(f"aws-kms: cannot schedule key deletion ({_code(exc)})") from None
        self.sidecar.remove()
        return [f"aws-kms:{self.cfg.key_id} (deletion scheduled in 7 days)"]

    def describe(self) -> dict[str, Any]:
        meta = self._describe_key()
        return {
            "provider": self.name,
            "key_id": self.key_id,
            "kms_key_arn": meta.get("Arn"),
            "kms_key_state": meta.get("KeyState"),
            "state_file": str(self.sidecar.path),
            "versions": [
                {"key_id": f"aws-kms:{self.cfg.key_id}#g{g}", "current": g == self._generation}
                for g in range(1, self._generation + 1)
            ],
            "signing_public_key": self.public_key_pem(),
        }


def _code(exc: Exception) -> str:
    resp = getattr(exc, "response", None) or {}
    return resp.get("Error", {}).get("Code") or type(exc).__name__
