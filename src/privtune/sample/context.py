"""Data subjects and the per-record value context the templates draw from.

A `Profile` is one customer (a data subject): their name, contact data and payment data stay the same
across all their tickets, as in a real support desk. `RecordContext` turns template keys into text
segments, caching each key so that `{first}` is the same person throughout one record.
"""

from __future__ import annotations

import datetime as dt
import random
import string
from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers
from faker import Faker

from privtune.sample import pii_values as pv
from privtune.sample.locales import LocaleSpec
from privtune.sample.render import Segment

_FAKERS: dict[str, Faker] = {}


def _prepare(fake: Faker) -> None:
    """Make Faker fast and reproducible for our use.

    * Weighted name tables ({name: frequency}) become plain tuples: Faker rebuilds cumulative weights
      on every draw, which made en_US names and addresses ~60x slower than other locales; uniform draws
      over the same names are fine for test data.
    * Tables Faker builds from a set (it_IT `cities`) are sorted: their order, and so the value a seed
      picks, otherwise changes with PYTHONHASHSEED from one process to the next.
    """
    for provider in fake.get_providers():
        attrs = {**vars(type(provider)), **vars(provider)}
        for key, value in attrs.items():
            if (isinstance(value, dict) and value and all(isinstance(k, str) for k in value)
                    and all(isinstance(v, int | float) for v in value.values())):
                setattr(provider, key, tuple(value))
            elif key in _SET_BUILT and isinstance(value, list | tuple):
                setattr(provider, key, tuple(sorted(value)))


_SET_BUILT = frozenset({"cities"})


def faker_for(locale: str) -> Faker:
    """One Faker per locale per process: building one costs milliseconds, reseeding costs microseconds."""
    fake = _FAKERS.get(locale)
    if fake is None:
        fake = _FAKERS[locale] = Faker(locale)
        _prepare(fake)
    return fake


@dataclass(frozen=True)
class Profile:
    user_id: str
    spec: LocaleSpec
    first: str
    last: str
    email: str
    phone: phonenumbers.PhoneNumber
    address: str  # lines separated by "\n"
    city: str
    dob: dt.date
    ssn: str | None  # US customers only
    card: str
    iban: str


def _clean_line(text: str) -> str:
    return " ".join(text.split())


def make_profile(user_id: str, spec: LocaleSpec, fake: Faker, rng: random.Random) -> Profile:
    first, last = fake.first_name(), fake.last_name()
    address = "\n".join(_clean_line(line) for line in fake.address().split("\n") if line.strip())
    city = fake.city()
    return Profile(
        user_id=user_id, spec=spec, first=first, last=last,
        email=pv.email_for(rng, first, last, spec),
        phone=pv.phone_number(rng, spec),
        address=address, city=city,
        dob=pv.birth_date(rng),
        ssn=pv.ssn(rng) if spec.region == "US" else None,
        card=pv.card_number(rng),
        iban=fake.iban(),
    )


_PRODUCTS = ("wireless earbuds", "standing desk", "coffee grinder", "running shoes", "winter jacket",
             "4K monitor", "air fryer", "office chair", "phone case", "yoga mat", "espresso machine",
             "backpack", "smartwatch", "bluetooth speaker", "desk lamp", "blender", "duvet set",
             "mechanical keyboard", "baby stroller", "electric toothbrush", "gaming mouse", "kettle")
_SHOPS = ("Northwind", "our webshop", "the app", "your online store", "the Northwind app")
_COURIERS = ("UPS", "DHL", "DPD", "GLS", "FedEx", "Royal Mail", "PostNL", "Colissimo", "Correos", "BRT")
_ERRORS = ("ERR_PAYMENT_DECLINED", "AUTH_401", "E_TIMEOUT", "HTTP 500", "INVALID_SIGNATURE", "E1042",
           "rate_limited", "ECONNRESET")
_DEVICES = ("iPhone 13", "Pixel 7", "Galaxy S22", "iPad Air", "Windows 11 laptop", "MacBook", "Android tablet")
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


class RecordContext:
    """Resolves template keys for one record; every key is generated at most once per record."""

    def __init__(self, profile: Profile, fake: Faker, rng: random.Random) -> None:
        self.p, self.fake, self.rng, self.spec = profile, fake, rng, profile.spec
        self._cache: dict[str, list[Segment]] = {}

    def __call__(self, key: str) -> list[Segment]:
        seg = self._cache.get(key)
        if seg is None:
            seg = self._cache[key] = _GENERATORS[key](self)
        return seg

    # ---- helpers used by the generators
    def _other(self) -> tuple[str, str]:
        cached = self._cache.get("_other")
        if cached is None:
            cached = self._cache["_other"] = [(self.fake.first_name(), None), (self.fake.last_name(), None)]
        return cached[0][0], cached[1][0]

    def money(self) -> str:
        r = self.rng
        value = f"{r.randint(5, 899)}.{r.choice(('99', '00', '49', '95', str(r.randint(10, 89))))}"
        if self.spec.decimal_comma:
            value = value.replace(".", ",")
            return f"{value} €" if r.random() < 0.5 else f"€{value}"
        return f"{self.spec.currency}{value}"

    def order_id(self) -> str:
        r = self.rng
        return r.choice((
            f"ORD-{r.randint(2021, 2025)}-{r.randint(100000, 999999)}",
            f"#{''.join(r.choices(string.ascii_uppercase + string.digits, k=6))}",
            f"{r.randint(100, 999)}-{r.randint(1000000, 9999999)}-{r.randint(1000000, 9999999)}",
            str(r.randint(10_000_000, 99_999_999)),
            f"NW{r.randint(1000000, 9999999)}",
        ))

    def tracking(self) -> str:
        r = self.rng
        up = string.ascii_uppercase + string.digits
        return r.choice((
            "1Z" + "".join(r.choices(up, k=16)),
            f"JJD{r.randint(10**14, 10**15 - 1)}",
            f"LX{r.randint(10**8, 10**9 - 1)}{self.spec.region}",
            f"3S{''.join(r.choices(up, k=11))}",
        ))

    def timestamp(self) -> str:
        r = self.rng
        return (f"2024-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T{r.randint(0, 23):02d}:"
                f"{r.randint(0, 59):02d}:{r.randint(0, 59):02d}Z")


def _pii(etype: str, fn: Callable[[RecordContext], str]) -> Callable[[RecordContext], list[Segment]]:
    return lambda c: [(fn(c), etype)]


def _plain(fn: Callable[[RecordContext], str]) -> Callable[[RecordContext], list[Segment]]:
    return lambda c: [(fn(c), None)]


def _secret_line(c: RecordContext) -> list[Segment]:
    r = c.rng
    kind = r.randrange(7)
    if kind == 0:
        return [("aws_access_key_id = ", None), (pv.aws_access_key(r), "SECRET"),
                ("\naws_secret_access_key = ", None), (pv.aws_secret_key(r), "SECRET")]
    if kind == 1:
        return [("GITHUB_TOKEN=", None), (pv.github_token(r), "SECRET")]
    if kind == 2:
        return [("SLACK_BOT_TOKEN=", None), (pv.slack_token(r), "SECRET")]
    if kind == 3:
        return [("stripe.api_key = \"", None), (pv.stripe_key(r), "SECRET"), ("\"", None)]
    if kind == 4:
        return [("Authorization: Bearer ", None), (pv.jwt(r), "SECRET")]
    if kind == 5:
        return [("X-Api-Key: ", None), (pv.hex_api_key(r), "SECRET")]
    return [("export STRIPE_SECRET_KEY=", None), (pv.stripe_key(r), "SECRET")]


def _address_inline(c: RecordContext) -> str:
    return ", ".join(c.p.address.split("\n"))


_GENERATORS: dict[str, Callable[[RecordContext], list[Segment]]] = {
    # people
    "name": _pii("PERSON", lambda c: pv.name_variant(c.rng, c.p.first, c.p.last)),
    "fullname": _pii("PERSON", lambda c: f"{c.p.first} {c.p.last}"),
    "first": _pii("PERSON", lambda c: c.p.first),
    "name_lc": _pii("PERSON", lambda c: f"{c.p.first} {c.p.last}".lower()),
    "last": _pii("PERSON", lambda c: c.p.last),
    "other_first": _pii("PERSON", lambda c: c._other()[0]),
    "other_name": _pii("PERSON", lambda c: " ".join(c._other())),
    # contact
    "email": _pii("EMAIL_ADDRESS", lambda c: pv.case_email(c.rng, c.p.email)),
    "email2": _pii("EMAIL_ADDRESS", lambda c: pv.email_for(c.rng, c.p.first, c.p.last, c.spec)),
    "other_email": _pii("EMAIL_ADDRESS", lambda c: pv.email_for(c.rng, *c._other(), c.spec)),
    "phone": _pii("PHONE_NUMBER", lambda c: pv.format_phone(c.rng, c.p.phone, c.spec)),
    "phone2": _pii("PHONE_NUMBER", lambda c: pv.format_phone(c.rng, pv.phone_number(c.rng, c.spec), c.spec)),
    "address": _pii("LOCATION", _address_inline),
    "address_ml": _pii("LOCATION", lambda c: c.p.address),
    "other_address": _pii("LOCATION", lambda c: ", ".join(
        " ".join(x.split()) for x in c.fake.address().split("\n") if x.strip())),
    "city": _pii("LOCATION", lambda c: c.p.city),
    "url": _pii("URL", lambda c: pv.personal_url(c.rng, c.p.first, c.p.last)),
    # identity and payment
    "dob": _pii("DATE_TIME", lambda c: pv.format_date(c.rng, c.p.dob, c.spec)),
    "ssn": _pii("US_SSN", lambda c: pv.format_ssn(c.rng, c.p.ssn or "")),
    "card": _pii("CREDIT_CARD", lambda c: pv.format_card(c.rng, c.p.card)),
    "card2": _pii("CREDIT_CARD", lambda c: pv.format_card(c.rng, pv.card_number(c.rng))),
    "iban": _pii("IBAN_CODE", lambda c: pv.format_iban(c.rng, c.p.iban)),
    "ip": _pii("IP_ADDRESS", lambda c: pv.ip_address(c.rng)),
    "ip2": _pii("IP_ADDRESS", lambda c: pv.ip_address(c.rng)),
    # secrets
    "password": _pii("SECRET", lambda c: pv.password(c.rng)),
    "aws_key": _pii("SECRET", lambda c: pv.aws_access_key(c.rng)),
    "gh_token": _pii("SECRET", lambda c: pv.github_token(c.rng)),
    "slack_token": _pii("SECRET", lambda c: pv.slack_token(c.rng)),
    "stripe_key": _pii("SECRET", lambda c: pv.stripe_key(c.rng)),
    "jwt": _pii("SECRET", lambda c: pv.jwt(c.rng)),
    "secret_line": _secret_line,
    # business data and filler: deliberately not PII (hard negatives for a detector)
    "order": _plain(RecordContext.order_id),
    "order2": _plain(RecordContext.order_id),
    "tracking": _plain(RecordContext.tracking),
    "amount": _plain(RecordContext.money),
    "amount2": _plain(RecordContext.money),
    "product": _plain(lambda c: c.rng.choice(_PRODUCTS)),
    "product2": _plain(lambda c: c.rng.choice(_PRODUCTS)),
    "shop": _plain(lambda c: c.rng.choice(_SHOPS)),
    "courier": _plain(lambda c: c.rng.choice(_COURIERS)),
    "last4": _plain(lambda c: c.p.card[-4:]),
    "ticket": _plain(lambda c: f"TCK-{c.rng.randint(100000, 999999)}"),
    "ts": _plain(RecordContext.timestamp),
    "ts2": _plain(RecordContext.timestamp),
    "time": _plain(lambda c: f"{c.rng.randint(8, 21)}:{c.rng.randint(0, 59):02d}"),
    "time2": _plain(lambda c: f"{c.rng.randint(8, 21)}:{c.rng.randint(0, 59):02d}"),
    "days": _plain(lambda c: str(c.rng.randint(2, 21))),
    "qty": _plain(lambda c: str(c.rng.randint(2, 5))),
    "err": _plain(lambda c: c.rng.choice(_ERRORS)),
    "version": _plain(lambda c: f"{c.rng.randint(2, 7)}.{c.rng.randint(0, 19)}.{c.rng.randint(0, 9)}"),
    "device": _plain(lambda c: c.rng.choice(_DEVICES)),
    "weekday": _plain(lambda c: c.rng.choice(_WEEKDAYS)),
    "sku": _plain(lambda c: f"SKU-{c.rng.randint(10000, 99999)}-{c.rng.choice('ABCDEFGH')}"),
    "reqid": _plain(lambda c: f"{c.rng.getrandbits(64):016x}"),
    "hello": _plain(lambda c: c.rng.choice(c.spec.hello)),
    "thanks": _plain(lambda c: c.rng.choice(c.spec.thanks)),
}
