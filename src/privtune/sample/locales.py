"""Per-locale conventions for synthetic tickets: phone numbering plans, date styles, mail domains, money.

Tickets are written in English (an international shop's support desk) but every customer's personal
data follows their own country's conventions, which is what a PII detector must cope with.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_LOCALES: tuple[str, ...] = ("en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "nl_NL")


@dataclass(frozen=True)
class LocaleSpec:
    """What differs between customers' countries. Phone patterns: `N` = 2-9, `X` = 0-9, rest literal."""

    code: str
    region: str
    calling_code: str
    phone_patterns: tuple[str, ...]
    date_formats: tuple[str, ...]
    mail_domains: tuple[str, ...]
    currency: str
    decimal_comma: bool
    hello: tuple[str, ...]
    thanks: tuple[str, ...]


_US_AREAS = ("212", "213", "206", "303", "305", "312", "404", "415", "480", "503", "512", "617",
             "646", "702", "713", "718", "805", "917", "919", "614")

# Phone patterns are national-number templates in the numbering-plan convention: X is any digit,
# N is 2-9 (pii_values._from_pattern fills them; phonenumbers then validates the result).
LOCALES: dict[str, LocaleSpec] = {
    "en_US": LocaleSpec(
        "en_US", "US", "1",
        tuple(f"{a}NXXXXXX" for a in _US_AREAS),
        ("%m/%d/%Y", "%B %d, %Y", "%Y-%m-%d", "%m-%d-%Y", "%b %d %Y"),
        ("gmail.com", "yahoo.com", "outlook.com", "aol.com", "icloud.com", "comcast.net"),
        "$", False, ("Hi", "Hello", "Hey", "Good morning"), ("Thanks", "Thank you", "Thx"),
    ),
    "en_GB": LocaleSpec(
        "en_GB", "GB", "44",
        ("207XXXXXXX", "208XXXXXXX", "151NXXXXXX", "161NXXXXXX", "113NXXXXXX", "7700XXXXXX",
         "7912XXXXXX", "7812XXXXXX", "7456XXXXXX"),
        ("%d/%m/%Y", "%d %B %Y", "%Y-%m-%d", "%d.%m.%Y", "%d %b %Y"),
        ("gmail.com", "btinternet.com", "hotmail.co.uk", "yahoo.co.uk", "sky.com", "outlook.com"),
        "£", False, ("Hi", "Hello", "Dear team", "Morning"), ("Cheers", "Thanks", "Many thanks"),
    ),
    "de_DE": LocaleSpec(
        "de_DE", "DE", "49",
        ("30NXXXXXXX", "89NXXXXXX", "40NXXXXXXX", "151XXXXXXXX", "171XXXXXXX", "160XXXXXXX",
         "221NXXXXXX", "69NXXXXXXX"),
        ("%d.%m.%Y", "%Y-%m-%d", "%d/%m/%Y", "%d. %B %Y"),
        ("gmx.de", "web.de", "t-online.de", "gmail.com", "posteo.de", "freenet.de"),
        "€", True, ("Hallo", "Hi", "Guten Tag", "Hello"), ("Danke", "Viele Grüße", "Thanks"),
    ),
    "fr_FR": LocaleSpec(
        "fr_FR", "FR", "33",
        ("1XXXXXXXX", "4XXXXXXXX", "6XXXXXXXX", "7XXXXXXXX", "5XXXXXXXX", "3XXXXXXXX"),
        ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y", "%d %B %Y"),
        ("orange.fr", "free.fr", "laposte.net", "gmail.com", "sfr.fr", "wanadoo.fr"),
        "€", True, ("Bonjour", "Hello", "Hi"), ("Merci", "Cordialement", "Thanks"),
    ),
    "es_ES": LocaleSpec(
        "es_ES", "ES", "34",
        ("6XXXXXXXX", "91XXXXXXX", "93XXXXXXX", "7XXXXXXXX", "96XXXXXXX"),
        ("%d/%m/%Y", "%Y-%m-%d", "%d-%m-%Y"),
        ("gmail.com", "hotmail.es", "yahoo.es", "telefonica.net", "outlook.es"),
        "€", True, ("Hola", "Hello", "Buenos días"), ("Gracias", "Saludos", "Thanks"),
    ),
    "it_IT": LocaleSpec(
        "it_IT", "IT", "39",
        ("06XXXXXXXX", "02XXXXXXXX", "347XXXXXXX", "333XXXXXXX", "320XXXXXXX", "055XXXXXXX"),
        ("%d/%m/%Y", "%Y-%m-%d", "%d.%m.%Y", "%d-%m-%Y"),
        ("libero.it", "gmail.com", "virgilio.it", "alice.it", "tiscali.it", "hotmail.it"),
        "€", True, ("Buongiorno", "Ciao", "Hello"), ("Grazie", "Cordiali saluti", "Thanks"),
    ),
    "nl_NL": LocaleSpec(
        "nl_NL", "NL", "31",
        ("6XXXXXXXX", "20XXXXXXX", "10XXXXXXX", "30XXXXXXX", "70XXXXXXX"),
        ("%d-%m-%Y", "%d/%m/%Y", "%Y-%m-%d"),
        ("ziggo.nl", "kpnmail.nl", "gmail.com", "hotmail.nl", "xs4all.nl", "planet.nl"),
        "€", True, ("Hoi", "Hallo", "Goedemiddag", "Hi"), ("Bedankt", "Groeten", "Thanks"),
    ),
}


def locale_spec(code: str) -> LocaleSpec:
    """Look up a supported locale; the error lists the supported ones."""
    try:
        return LOCALES[code]
    except KeyError:
        from privtune.errors import InputError

        raise InputError(f"unsupported locale {code!r}; supported: {', '.join(LOCALES)}") from None
