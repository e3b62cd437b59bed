"""Synthetic customer-support tickets with exact gold PII spans, for demos and detector benchmarks.

Gold entity types (Presidio names): PERSON, EMAIL_ADDRESS, PHONE_NUMBER, LOCATION (full addresses and
cities), CREDIT_CARD, IBAN_CODE, US_SSN, DATE_TIME (dates of birth), IP_ADDRESS, URL (personal
profile/home pages), SECRET (cloud/GitHub/Slack/Stripe keys, JWTs, passwords). Deliberately NOT
labelled, because they are not personal data: order ids, tracking numbers, SKUs, amounts, card last-4
digits, ticket ids, request ids and log timestamps — they are the hard negatives a detector must leave
alone.

Determinism: the output depends only on (n, seed, locales) and the installed Faker version (Faker's
name and address tables change between releases).
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Sequence

from privtune.sample.context import Profile, RecordContext, faker_for, make_profile
from privtune.sample.locales import DEFAULT_LOCALES, LocaleSpec, locale_spec
from privtune.sample.render import TextBuilder, render
from privtune.sample.templates import TEMPLATES, TicketTemplate

REPEAT_USER_P = 0.3  # share of tickets from a customer who already wrote in (data subjects with many records)
_RECENT_USERS = 300
# en_US/en_GB customers are more common, every other locale still appears often.
_LOCALE_WEIGHT = {"en_US": 3, "en_GB": 2}


_WITH_SSN: tuple[TicketTemplate, ...] = TEMPLATES
_WITHOUT_SSN: tuple[TicketTemplate, ...] = tuple(t for t in TEMPLATES if "ssn" not in t.keys)


def _trimmed(builder: TextBuilder) -> str:
    """Text without the trailing whitespace an empty optional passage can leave (spans never end in it)."""
    text = builder.text().rstrip()
    if builder.spans and builder.spans[-1][1] > len(text):
        raise AssertionError("template bug: a PII value ends in whitespace")
    return text


def _spans(builder: TextBuilder, field: str) -> list[dict]:
    return [{"field": field, "start": s, "end": e, "entity_type": t} for s, e, t in builder.spans]


def generate_tickets(n: int, seed: int, locales: Sequence[str] | None = None) -> Iterator[tuple[dict, list[dict]]]:
    """Yield `(record, gold)` for `n` tickets.

    record: `{"id", "prompt", "completion", "user_id"}` (id = 0-based position); gold: the spans of every
    planted PII value, `{"field": "prompt"|"completion", "start", "end", "entity_type"}`, Python string
    offsets, sorted, non-overlapping.
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    specs: list[LocaleSpec] = [locale_spec(c) for c in (locales or DEFAULT_LOCALES)]
    weights = [_LOCALE_WEIGHT.get(s.code, 1) for s in specs]
    master = random.Random(f"privtune.sample.tickets:{seed}")
    users: list[Profile] = []
    for i in range(n):
        rec_seed = master.getrandbits(63)
        rng = random.Random(rec_seed)
        if users and master.random() < REPEAT_USER_P:
            profile = users[master.randrange(max(0, len(users) - _RECENT_USERS), len(users))]
            fake = faker_for(profile.spec.code)
            fake.seed_instance(rec_seed)
        else:
            spec = master.choices(specs, weights)[0]
            fake = faker_for(spec.code)
            fake.seed_instance(rec_seed)
            profile = make_profile(f"u_{master.getrandbits(40):010x}", spec, fake, rng)
            users.append(profile)
        ctx = RecordContext(profile, fake, rng)
        template = rng.choice(_WITH_SSN if profile.ssn else _WITHOUT_SSN)
        prompt, completion = TextBuilder(), TextBuilder()
        render(template.prompt, ctx, rng, prompt)
        render(template.completions[rng.randrange(len(template.completions))], ctx, rng, completion)
        record = {"id": i, "prompt": _trimmed(prompt), "completion": _trimmed(completion), "user_id": profile.user_id}
        yield record, _spans(prompt, "prompt") + _spans(completion, "completion")


def template_count() -> int:
    """Number of distinct ticket structures (for reporting and tests)."""
    return len(TEMPLATES)
