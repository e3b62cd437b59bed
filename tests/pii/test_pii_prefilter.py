"""The Hyperscan prefilter and the other scan shortcuts must not change a single finding.

Each is checked against the plain path it shortcuts: the analyzer with `prefilter: off`, the phone
scorer asking every region, the "@"-driven e-mail finder against the regex it replaces, on sample
tickets, PII-free text and generated texts built from the characters the patterns care about.
"""

from __future__ import annotations

import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privtune.pii import prefilter as pf
from privtune.pii.analyzer import Analyzer
from privtune.pii.config import PiiConfig
from privtune.pii.recognizers import names, phone
from privtune.sample.tickets import generate_tickets

hyperscan = pytest.importorskip("hyperscan")

# characters the built-in patterns care about, so generated texts hit their edges
_ALPHABET = "0123456789 -./:@+_()#\n\tabcxyzAKIEST" + "ß€é"
_WORDS = ["Main Street", "Anna", "Smith", "SMITH, Anna", "my name is", "password: ", "ssn", "card", "iban",
          "https://", "www.", ".com", "user:", "@example.org", "Box", "Apt", "DE89", "4111", "192.168.", "ff:",
          "AKIA", "ghp_", "eyJ", "Hi ", "Regards,\n", "straße", "Via ", "rue ", "1990-01-31", "31/12/1990"]  # fmt: skip


def _analyzers(**kw) -> tuple[Analyzer, Analyzer]:
    on = PiiConfig(prefilter="auto", **kw)
    off = PiiConfig(prefilter="off", **kw)
    on.ner.model = off.ner.model = "none"
    return Analyzer(on), Analyzer(off)


def _texts(n: int, seed: int) -> list[str]:
    out = []
    for rec, _gold in generate_tickets(n, seed):
        out += [rec["prompt"], rec["completion"]]
    rng = random.Random(seed)
    for _ in range(n):
        parts = [rng.choice(_WORDS) if rng.random() < 0.4 else rng.choice(_ALPHABET) for _ in range(rng.randint(1, 30))]
        out.append("".join(parts))
    return out


def test_findings_identical_with_and_without_prefilter() -> None:
    on, off = _analyzers()
    assert on.prefilter is not None and off.prefilter is None
    texts = _texts(300, 11)
    assert on.analyze_many(texts) == off.analyze_many(texts)
    assert sum(map(len, off.analyze_many(texts))) > 500  # the texts are full of PII


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(_WORDS), st.text(alphabet=_ALPHABET, max_size=6)), max_size=12))
def test_generated_texts_identical(parts: list[str]) -> None:
    text = "".join(parts)
    assert _ON.analyze(text) == _OFF.analyze(text)


_ON, _OFF = _analyzers()


def test_prefilter_reports_every_pattern_that_matches() -> None:
    """Superset property, pattern by pattern: where Python's regex finds a match, so does Hyperscan."""
    on, _ = _analyzers()
    checked = 0
    compiled = {}
    for r in on.recognizers:
        flags = getattr(r, "flags", 0)
        for k, pid in enumerate(getattr(r, "prefilter_ids", [])):
            if pid is not None:
                compiled[pid] = re.compile(r.prefilter_patterns()[k][0], flags)
    assert len(compiled) >= 50  # nearly every built-in pattern is prefiltered
    for text in _texts(200, 23):
        hits = on.prefilter.hits(text)
        if hits is None:
            continue
        for pid, rx in compiled.items():
            if rx.search(text):
                assert pid in hits, (rx.pattern, text)
                checked += 1
    assert checked > 500


def test_unsafe_text_gets_no_verdict() -> None:
    on, _ = _analyzers()
    assert on.prefilter.hits("plain ascii text") is not None
    for text in ("Müller lives here", "a\x1cb", "tab\tand\nnewline ok\r", "\x0b"):
        verdict = on.prefilter.hits(text)
        assert (verdict is None) == (text != "tab\tand\nnewline ok\r")


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        (r"(?<![\w-])\d{5}(?![\w-])", r"(?:^|[^\w\x{2d}])(?:[\d]){5,5}(?:[^\w\x{2d}]|$)"),
        (r"\d(?<![\w-]\d)\d{2}", r"(?:^|[^\w\x{2d}])[\d](?:[\d]){2,2}"),
        (r"(\d)-\1", r"(?:[\d])\x{2d}(?:[\d])"),
        (r"(?<=://)[a-z]+(?=@)", r"(?:\x{3a}\x{2f}\x{2f})(?:[a-z]){1,}(?:\x{40})"),
        (r"a(?!b)c", "ac"),  # a look-ahead inside the pattern is dropped: matches more, never less
        (r"(?i:abc)", "(?i:abc)"),
        (r"[A-ZÄ][^äö]x", r"[A-Z][\s\S]x"),  # only ASCII text is prefiltered: non-ASCII members drop out
        (r"[ä]", r"\x{e4}"),
    ],
)
def test_translation(pattern: str, expected: str) -> None:
    assert pf.to_hyperscan(pattern) == (expected, re.compile(pattern).flags)


def test_untranslatable_patterns_always_run() -> None:
    assert pf.to_hyperscan(r"(a)?(?(1)b|c)") is None  # conditional group
    assert not pf.prefilterable(r"\d{,3}", 0)  # `{,n}` is a literal for PCRE
    assert not pf.prefilterable(r"(?i)stra\u017fe", re.IGNORECASE)  # ſ folds onto s in Python only


def test_user_regexes_are_never_prefiltered() -> None:
    cfg = PiiConfig(custom=[{"name": "emp", "entity_type": "EMPLOYEE_ID", "regex": r"EMP-\d{5}"}])
    cfg.ner.model = "none"
    a = Analyzer(cfg)
    emp = next(r for r in a.recognizers if r.name == "emp")
    assert emp.prefilter_patterns() == [] and emp.prefilter_ids == [None]
    assert [s.entity_type for s in a.analyze("id EMP-12345 here")] == ["EMPLOYEE_ID"]


def test_compiled_database_is_cached_and_a_bad_cache_is_rebuilt(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PRIVTUNE_CACHE_DIR", str(tmp_path))
    first, _ = _analyzers(entities=["EMAIL_ADDRESS", "US_SSN"])
    files = list(tmp_path.glob("prefilter-*.hsdb"))
    assert len(files) == 1
    def no_translation(*_a, **_k):
        raise AssertionError("a cached database needs no translation")

    monkeypatch.setattr(pf, "to_hyperscan", no_translation)
    again, _ = _analyzers(entities=["EMAIL_ADDRESS", "US_SSN"])
    monkeypatch.undo()
    monkeypatch.setenv("PRIVTUNE_CACHE_DIR", str(tmp_path))
    assert again.prefilter.ids == first.prefilter.ids
    text = "mail a@b.example.org ssn 234-56-7890"
    assert again.analyze(text) == first.analyze(text) and len(first.analyze(text)) == 2
    files[0].write_bytes(b"[0]\ngarbage")
    rebuilt, _ = _analyzers(entities=["EMAIL_ADDRESS", "US_SSN"])
    assert rebuilt.analyze(text) == first.analyze(text)
    assert files[0].read_bytes() != b"[0]\ngarbage"


def test_unwritable_cache_still_scans(tmp_path, monkeypatch) -> None:
    blocked = tmp_path / "file"
    blocked.write_text("not a directory")
    monkeypatch.setenv("PRIVTUNE_CACHE_DIR", str(blocked / "cache"))
    on, off = _analyzers(entities=["EMAIL_ADDRESS"])
    assert on.prefilter is not None
    assert on.analyze("x a@b.example.org") == off.analyze("x a@b.example.org") != []


def test_without_hyperscan_the_analyzer_runs_plain(monkeypatch) -> None:
    monkeypatch.setattr(pf, "hyperscan_module", lambda: None)
    on, off = _analyzers()
    assert on.prefilter is None
    assert on.analyze("call +44 20 7946 0958") == off.analyze("call +44 20 7946 0958") != []


# -- phone: regions skipped by the length bound ------------------------------------------------
_REGIONS = ["US", "GB", "CA", "AU", "IN", "FR", "DE", "IE", "ES", "IT", "NL", "BR", "AR", "JP", "RU", "CN", "MX",
            "CO", "KR", "ZA", "IL", "CH", "SE", "PL"]  # fmt: skip
_PREFIXES = ["", "", "0", "1", "44", "61", "180020", "1831", "91", "49", "011", "0011", "55", "54", "9", "810"]


def test_phone_length_bound_never_changes_a_score() -> None:
    fast = phone.PhoneRecognizer(_REGIONS)
    slow = phone.PhoneRecognizer(_REGIONS)
    slow._too_long_for = lambda region, digits: False  # type: ignore[method-assign]
    rng = random.Random(5)
    skipped = 0
    for _ in range(1500):
        digits = rng.choice(_PREFIXES) + "".join(rng.choice("0123456789") for _ in range(rng.randint(5, 16)))
        groups, i = [], 0
        while i < len(digits):
            k = rng.randint(1, 7)
            groups.append(digits[i : i + k])
            i += k
        cand = rng.choice([" ", "-", ".", ""]).join(groups)
        assert phone.PhoneRecognizer._score.__wrapped__(fast, cand) == phone.PhoneRecognizer._score.__wrapped__(
            slow, cand
        ), cand
        skipped += sum(fast._too_long_for(r, "".join(groups)) for r in ("US", "FR", "IT"))
    assert skipped > 100  # the bound does skip regions


def test_phone_bound_is_off_for_rewriting_regions_and_dialling_prefixes() -> None:
    rec = phone.PhoneRecognizer(["AR", "US"])
    assert phone._length_bound("AR") is None  # national prefix transform rule
    assert not rec._too_long_for("US", "011" + "4" * 14)  # international dialling prefix: rerouted
    assert rec._too_long_for("US", "1236002375" + "5811889")  # an order number is no US phone
    assert not phone.region_bounds_apply("+1 555 0100") and not phone.region_bounds_apply("555 0100 x12")


# -- names: e-mails found from "@", tokens from findall -----------------------------------------
@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="ab.+-_@ x1é\n", max_size=40))
def test_email_finder_matches_the_regex(text: str) -> None:
    rx = re.compile(r"([\w.+-]+)@[\w-]+(?:\.[\w-]+)+")
    assert list(names._emails(text)) == [(m.start(), m.end(), m.group(1)) for m in rx.finditer(text)]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab 'é’-1_.\nX", max_size=40))
def test_tokens_from_findall_match_finditer(text: str) -> None:
    rec = names.NameRecognizer()
    words = names._WORD.findall(text)
    assert rec._tokens(text, words) == [(m.start(), m.end(), m.group()) for m in names._WORD.finditer(text)]


def test_valid_shortcut_agrees_with_phonenumbers() -> None:
    import phonenumbers

    rng = random.Random(9)
    checked = 0
    for _ in range(3000):
        region = rng.choice(["US", "GB", "CA", "AU", "IT", "DE", "FR", "IN"])
        digits = rng.choice(["", "0", "1"]) + "".join(rng.choice("0123456789") for _ in range(rng.randint(7, 11)))
        try:
            num = phonenumbers.parse(digits, region)
        except phonenumbers.NumberParseException:
            continue
        assert phone._is_valid(num, region) == phonenumbers.is_valid_number(num), (digits, region)
        checked += phonenumbers.is_valid_number(num)
    assert checked > 300


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789 +-.()/xXet@a\n", max_size=40))
def test_phone_candidate_lookahead_changes_no_match(text: str) -> None:
    plain = re.compile(phone.CANDIDATE.pattern.replace(r"(?=[+(\d])", "", 1), re.IGNORECASE)
    assert plain.pattern != phone.CANDIDATE.pattern
    assert [m.span() for m in phone.CANDIDATE.finditer(text)] == [m.span() for m in plain.finditer(text)]


def test_leading_lookahead_keeps_the_lookbehind_consumed() -> None:
    assert pf.to_hyperscan(r"(?=\d)(?<![\w-])\d{5}")[0] == r"(?:^|[^\w\x{2d}])(?:[\d]){5,5}"


def test_chunk_sizes() -> None:
    from itertools import islice

    from privtune.pii.scan import CHUNK, MAX_CHUNK, chunk_sizes

    assert list(islice(chunk_sizes(None, 1), 3)) == [CHUNK] * 3
    assert next(chunk_sizes(2_000, 2)) == CHUNK  # small inputs keep both workers busy to the end
    assert next(chunk_sizes(100_000, 2)) == MAX_CHUNK
    stream = list(islice(chunk_sizes(None, 2), 14))
    assert stream[:8] == [CHUNK] * 8 and stream[8:] == [512, 1024, 2048, 4096, 4096, 4096]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abXY '-_1.\n\t", max_size=40))
def test_ascii_word_regex_matches_the_unicode_one_on_ascii(text: str) -> None:
    assert names._WORD_ASCII.findall(text) == names._WORD.findall(text)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="abXYZ'-ßøæ’é ", max_size=12))
def test_names_fold_is_the_gazetteer_fold(word: str) -> None:
    from privtune.pii.gazetteer import fold

    assert names.fold(word) == fold(word)
