"""Canonical form of a detected value per entity type, so that spelling variants of one value
(case, spacing, phone formatting) share one fingerprint and one pseudonym."""

from __future__ import annotations

import ipaddress
import re
import unicodedata

_NON_DIGIT = re.compile(r"\D")
_SPACE = re.compile(r"\s+")
_EDGE_PUNCT = " \t\n.,;:!?\"'()[]{}<>"
_TITLES = re.compile(r"^(?:mr|mrs|ms|miss|mx|dr|prof|sir|madam|herr|frau|mme|mlle|m)\.?\s+", re.IGNORECASE)


def normalize(entity_type: str, value: str, phone_region: str = "US") -> str:
    v = unicodedata.normalize("NFKC", value).strip(_EDGE_PUNCT)
    if entity_type == "EMAIL_ADDRESS":
        return v.lower()
    if entity_type == "PHONE_NUMBER":
        return normalize_phone(v, phone_region)
    if entity_type in ("CREDIT_CARD", "US_SSN", "US_BANK_NUMBER", "ZIP_CODE", "AGE"):
        return _NON_DIGIT.sub("", v)
    if entity_type in ("IBAN_CODE", "US_DRIVER_LICENSE", "US_PASSPORT"):
        return re.sub(r"[\s-]", "", v).upper()
    if entity_type == "IP_ADDRESS":
        try:
            return str(ipaddress.ip_interface(v).ip) if "/" in v else str(ipaddress.ip_address(v))
        except ValueError:
            return v.lower()
    if entity_type == "MAC_ADDRESS":
        return re.sub(r"[^0-9a-f]", "", v.lower())
    if entity_type == "SECRET":
        return value.strip()
    if entity_type == "PERSON":
        v = _TITLES.sub("", v)
    return _SPACE.sub(" ", v).casefold()


def normalize_phone(value: str, region: str = "US") -> str:
    """E.164 when `phonenumbers` can parse it, else the digits."""
    import phonenumbers

    cand = "+" + value[2:] if value.startswith("00") else value
    try:
        num = phonenumbers.parse(cand, None if cand.startswith("+") else region)
        if phonenumbers.is_possible_number(num):
            return phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.E164)
    except phonenumbers.NumberParseException:
        pass
    return _NON_DIGIT.sub("", value)
