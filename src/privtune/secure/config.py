"""The `security:` config section: key custody, encryption at rest, audit log, retention.

Pure pydantic (no crypto imports) so that loading a config stays fast.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from privtune.strict import StrictModel


class KeyfileConfig(StrictModel):
    path: str | None = Field(
        None,
        description="Key file (0600). Default: <privtune home>/keys/keyfile.json, where the home is "
        "$PRIVTUNE_HOME or ~/.config/privtune; created on first use.",
    )


class Pkcs11Config(StrictModel):
    module: str | None = Field(
        None, description="Path of the PKCS#11 library (.so); default: the PRIVTUNE_PKCS11_MODULE variable."
    )
    token_label: str = Field("privtune", description="Label of the token holding the key-encryption key.")
    key_label: str = Field(
        "privtune-kek", description="Label prefix of the AES key-encryption keys on the token."
    )
    pin_env: str = Field(
        "PRIVTUNE_PKCS11_PIN",
        description="Environment variable holding the user PIN (never put a PIN in config).",
    )


class AwsKmsConfig(StrictModel):
    key_id: str | None = Field(
        None, description="KMS key id, ARN or alias (alias/...); required for aws-kms."
    )
    region: str | None = Field(None, description="AWS region; default: the AWS SDK's own resolution.")
    endpoint_url: str | None = Field(None, description="Custom KMS endpoint (VPC endpoint or a test server).")


class RetentionConfig(StrictModel):
    keep_checkpoints: int = Field(
        1,
        ge=0,
        description="Newest intermediate checkpoints kept by `privtune purge` (the final model is kept).",
    )
    purge_patterns: list[str] = Field(
        default_factory=lambda: [
            "**/*.tmp",
            "**/tmp/**",
            "scan/plain/**",
        ],
        description="Run-relative glob patterns of temporary artifacts `privtune purge` deletes.",
    )
    keep_patterns: list[str] = Field(
        default_factory=lambda: ["release/**", "run.json", "train/model/**"],
        description="Run-relative globs never purged, even when a purge pattern matches.",
    )


class SecurityConfig(StrictModel):
    encrypt: bool = Field(
        True,
        description="Encrypt sensitive artifacts at rest. false (--no-encrypt) is for throwaway experiments "
        "and is recorded in the manifest and report.",
    )
    provider: Literal["keyfile", "pkcs11", "aws-kms"] = Field(
        "keyfile", description="Who holds the key-encryption key: a local key file, a PKCS#11 HSM or AWS KMS."
    )
    keyfile: KeyfileConfig = Field(default_factory=KeyfileConfig, description="Local key file provider.")
    pkcs11: Pkcs11Config = Field(default_factory=Pkcs11Config, description="PKCS#11 HSM provider.")
    aws_kms: AwsKmsConfig = Field(default_factory=AwsKmsConfig, description="AWS KMS provider.")
    chunk_size: int = Field(
        1 << 20,
        ge=4096,
        le=64 << 20,
        description="Plaintext bytes per authenticated AES-GCM chunk (memory use is about two chunks).",
    )
    audit_log: str | None = Field(
        None, description="Audit log database; default: <privtune home>/audit.db (one per user)."
    )
    retention: RetentionConfig = Field(
        default_factory=RetentionConfig, description="What `privtune purge` removes."
    )
