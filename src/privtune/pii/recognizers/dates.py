"""DATE_TIME: numeric and written dates with range checks; AGE: a number stated as an age."""

from __future__ import annotations

import re

from privtune.pii.config import PiiConfig
from privtune.pii.recognizers.base import DIGIT, PatternRecognizer

MONTHS = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|"
    r"Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_D = r"(?:0?[1-9]|[12]\d|3[01])"
_M = r"(?:0?[1-9]|1[0-2])"
_Y = r"(?:19\d\d|20\d\d)"
# Every match of the two day/month patterns below contains this (starts with a digit: a fast scan).
_DMY_GATE = re.compile(r"\d[/.-]\d\d?[/.-]\d")
NUMERIC = [
    # `_Y` with the look-behind after its first digit, so the engine skips to digits
    (r"[12](?<![\w./-][12])(?:(?<=1)9|(?<=2)0)\d\d-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])(?:[T ]\d{2}:\d{2}(?::\d{2})?)?(?![\w-])", 0.85),
    (rf"[12](?<![\w./-][12])(?:(?<=1)9|(?<=2)0)\d\d/{_M}/{_D}(?![\w/])", 0.8),
    (rf"(?<![\w./-]){_D}([/.-]){_M}\1{_Y}(?![\w/.-]\d)", 0.6, _DMY_GATE),  # day first, or month first below
    (rf"(?<![\w./-]){_M}([/.-]){_D}\1(?:{_Y}|\d\d)(?![\w/]|[.-]\d)", 0.6, _DMY_GATE),
]
WRITTEN = [
    (rf"(?=[JFMASOND])(?<!\w){MONTHS}\s+{_D}(?:st|nd|rd|th)?,?\s+{_Y}(?!\w)", 0.85),
    (rf"(?=\d)(?<!\w){_D}(?:st|nd|rd|th)?\s+(?:of\s+)?{MONTHS},?\s+{_Y}(?!\w)", 0.85),
    (rf"(?=[JFMASOND])(?<!\w){MONTHS}\s+{_Y}(?!\w)", 0.5),
]
#: Every written date names a month.
MONTH_KEYS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
DATE_CONTEXT = ("born", "birth", "dob", "birthday", "date", "d.o.b", "birthdate", "since", "on", "expires", "expiry")
AGE = [
    (r"(?<![\w.])(\d{1,3})(?:\s|-)?(?:years?|yrs?|y/o|yo)(?:\s|-)?(?:old|of\s+age)\b", 0.85),
    (r"\b(?:aged?|age:)\s*(\d{1,3})(?![\w.])", 0.7),
    (r"\b(?:I'm|I am|he's|she's|he is|she is|they're|turned|turning)\s+(\d{1,3})(?=[\s,.!;])(?!\s*(?:%|percent|times|minutes|hours|days|\w+s\b))", 0.3),
]


def _date(value: str) -> bool | None:
    m = re.match(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{2,4})$", value)
    if m:
        a, b = int(m.group(1)), int(m.group(2))
        if a > 31 or b > 31 or (a > 12 and b > 12):
            return False
    return None


def _age(value: str) -> bool | None:
    return None if 0 < int(value) <= 120 else False


def recognizers(cfg: PiiConfig) -> list[PatternRecognizer]:
    return [
        PatternRecognizer("date_numeric", "DATE_TIME", NUMERIC, DATE_CONTEXT, _date, DIGIT),
        PatternRecognizer("date_written", "DATE_TIME", WRITTEN, DATE_CONTEXT, None, DIGIT, flags=re.IGNORECASE,
                          keywords=MONTH_KEYS),
        PatternRecognizer(
            "age", "AGE", AGE, ("age", "aged", "old", "years"), _age, DIGIT, group=1, flags=re.IGNORECASE
        ),
    ]
