"""Value generators for planted PII: every structured value is valid, so a detector's validator
(Luhn, mod-97, numbering plan, SSN rules) cannot be the reason it misses one.

All functions take a `random.Random` so output depends only on the caller's seed.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import random
import string
import unicodedata

import phonenumbers

from privtune.sample.locales import LocaleSpec

_ALNUM = string.ascii_letters + string.digits
_B32 = string.ascii_uppercase + "234567"
_HEX = "0123456789abcdef"


# ---------------------------------------------------------------- names and e-mail


def name_variant(rng: random.Random, first: str, last: str) -> str:
    """A full name as customers actually type it: mostly proper case, sometimes lower/upper/inverted."""
    r = rng.random()
    if r < 0.78:
        return f"{first} {last}"
    if r < 0.86:
        return f"{first} {last}".lower()
    if r < 0.93:
        return f"{first} {last}".upper()
    return f"{last.upper()}, {first}"


def ascii_fold(text: str) -> str:
    """'Álamo-Núñez' -> 'alamonunez' for the local part of an e-mail address."""
    text = text.replace("ß", "ss").replace("ø", "o").replace("æ", "ae")
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def email_for(rng: random.Random, first: str, last: str, spec: LocaleSpec) -> str:
    f, la = ascii_fold(first) or "user", ascii_fold(last) or "mail"
    local = rng.choice((
        f"{f}.{la}", f"{f}{la}", f"{f[0]}.{la}", f"{f}_{la}", f"{f}.{la}{rng.randint(1, 99)}",
        f"{f}{rng.randint(60, 99)}", f"{la}.{f}", f"{f[0]}{la}{rng.randint(1, 9)}",
    ))
    domain = rng.choice(spec.mail_domains) if rng.random() < 0.85 else f"{la}-{rng.choice(('design', 'consulting', 'bau', 'studio', 'law'))}.com"
    return f"{local}@{domain}"


def case_email(rng: random.Random, email: str) -> str:
    """Some people type their address with capitals; it is still the same address."""
    r = rng.random()
    if r < 0.06:
        return email.upper()
    if r < 0.14:
        local, _, dom = email.partition("@")
        return local[:1].upper() + local[1:] + "@" + dom
    return email


# ---------------------------------------------------------------- phones


def digits(rng: random.Random, n: int) -> str:
    """n random decimal digits from one draw (per-digit randint dominated the profile)."""
    return f"{rng.randrange(10**n):0{n}d}" if n > 0 else ""


def _from_pattern(rng: random.Random, pattern: str) -> str:
    xs = pattern.count("X")
    fill = iter(digits(rng, xs))
    return "".join(next(fill) if ch == "X" else "23456789"[rng.randrange(8)] if ch == "N" else ch
                   for ch in pattern)


def phone_number(rng: random.Random, spec: LocaleSpec) -> phonenumbers.PhoneNumber:
    """A number that libphonenumber considers valid for the customer's country."""
    for _ in range(50):
        nsn = _from_pattern(rng, rng.choice(spec.phone_patterns))
        zeros = len(nsn) - len(nsn.lstrip("0"))  # Italian fixed lines keep their leading 0
        num = phonenumbers.PhoneNumber(country_code=int(spec.calling_code), national_number=int(nsn),
                                       italian_leading_zero=True if zeros else None,
                                       number_of_leading_zeros=zeros if zeros > 1 else None)
        # region check: +44 7911... is Guernsey, +1 could be Canada
        if phonenumbers.is_valid_number(num) and phonenumbers.region_code_for_number(num) == spec.region:
            return num
    raise RuntimeError(f"no valid phone number pattern for {spec.code}")  # pattern table bug


_PNF = phonenumbers.PhoneNumberFormat


def format_phone(rng: random.Random, num: phonenumbers.PhoneNumber, spec: LocaleSpec) -> str:
    """Render in one of the many ways people write numbers; every variant parses back to `num` with
    the customer's region (checked by the tests over thousands of numbers, not at generation time)."""
    intl = phonenumbers.format_number(num, _PNF.INTERNATIONAL)
    nat = phonenumbers.format_number(num, _PNF.NATIONAL)
    cc = f"+{spec.calling_code}"
    rest = intl[len(cc) + 1:]
    options = [intl, nat, nat, phonenumbers.format_number(num, _PNF.E164), nat.replace(" ", "")]
    if spec.region == "US":
        digits = "".join(c for c in nat if c.isdigit())
        a, b, c = digits[:3], digits[3:6], digits[6:]
        options += [f"{a}.{b}.{c}", f"{a}-{b}-{c}", f"1-{a}-{b}-{c}", f"+1 ({a}) {b}-{c}", f"{a} {b} {c}"]
    else:
        if spec.region in {"GB", "DE", "FR", "NL"}:  # trunk prefix 0 that is dropped after +cc
            options.append(f"{cc} (0){rest}")
        options += [f"00{spec.calling_code} {rest}", intl.replace(" ", "-"),
                    nat.replace(" ", "-"), f"{cc} {rest.replace(' ', '')}"]
        if spec.region in {"FR", "NL"}:
            options.append(nat.replace(" ", "."))
    return rng.choice(options)


# ---------------------------------------------------------------- payment


def luhn_check_digit(payload: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def luhn_valid(number: str) -> bool:
    digits = "".join(c for c in number if c.isdigit())
    return len(digits) >= 12 and luhn_check_digit(digits[:-1]) == digits[-1]


def card_number(rng: random.Random) -> str:
    """Digits only: Visa, Mastercard (both BIN ranges), Amex or Discover, Luhn-valid."""
    brand = rng.choices(("visa", "mc", "mc2", "amex", "disc"), weights=(45, 25, 8, 12, 10))[0]
    if brand == "visa":
        prefix, length = "4", 16
    elif brand == "mc":
        prefix, length = str(rng.randint(51, 55)), 16
    elif brand == "mc2":
        prefix, length = str(rng.randint(2221, 2720)), 16
    elif brand == "amex":
        prefix, length = rng.choice(("34", "37")), 15
    else:
        prefix, length = "6011", 16
    body = prefix + digits(rng, length - len(prefix) - 1)
    return body + luhn_check_digit(body)


def format_card(rng: random.Random, digits: str) -> str:
    r = rng.random()
    if len(digits) == 15:
        groups = [digits[:4], digits[4:10], digits[10:]]
    else:
        groups = [digits[i:i + 4] for i in range(0, 16, 4)]
    if r < 0.5:
        return " ".join(groups)
    if r < 0.75:
        return "-".join(groups)
    return digits


def iban_valid(iban: str) -> bool:
    s = iban.replace(" ", "").upper()
    if len(s) < 15 or not s[:2].isalpha() or not s[2:4].isdigit():
        return False
    moved = s[4:] + s[:4]
    return int("".join(str(int(c, 36)) for c in moved)) % 97 == 1


def format_iban(rng: random.Random, iban: str) -> str:
    if rng.random() < 0.55:
        return " ".join(iban[i:i + 4] for i in range(0, len(iban), 4))
    return iban


# ---------------------------------------------------------------- identity


def ssn(rng: random.Random) -> str:
    """Digits of a structurally valid SSN: area 001-899 except 666, group 01-99, serial 0001-9999."""
    while True:
        area = rng.randint(1, 899)
        if area != 666:
            break
    return f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"


def ssn_valid(text: str) -> bool:
    d = "".join(c for c in text if c.isdigit())
    if len(d) != 9:
        return False
    area, group, serial = int(d[:3]), int(d[3:5]), int(d[5:])
    return 0 < area < 900 and area != 666 and group > 0 and serial > 0


def format_ssn(rng: random.Random, digits: str) -> str:
    r = rng.random()
    if r < 0.7:
        return f"{digits[:3]}-{digits[3:5]}-{digits[5:]}"
    if r < 0.85:
        return f"{digits[:3]} {digits[3:5]} {digits[5:]}"
    return digits


def birth_date(rng: random.Random) -> dt.date:
    return dt.date(1940, 1, 1) + dt.timedelta(days=rng.randint(0, 65 * 365))


_MONTHS = ("January", "February", "March", "April", "May", "June", "July", "August", "September",
           "October", "November", "December")


def format_date(rng: random.Random, day: dt.date, spec: LocaleSpec) -> str:
    """Locale-style date; month names in English (locale-independent of the C library's setting)."""
    fmt = rng.choice(spec.date_formats)
    fmt = fmt.replace("%B", _MONTHS[day.month - 1]).replace("%b", _MONTHS[day.month - 1][:3])
    return day.strftime(fmt)


# ---------------------------------------------------------------- network


_PUBLIC_FIRST_OCTETS = (23, 31, 37, 46, 62, 77, 78, 81, 82, 84, 86, 88, 90, 92, 94, 95, 98, 104, 108,
                        109, 142, 151, 176, 185, 188, 193, 203, 212, 213, 217)


def ip_address(rng: random.Random) -> str:
    if rng.random() < 0.2:
        groups = ["2a02", f"{rng.randint(0x100, 0xffff):x}"] + [f"{rng.randint(0, 0xffff):x}" for _ in range(6)]
        if rng.random() < 0.5:
            return ":".join(groups[:3]) + "::" + ":".join(groups[-2:])
        return ":".join(groups)
    return ".".join([str(rng.choice(_PUBLIC_FIRST_OCTETS))] + [str(rng.randint(0, 255)) for _ in range(2)]
                    + [str(rng.randint(1, 254))])


def personal_url(rng: random.Random, first: str, last: str) -> str:
    f, la = ascii_fold(first) or "me", ascii_fold(last) or "site"
    tag = "".join(rng.choice(_HEX) for _ in range(6))
    return rng.choice((
        f"https://www.linkedin.com/in/{f}-{la}-{tag}",
        f"https://{f}{la}.com",
        f"https://www.instagram.com/{f}.{la}",
        f"https://github.com/{f[0]}{la}",
        f"https://www.facebook.com/{f}.{la}.{rng.randint(1, 999)}",
        f"http://www.{la}-{f}.net/about",
    ))


# ---------------------------------------------------------------- secrets


def _rand(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choices(alphabet, k=n))


def aws_access_key(rng: random.Random) -> str:
    return "AKIA" + _rand(rng, _B32, 16)


def aws_secret_key(rng: random.Random) -> str:
    return _rand(rng, _ALNUM + "/+", 40)


def github_token(rng: random.Random) -> str:
    return "ghp_" + _rand(rng, _ALNUM, 36)


def slack_token(rng: random.Random) -> str:
    return f"xoxb-{digits(rng, 12)}-{digits(rng, 13)}-{_rand(rng, _ALNUM, 24)}"


def stripe_key(rng: random.Random) -> str:
    return "sk_live_" + _rand(rng, _ALNUM, 24)


def hex_api_key(rng: random.Random) -> str:
    return _rand(rng, _HEX, 32)


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt(rng: random.Random) -> str:
    header = _b64url(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    payload = _b64url(json.dumps({"sub": _rand(rng, _HEX, 24), "iat": rng.randint(1_600_000_000, 1_750_000_000),
                                  "scope": rng.choice(("orders:read", "account", "api"))},
                                 separators=(",", ":")).encode())
    return f"{header}.{payload}.{_b64url(bytes(rng.getrandbits(8) for _ in range(32)))}"


_PW_WORDS = ("summer", "Sunshine", "monkey", "dragon", "Bella", "football", "Liverpool", "Mausi", "soleil",
             "Hase", "pizza", "Chelsea", "tigre", "amore", "qwerty", "Bailey", "winter", "lucky")


def password(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.6:
        return f"{rng.choice(_PW_WORDS)}{rng.randint(1, 2024)}{rng.choice('!?#$*.')}"
    if r < 0.8:
        return _rand(rng, _ALNUM + "!#%&*", rng.randint(10, 16))
    return f"{rng.choice(_PW_WORDS)}_{rng.choice(_PW_WORDS).lower()}{rng.randint(10, 99)}"
