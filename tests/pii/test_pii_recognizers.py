"""Recognizers on hand-written examples, validators against independent reference values."""

from __future__ import annotations

import pytest

from privtune.pii.recognizers.crypto import base58check_ok, bech32_ok
from privtune.pii.recognizers.finance import iban_ok, luhn_ok
from privtune.pii.recognizers.us_ids import ssn_ok


def found(analyzer, text):
    return {(s.entity_type, text[s.start : s.end]) for s in analyzer.analyze(text)}


@pytest.mark.parametrize(
    ("text", "etype", "value"),
    [
        ("write to Jane.Doe+x@mail.example.co.uk today", "EMAIL_ADDRESS", "Jane.Doe+x@mail.example.co.uk"),
        ("call +1 (415) 555-0132 now", "PHONE_NUMBER", "+1 (415) 555-0132"),
        ("ring 020 7946 0958 please", "PHONE_NUMBER", "020 7946 0958"),
        ("card 4111-1111-1111-1111 expired", "CREDIT_CARD", "4111-1111-1111-1111"),
        ("iban GB82 WEST 1234 5698 7654 32 ok", "IBAN_CODE", "GB82 WEST 1234 5698 7654 32"),
        ("my ssn is 536-22-1234", "US_SSN", "536-22-1234"),
        ("from 192.168.10.20 and 2001:db8::8a2e:370:7334", "IP_ADDRESS", "2001:db8::8a2e:370:7334"),
        ("mac 00:1A:2B:3C:4D:5E here", "MAC_ADDRESS", "00:1A:2B:3C:4D:5E"),
        ("see https://example.com/a?b=1.", "URL", "https://example.com/a?b=1"),
        ("send to bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq", "CRYPTO", "bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq"),
        ("born on March 3, 1985 in town", "DATE_TIME", "March 3, 1985"),
        ("she is 42 years old", "AGE", "42"),
        ("ship to 742 Evergreen Terrace, Springfield, IL 62704", "LOCATION", "742 Evergreen Terrace, Springfield, IL 62704"),
        ("key AKIAIOSFODNN7EXAMPLE leaked", "SECRET", "AKIAIOSFODNN7EXAMPLE"),
        ("token ghp_abcdefghijklmnopqrstuvwxyz0123456789", "SECRET", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"),
        ("my password: Hunter22#x now", "SECRET", "Hunter22#x"),
        ("driver license D1234567 on file", "US_DRIVER_LICENSE", "D1234567"),
        ("passport 123456789 issued", "US_PASSPORT", "123456789"),
    ],
)
def test_detects(regex_analyzer, text, etype, value):
    assert (etype, value) in found(regex_analyzer, text)


@pytest.mark.parametrize(
    "text",
    [
        "def handle(x):\n    return x + 12345678\n",  # "dl" inside "handle" is no driver-license context
        "The integral of x^2 from 0 to 1 is 1/3.",
        "order 98080140 shipped in 3 days",
        "my password was reset yesterday",
        "version 1.2.3 released; 4111111111111112 fails Luhn",
        "the account was closed",
    ],
)
def test_no_false_positive(regex_analyzer, text):
    assert found(regex_analyzer, text) == set()


def test_private_key_block_and_jwt(regex_analyzer):
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\nabc\n-----END RSA PRIVATE KEY-----"
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    text = f"here {pem} and {jwt}"
    assert ("SECRET", pem) in found(regex_analyzer, text)
    assert ("SECRET", jwt) in found(regex_analyzer, text)


def test_validators_reference_values():
    assert luhn_ok("79927398713") and not luhn_ok("79927398710")  # the standard Luhn example
    assert iban_ok("DE89370400440532013000") and not iban_ok("DE89370400440532013001")
    assert ssn_ok("536-22-1234") and not ssn_ok("666-22-1234") and not ssn_ok("900-22-1234")
    assert not ssn_ok("536-00-1234") and not ssn_ok("536-22-0000")
    assert base58check_ok("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNa")  # the genesis address
    assert not base58check_ok("1A1zP1eP5QGefi2DMPTfTL5SLmv7DivfNb")
    assert bech32_ok("bc1qar0srrr7xfkvy5l643lydnw9re59gtzzwf5mdq")


def test_overlap_resolution_is_order_independent():
    from privtune.pii.analyzer import resolve_overlaps
    from privtune.pii.span import Span

    spans = [Span(0, 10, "A", 0.8, "a"), Span(5, 12, "B", 0.8, "b"), Span(11, 20, "C", 0.9, "c")]
    assert resolve_overlaps(spans) == resolve_overlaps(spans[::-1]) == [spans[0], spans[2]]


def test_custom_recognizers_and_allow_list():
    from privtune.pii.analyzer import Analyzer
    from privtune.pii.config import PiiConfig

    cfg = PiiConfig.model_validate(
        {
            "ner": {"model": "none"},
            "custom": [
                {"name": "codename", "entity_type": "PROJECT", "deny_list": ["Blue Falcon"]},
                {"name": "emp", "entity_type": "EMPLOYEE_ID", "regex": r"\bEMP-\d{5}\b"},
            ],
            "allow_list": ["support@example.com"],
        }
    )
    text = "blue falcon ships; ask EMP-12345 or support@example.com or bob@example.com"
    got = {(s.entity_type, text[s.start : s.end]) for s in Analyzer(cfg).analyze(text)}
    assert got == {("PROJECT", "blue falcon"), ("EMPLOYEE_ID", "EMP-12345"), ("EMAIL_ADDRESS", "bob@example.com")}


def test_malformed_custom_regex_names_recognizer():
    from privtune.errors import ConfigError
    from privtune.pii.config import PiiConfig
    from privtune.pii.recognizers import build_recognizers

    cfg = PiiConfig.model_validate({"custom": [{"name": "broken_one", "entity_type": "X", "regex": "(ab"}]})
    with pytest.raises(ConfigError, match="broken_one"):
        build_recognizers(cfg)
