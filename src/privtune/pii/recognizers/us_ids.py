"""US_SSN (SSA validity rules), US_DRIVER_LICENSE and US_PASSPORT (both need a whole-word context)."""

from __future__ import annotations

import re

from privtune.pii.config import PiiConfig
from privtune.pii.recognizers.base import DIGIT, PatternRecognizer

# Patterns that start with a digit put their left-boundary look-behind after that digit
# (`\d(?<![\w-]\d)` is `(?<![\w-])\d`): a pattern that starts with a character class lets the
# regex engine skip to candidate characters instead of trying every position.
SSN_DASHED = r"\d(?<![\w-]\d)\d{2}([- ])\d{2}\1\d{4}(?![\w]|-\d)"
SSN_PLAIN = r"\d(?<![\w-]\d)\d{8}(?![\w-])"
# State formats (a superset): letter + 4-14 digits, or 7-9 digits; never a bare word.
DL = r"(?=[A-Z\d])(?<![\w-])(?:[A-Z]{1,2}\d{4,14}|[A-Z]\d{2}-\d{3}-\d{2}-\d{3}-\d|[A-Z]\d{3}-\d{4}-\d{4}|\d{7,9}|\d{3}-\d{3}-\d{3})(?![\w-])"
PASSPORT = r"(?=[A-Z\d])(?<![\w-])(?:[A-Z]\d{8}|\d{9})(?![\w-])"
_DIGITS = re.compile(r"\d")


def ssn_ok(value: str) -> bool:
    d = "".join(_DIGITS.findall(value))
    if len(d) != 9 or len(set(d)) == 1:
        return False
    area, group, serial = d[:3], d[3:5], d[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return d not in ("123456789", "078051120", "219099999")


def _ssn(value: str) -> bool | None:
    return None if ssn_ok(value) else False


SSN_CONTEXT = ("ssn", "social security", "social security number", "ss#", "ssn#", "taxpayer", "tin", "ss number")


def recognizers(cfg: PiiConfig) -> list[PatternRecognizer]:
    return [
        PatternRecognizer("us_ssn", "US_SSN", [(SSN_DASHED, 0.85), (SSN_PLAIN, 0.2)], SSN_CONTEXT, _ssn, DIGIT),
        PatternRecognizer(
            "us_driver_license",
            "US_DRIVER_LICENSE",
            [(DL, 0.15)],
            ("driver", "drivers", "driver's", "license", "licence", "dl", "dln", "driving", "permit", "lic"),
            None,
            DIGIT,
            context_boost=0.5, requires_context=True,
        ),
        PatternRecognizer(
            "us_passport", "US_PASSPORT", [(PASSPORT, 0.1)], ("passport", "passport number", "passport no"), None,
            DIGIT, context_boost=0.55, requires_context=True,
        ),
    ]
