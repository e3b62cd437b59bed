"""CREDIT_CARD (Luhn), IBAN_CODE (ISO 13616 mod-97 + country length), US_BANK_NUMBER (context only)."""

from __future__ import annotations

from privtune.pii.config import PiiConfig
from privtune.pii.recognizers.base import DIGIT, PatternRecognizer

# Patterns that start with a digit put their left-boundary look-behind after that digit
# (`\d(?<![\w-]\d)` is `(?<![\w-])\d`): a pattern that starts with a character class lets the
# regex engine skip to candidate characters instead of trying every position.
CARD = r"[2-6](?<![\w-][2-6])\d{3}(?:[ -]?\d{2,4}){2,4}(?:[ -]?\d{1,4})?(?![\w]|-\d)"
IBAN = r"(?<![A-Za-z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])"
BANK = r"(?=\d)(?<![\w-])\d{8,17}(?![\w-])"

IBAN_LENGTHS = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22, "BH": 22, "BR": 29,
    "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "DO": 28, "EE": 20, "EG": 29, "ES": 24,
    "FI": 18, "FO": 18, "FR": 27, "GB": 22, "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21,
    "HU": 28, "IE": 22, "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LC": 32, "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19, "MR": 27,
    "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29, "PT": 25, "QA": 29, "RO": 24,
    "RS": 22, "SA": 24, "SC": 31, "SE": 24, "SI": 19, "SK": 24, "SM": 27, "ST": 25, "SV": 28, "TL": 23,
    "TN": 24, "TR": 26, "UA": 29, "VA": 22, "VG": 24, "XK": 20,
}  # fmt: skip


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if i % 2:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def _card(value: str) -> bool:
    digits = value.replace(" ", "").replace("-", "")
    return 13 <= len(digits) <= 19 and len(set(digits)) > 1 and luhn_ok(digits)


def iban_ok(value: str) -> bool:
    s = value.replace(" ", "").upper()
    if IBAN_LENGTHS.get(s[:2]) != len(s):
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def _iban(value: str) -> bool:
    return iban_ok(value)


def recognizers(cfg: PiiConfig) -> list[PatternRecognizer]:
    return [
        PatternRecognizer(
            "credit_card", "CREDIT_CARD", [(CARD, 0.3)], ("card", "credit", "visa", "mastercard", "amex"), _card, DIGIT
        ),
        PatternRecognizer("iban", "IBAN_CODE", [(IBAN, 0.3)], ("iban", "bank", "account"), _iban, DIGIT),
        PatternRecognizer(
            "us_bank_number",
            "US_BANK_NUMBER",
            [(BANK, 0.1)],
            ("account", "acct", "bank", "checking", "savings", "routing", "account number", "acct no"),
            None,
            DIGIT,
            context_boost=0.5, requires_context=True,
        ),
    ]
