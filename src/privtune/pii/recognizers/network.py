"""IP_ADDRESS (v4/v6, validated by `ipaddress`), MAC_ADDRESS and URL."""

from __future__ import annotations

import ipaddress
import re

from privtune.pii.config import PiiConfig
from privtune.pii.recognizers.base import ANY, DIGIT, PatternRecognizer

# the look-behind after the first digit (`\d(?<![\w.]\d)` is `(?<![\w.])\d`) lets the regex engine
# skip to digits instead of trying every position
IPV4 = r"\d(?<![\w.]\d)\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?:/\d{1,2})?(?![\w]|\.\d)"
IPV6 = r"(?<![\w:])(?:[0-9A-Fa-f]{0,4}:){2,7}(?:[0-9A-Fa-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?(?![\w:])"
MAC = r"(?<![\w:-])(?:[0-9A-Fa-f]{2}([:-])(?:[0-9A-Fa-f]{2}\1){4}[0-9A-Fa-f]{2}|[0-9a-fA-F]{4}\.[0-9a-fA-F]{4}\.[0-9a-fA-F]{4})(?![\w:-])"
URL = r"(?<![\w@])(?:(?:https?|ftp)://|www\.)[^\s<>\"'`{}|\\^\]\[]+[^\s<>\"'`{}|\\^\]\[.,;:!?)]"
TLDS = "com|org|net|io|co|us|uk|de|fr|info|biz|me|app|dev|ai|edu|gov"
BARE_DOMAIN = rf"(?<![\w@./-])(?:[a-z0-9](?:[a-z0-9-]{{0,61}}[a-z0-9])?\.)+(?:{TLDS})(?:/[^\s<>\"']*[^\s<>\"'.,;:!?)])?(?![\w@.-]*\w)"


# an IPv6 match has at least two colons
_TWO_COLONS = re.compile(r":[^:]*:")
URL_KEYS = ("://", "www.")
DOMAIN_KEYS = tuple(f".{t}" for t in TLDS.split("|"))


def _ipv4(value: str) -> bool:
    try:
        ip = ipaddress.ip_interface(value).ip if "/" in value else ipaddress.IPv4Address(value)
    except ValueError:
        return False
    # version strings like 1.2.3.4 and the unspecified address are not personal data
    return not (ip.is_unspecified or str(ip).startswith("0."))


def _ipv6(value: str) -> bool:
    if value.count(":") < 2 or sum(c.isdigit() for c in value) < 2 or len(value) < 6:
        return False
    try:
        ipaddress.IPv6Address(value)
    except ValueError:
        return False
    return True


def recognizers(cfg: PiiConfig) -> list[PatternRecognizer]:
    return [
        PatternRecognizer("ipv4", "IP_ADDRESS", [(IPV4, 0.6)], ("ip", "address", "host", "server"), _ipv4, DIGIT),
        PatternRecognizer("ipv6", "IP_ADDRESS", [(IPV6, 0.6, _TWO_COLONS)], ("ip", "ipv6", "address"), _ipv6, DIGIT),
        PatternRecognizer("mac", "MAC_ADDRESS", [(MAC, 0.9)], ("mac", "hardware", "ethernet"), None, DIGIT),
        PatternRecognizer("url", "URL", [(URL, 0.9, URL_KEYS), (BARE_DOMAIN, 0.6, DOMAIN_KEYS)],
                          ("url", "website", "site", "link"), None, ANY,
                          flags=0),
    ]
