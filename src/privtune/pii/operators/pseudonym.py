"""Format-preserving, consistent surrogates derived from HMAC(key, type + normalized value).

Same real value -> same surrogate in every record, run and worker (with the same key). Names map
token by token, so "Alice Smith", "Ms. Smith" and "Alice" in one record stay consistent. Cards keep
their brand digit and pass Luhn; phones keep their layout and country code; IPs move into the
documentation ranges; dates shift by a per-subject offset. A surrogate whose fingerprint is a real
value of the data set is re-drawn.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import cache

from privtune.pii.fingerprints import fingerprint
from privtune.pii.normalize import normalize
from privtune.pii.operators.base import OperatorContext
from privtune.pii.recognizers.finance import IBAN_LENGTHS

_TITLE = re.compile(r"^((?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir)\.?\s+)", re.IGNORECASE)
_DIGITS = "0123456789"
_UPPER = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LOWER = "abcdefghijklmnopqrstuvwxyz"


@cache
def _names() -> tuple[list[str], list[str], list[str]]:
    from faker.providers.address.en_US import Provider as Address
    from faker.providers.person.en_US import Provider as Person

    return sorted(Person.first_names), sorted(Person.last_names), sorted(Address.street_suffixes)


class _Stream:
    """Deterministic choices from a keyed digest (extended by counter when exhausted)."""

    def __init__(self, ctx: OperatorContext, *parts: str) -> None:
        self.ctx, self.parts, self.buf, self.block = ctx, parts, b"", 0

    def byte(self) -> int:
        if not self.buf:
            self.buf = self.ctx.prf("pseudonym", *self.parts, str(self.block))
            self.block += 1
        b, self.buf = self.buf[0], self.buf[1:]
        return b

    def choice(self, seq: str | list[str]) -> str:
        n = (self.byte() << 8) | self.byte()
        return seq[n % len(seq)]


def _same_shape(value: str, s: _Stream, keep_prefix: int = 0) -> str:
    out = list(value[:keep_prefix])
    for c in value[keep_prefix:]:
        if c.isdigit():
            out.append(s.choice(_DIGITS))
        elif c.isupper():
            out.append(s.choice(_UPPER))
        elif c.islower():
            out.append(s.choice(_LOWER))
        else:
            out.append(c)
    return "".join(out)


def _luhn_fix(digits: list[str]) -> None:
    from privtune.pii.recognizers.finance import luhn_ok

    for d in _DIGITS:
        digits[-1] = d
        if luhn_ok("".join(digits)):
            return


def _card(value: str, s: _Stream) -> str:
    pos = [i for i, c in enumerate(value) if c.isdigit()]
    chars = list(value)
    for i in pos[1:]:
        chars[i] = s.choice(_DIGITS)
    digits = [chars[i] for i in pos]
    _luhn_fix(digits)
    chars[pos[-1]] = digits[-1]
    return "".join(chars)


def _phone(value: str, s: _Stream) -> str:
    keep = 0
    m = re.match(r"^\s*(?:\+|00)\d{1,3}", value)
    if m:
        keep = m.end()
    out = list(value[:keep])
    first = True
    for c in value[keep:]:
        if c.isdigit():
            out.append(s.choice("23456789") if first else s.choice(_DIGITS))
            first = False
        else:
            out.append(c)
    return "".join(out)


def _iban(value: str, s: _Stream) -> str:
    compact = value.replace(" ", "").upper()
    cc = compact[:2]
    if IBAN_LENGTHS.get(cc) != len(compact):
        return _same_shape(value, s)
    bban = "".join(s.choice(_DIGITS) if c.isdigit() else s.choice(_UPPER) for c in compact[4:])
    check = 98 - int("".join(str(int(c, 36)) for c in bban + cc + "00")) % 97
    new = f"{cc}{check:02d}{bban}"
    if " " in value:
        return " ".join(new[i : i + 4] for i in range(0, len(new), 4))
    return new


def _ip(value: str, s: _Stream) -> str:
    if ":" in value:
        return "2001:db8:" + ":".join(f"{s.byte():x}{s.byte():02x}" for _ in range(3)) + "::" + f"{s.byte():x}"
    net = s.choice(["192.0.2", "198.51.100", "203.0.113"])
    return f"{net}.{1 + s.byte() % 254}"


def _email(value: str, s: _Stream) -> str:
    first, last, _ = _names()
    local = f"{s.choice(first).lower()}.{s.choice(last).lower()}{s.byte() % 100}"
    return f"{local}@{s.choice(['example.com', 'example.org', 'example.net'])}"


_DATE_FORMATS = ("%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%B %d, %Y", "%b %d, %Y", "%d %B %Y", "%d %b %Y",
                 "%m/%d/%y", "%Y/%m/%d", "%B %Y", "%b %Y")  # fmt: skip


def _date(value: str, ctx: OperatorContext) -> str | None:
    v = value.strip()
    for fmt in _DATE_FORMATS:
        try:
            d = dt.datetime.strptime(v, fmt)
        except ValueError:
            continue
        n = ctx.options.date_shift_days
        raw = int.from_bytes(ctx.prf("pseudonym", "date-shift", ctx.subject)[:4], "big")
        shift = raw % (2 * n) - n
        shift = shift if shift < 0 else shift + 1  # in [-n, n], never 0
        out = (d + dt.timedelta(days=shift)).strftime(fmt)
        # keep the original's unpadded day/month style when it had one
        return out if "%d" not in fmt or not re.search(r"(?<!\d)\d(?!\d)", v) else _unpad(out)
    return None


def _unpad(s: str) -> str:
    return re.sub(r"(?<!\d)0(\d)(?!\d)", r"\1", s)


class Pseudonym:
    name = "pseudonym"
    needs_keys = ("pseudonym",)

    def apply(self, value: str, entity_type: str, ctx: OperatorContext) -> str | None:
        if entity_type == "DATE_TIME":
            shifted = _date(value, ctx)
            if shifted is not None:
                return shifted
        if entity_type == "PERSON":
            return self._person(value, ctx)
        norm = normalize(entity_type, value)
        for attempt in range(20):
            s = _Stream(ctx, entity_type, norm, str(attempt))
            out = self._surrogate(value, entity_type, s)
            if out == value:
                continue
            if ctx.real_fingerprints is None or ctx.fp_key is None:
                return out
            if fingerprint(ctx.fp_key, entity_type, out) not in ctx.real_fingerprints:
                return out
        return f"[{entity_type}]"

    def _surrogate(self, value: str, entity_type: str, s: _Stream) -> str:
        if entity_type == "EMAIL_ADDRESS":
            return _email(value, s)
        if entity_type == "PHONE_NUMBER":
            return _phone(value, s)
        if entity_type == "CREDIT_CARD":
            return _card(value, s)
        if entity_type == "IBAN_CODE":
            return _iban(value, s)
        if entity_type == "IP_ADDRESS":
            return _ip(value, s)
        if entity_type == "LOCATION":
            _, last, suffixes = _names()
            if value[:1].isdigit():
                num = re.match(r"\d+", value).group()  # type: ignore[union-attr]
                return f"{_same_shape(num, s)} {s.choice(last)} {s.choice(suffixes)}"
            return s.choice(last) + s.choice(["ville", "ton", "burg", "field", "port", " Springs"])
        if entity_type in ("ORGANIZATION",):
            _, last, _ = _names()
            return f"{s.choice(last)} {s.choice(['Group', 'Labs', 'Partners', 'Holdings'])}"
        return _same_shape(value, s)

    def _person(self, value: str, ctx: OperatorContext) -> str:
        first_names, last_names, _ = _names()
        m = _TITLE.match(value)
        title = m.group(1) if m else ""
        tokens = value[len(title) :].split()
        out = []
        for i, tok in enumerate(tokens):
            role = ctx.name_parts.get(tok.casefold(), (None,))[0]
            if role is None:
                # a lone name after a title is a surname; otherwise the last token of several is
                role = "last" if (title and len(tokens) == 1) or (len(tokens) > 1 and i == len(tokens) - 1) else "first"
            pool = first_names if role == "first" else last_names
            for attempt in range(20):
                s = _Stream(ctx, "PERSON", role, tok.casefold(), str(attempt))
                cand = s.choice(pool)
                real = ctx.real_fingerprints is not None and ctx.fp_key is not None and (
                    fingerprint(ctx.fp_key, "PERSON", cand) in ctx.real_fingerprints
                )
                if cand.casefold() != tok.casefold() and not real:
                    break
            out.append(cand.upper() if tok.isupper() and len(tok) > 1 else cand)
        return title + " ".join(out)

    @staticmethod
    def learn_names(values: list[str], ctx: OperatorContext) -> None:
        """Record which tokens are first and last names in this record (from multi-word names)."""
        for v in values:
            m = _TITLE.match(v)
            toks = v[m.end() if m else 0 :].split()
            if len(toks) >= 2:
                for t in toks[:-1]:
                    ctx.name_parts.setdefault(t.casefold(), ("first", t))
                ctx.name_parts[toks[-1].casefold()] = ("last", toks[-1])
