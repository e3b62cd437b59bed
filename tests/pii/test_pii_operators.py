from __future__ import annotations

from privtune.pii.config import ProtectConfig
from privtune.pii.fingerprints import FingerprintSet, fingerprint
from privtune.pii.operators import OPERATORS, OperatorContext
from privtune.pii.operators.pseudonym import Pseudonym
from privtune.pii.recognizers.finance import iban_ok, luhn_ok
from privtune.pii.vault import Vault

KEYS = {"pseudonym": b"p" * 32, "hash": b"h" * 32, "vault": b"v" * 32}


def ctx(real=None):
    return OperatorContext(dict(KEYS), ProtectConfig(), real, b"f" * 32)


def test_pseudonyms_are_consistent_and_format_preserving():
    p, c = OPERATORS["pseudonym"], ctx()
    card = p.apply("4111 1111 1111 1111", "CREDIT_CARD", c)
    assert card != "4111 1111 1111 1111" and luhn_ok(card.replace(" ", "")) and card[4] == " "
    assert p.apply("4111 1111 1111 1111", "CREDIT_CARD", ctx()) == card  # another worker, same key
    phone = p.apply("+1 (415) 555-0132", "PHONE_NUMBER", c)
    assert phone.startswith("+1 (") and phone[7:9] == ") " and phone != "+1 (415) 555-0132"
    assert iban_ok(p.apply("DE89 3704 0044 0532 0130 00", "IBAN_CODE", c).replace(" ", ""))
    assert "@example." in p.apply("alice@corp.com", "EMAIL_ADDRESS", c)
    assert p.apply("10.1.2.3", "IP_ADDRESS", c).startswith(("192.0.2.", "198.51.100.", "203.0.113."))


def test_name_variants_consistent_within_record():
    p, c = OPERATORS["pseudonym"], ctx()
    c.new_record("u1")
    Pseudonym.learn_names(["Alice Smith"], c)
    full = p.apply("Alice Smith", "PERSON", c)
    first, last = full.split()
    assert p.apply("Ms. Smith", "PERSON", c) == f"Ms. {last}"
    assert p.apply("Alice", "PERSON", c) == first


def test_surrogate_never_equals_a_real_value():
    p, c = OPERATORS["pseudonym"], ctx()
    first = p.apply("555-22-1234", "US_SSN", c)
    real = FingerprintSet([(fingerprint(b"f" * 32, "US_SSN", first), "US_SSN")])
    assert p.apply("555-22-1234", "US_SSN", ctx(real)) != first


def test_date_shift_consistent_per_subject():
    p, c = OPERATORS["pseudonym"], ctx()
    c.new_record("subject-a")
    a1, a2 = p.apply("2020-01-10", "DATE_TIME", c), p.apply("2020-01-20", "DATE_TIME", c)
    import datetime as dt

    d = lambda s: dt.date.fromisoformat(s)  # noqa: E731
    assert (d(a2) - d(a1)).days == 10 and a1 != "2020-01-10"


def test_placeholder_mask_hash_and_vault():
    c = ctx()
    c.new_record("r")
    ph = OPERATORS["placeholder"]
    assert [ph.apply(v, "PERSON", c) for v in ("Al", "Bo", "al")] == ["[PERSON_1]", "[PERSON_2]", "[PERSON_1]"]
    assert OPERATORS["mask"].apply("4111 1111 1111 1234", "CREDIT_CARD", c) == "**** **** **** 1234"
    h = OPERATORS["hash"].apply("a@b.com", "EMAIL_ADDRESS", c)
    assert h == OPERATORS["hash"].apply("A@B.com", "EMAIL_ADDRESS", ctx()) and len(h) == len("<EMAIL_ADDRESS:>") + 16
    v = Vault(KEYS["vault"])
    tok = v.put("PERSON", "Alice")
    back = Vault.from_bytes(KEYS["vault"], v.to_bytes())
    assert back.reveal(f"hi {tok}!") == ("hi Alice!", 1, 0)
