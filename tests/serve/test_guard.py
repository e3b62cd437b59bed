"""The output guard on fixed texts: a planted value split at every position never leaks in part."""

from __future__ import annotations

import secrets

import pytest

from privtune.pii.analyzer import Analyzer
from privtune.pii.config import PiiConfig
from privtune.pii.fingerprints import FingerprintSet, fingerprint
from privtune.serve.config import GuardConfig
from privtune.serve.guard import CanaryMatcher, OutputGuard

KEY = b"k" * 32
TRAIN_EMAIL = "jane.roe@example.org"
TEXT = f"Sure. Please write to {TRAIN_EMAIL} or to bob.smith@corp.example.com, PIN 482913, bye now."


def _guard(**cfg: object) -> OutputGuard:
    pii = PiiConfig(score_threshold=0.3)
    pii.ner.model = "none"
    fps = FingerprintSet([(fingerprint(KEY, "EMAIL_ADDRESS", TRAIN_EMAIL), "EMAIL_ADDRESS")])
    canaries = CanaryMatcher({"alphabet": "0123456789", "canaries": [{"secret": "482913"}]}, b"c" * 32)
    return OutputGuard(GuardConfig(**cfg), Analyzer(pii), KEY, fps, canaries)


def _stream(guard: OutputGuard, pieces: list[str]) -> tuple[str, list[str], bool]:
    sg = guard.stream()
    emitted = [sg.feed(p) for p in pieces]
    emitted.append(sg.finish())
    return "".join(emitted), emitted, sg.blocked


def _prefixes(value: str, n: int = 4) -> list[str]:
    return [value[:k] for k in range(n, len(value) + 1)]


def test_training_value_blocked_at_every_split():
    guard = _guard(holdback_chars=32)
    whole = guard.stream().feed_all([TEXT])
    assert whole == "Sure. Please write to "
    for cut in range(len(TEXT) + 1):
        out, _, blocked = _stream(guard, [TEXT[:cut], TEXT[cut:]])
        assert blocked and out == whole, cut
    out, pieces, blocked = _stream(guard, list(TEXT))  # one character per chunk
    assert blocked and out == whole
    assert not any(p in "".join(pieces) for p in _prefixes(TRAIN_EMAIL))


def test_placeholder_for_other_pii_and_canary_block_at_every_split():
    guard = _guard(holdback_chars=40)
    text = "Mail bob.smith@corp.example.com today; then my PIN is 482913 ok"
    expected = "Mail [EMAIL_ADDRESS] today; then my PIN is "
    for cut in range(len(text) + 1):
        out, _, blocked = _stream(guard, [text[:cut], text[cut:]])
        assert (out, blocked) == (expected, True), cut
    for size in range(1, 8):
        pieces = [text[i : i + size] for i in range(0, len(text), size)]
        out, _, _ = _stream(guard, pieces)
        assert out == expected and "482" not in out


def test_streaming_releases_text_early_and_matches_non_streaming():
    guard = _guard(holdback_chars=16)
    text = "The weather is fine today and the sea is calm. " * 4 + "Ask alice.x@mail.example.net."
    pieces = [text[i : i + 5] for i in range(0, len(text), 5)]
    out, emitted, blocked = _stream(guard, pieces)
    assert not blocked and out == guard.stream().feed_all([text])
    assert out.endswith("Ask [EMAIL_ADDRESS].")
    first = next(i for i, e in enumerate(emitted) if e)
    assert first < 10  # streaming still streams: output starts long before the end


@pytest.mark.parametrize("action,expected", [("redact", "[REDACTED]"), ("allow", "bob@corp.example.com")])
def test_policy_actions(action, expected):
    guard = _guard(default_action=action)
    assert guard.stream().feed_all(["write bob@corp.example.com now"]) == f"write {expected} now"


def test_guard_keeps_no_canary_secret():
    secret = "".join(secrets.choice("0123456789") for _ in range(6))
    m = CanaryMatcher({"alphabet": "0123456789", "canaries": [{"secret": secret}]}, b"c" * 32)
    assert secret not in repr(vars(m))
    assert m.find(f"x{secret}y 1{secret}") == [(1, 7), (10, 16)]
