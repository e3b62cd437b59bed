"""EMAIL_ADDRESS: RFC-5322-ish local part @ a dotted domain with an alphabetic TLD."""

from __future__ import annotations

from privtune.pii.config import PiiConfig
from privtune.pii.recognizers.base import AT, PatternRecognizer

EMAIL = r"(?<![\w.%+-])[A-Za-z0-9](?:[A-Za-z0-9._%+-]{0,63})@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)+[A-Za-z]{2,24}(?![\w-])"


def _valid(value: str) -> bool | None:
    local = value.split("@", 1)[0]
    return None if ".." in local or local.endswith(".") else True


def recognizers(cfg: PiiConfig) -> list[PatternRecognizer]:
    return [PatternRecognizer("email", "EMAIL_ADDRESS", [(EMAIL, 0.9)], ("email", "e-mail", "mail"), _valid, AT)]
