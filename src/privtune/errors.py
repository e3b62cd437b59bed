"""Error types mapped to documented exit codes by the CLI.

Messages must never contain raw record content or secrets: name the file, line/record and field.
"""

from __future__ import annotations


class PrivtuneError(Exception):
    """Base class; `exit_code` is what the CLI exits with."""

    exit_code = 1


class InputError(PrivtuneError):
    """Bad input data, a missing/unreadable file, an unknown format (exit 2)."""

    exit_code = 2


class ConfigError(InputError):
    """Invalid configuration (exit 2)."""


class GateFailed(PrivtuneError):
    """An audit gate was crossed (exit 3)."""

    exit_code = 3


class IntegrityError(PrivtuneError):
    """Tampered, truncated or undecryptable artifact; bad signature (exit 4)."""

    exit_code = 4


class KeyUnavailable(PrivtuneError):
    """A key is missing, wrong or unusable (exit 5)."""

    exit_code = 5


EXIT_CODES = {
    0: "success",
    1: "internal error",
    2: "bad input or configuration",
    3: "an audit gate failed",
    4: "integrity failure (tampered/truncated artifact, bad signature)",
    5: "key missing or unusable",
    130: "interrupted (Ctrl-C); the run can be resumed",
}
