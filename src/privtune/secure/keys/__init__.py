"""Key custody: `load_key_provider(security_cfg)` returns the configured KeyProvider.

Providers: `keyfile` (default, local 0600 file created on first use), `pkcs11` (any PKCS#11 HSM),
`aws-kms` (AWS KMS). Heavy client libraries are imported only when their provider is used.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from privtune.errors import ConfigError
from privtune.secure.keys.base import KeyProvider, privtune_home, verify_signature

__all__ = ["KeyProvider", "load_key_provider", "privtune_home", "verify_signature"]


def load_key_provider(security_cfg: Any = None, create: bool = True) -> KeyProvider:
    """The provider the `security:` section names (None: defaults, i.e. the per-user key file).

    `create=False` refuses to create key material that does not exist yet (for read-only commands).
    """
    from privtune.secure.config import SecurityConfig

    cfg = security_cfg if security_cfg is not None else SecurityConfig()
    if cfg.provider == "keyfile":
        from privtune.secure.keys.keyfile import KeyfileProvider

        return KeyfileProvider(Path(cfg.keyfile.path) if cfg.keyfile.path else None, create=create)
    if cfg.provider == "pkcs11":
        from privtune.secure.keys.pkcs11 import Pkcs11Provider

        return Pkcs11Provider(cfg.pkcs11, create=create)
    if cfg.provider == "aws-kms":
        from privtune.secure.keys.aws_kms import AwsKmsProvider

        return AwsKmsProvider(cfg.aws_kms, create=create)
    raise ConfigError(f"security.provider: unknown key provider {cfg.provider!r}")
