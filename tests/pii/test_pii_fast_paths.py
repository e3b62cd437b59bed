"""The speed-ups in the recognizers must not change a single match.

Each fast path (keyword gates, regexes rewritten so the engine can skip ahead, lower-cased cue
scans) is checked against the plain form it replaces, on texts built to hit the edges: text start,
boundaries after letters / hyphens / dots, non-ASCII case folding and the characters `re` folds
differently from `str.lower`.
"""

from __future__ import annotations

import re

import pytest

from privtune.pii.recognizers import address, dates, finance, names, network, secrets, us_ids
from privtune.pii.recognizers.base import context_keys, context_regex, may_contain

EDGE_TEXTS = [
    "123-45-6789", "a123-45-6789", "-123-45-6789", "x 123 45 6789 y", "123456789", "ssn:123456789.",
    "4111 1111 1111 1111", "x4111111111111111", "-4111-1111-1111-1111", "card 5500-0000-0000-0004!",
    "192.168.1.10", ".192.168.1.10", "v1.192.168.1.10", "ip 10.0.0.1/24 and 300.1.1.1", "1.2.3.4.5",
    "2024-01-31", "x2024-01-31", "/2024-01-31", "1999-12-01T10:20:30 ok", "2019/7/4", "on 2031/12/31.",
    "1024-01-01", "2912-01-01", "12 Main Street", "a12 Main Street", "-12 Main St, Springfield, IL 62704",
    "1234567 Elm Road", "١٢٣-٤٥-٦٧٨٩", "x\n123-45-6789", "Ⅻ 123-45-6789", "\n2024-02-02\n",
    "March 3, 1990", "born 3rd of march 1990", "xMarch 2020", "dec 2020.", "12345678901", "-123456789 ok",
    "dl D1234567", "passport X12345678", "zip 90210-1234", "a90210", "5 MAY 1999",
]  # fmt: skip

REWRITTEN = [
    (finance.CARD, r"(?<![\w-])(?:[2-6]\d{3})(?:[ -]?\d{2,4}){2,4}(?:[ -]?\d{1,4})?(?![\w]|-\d)"),
    (us_ids.SSN_DASHED, r"(?<![\w-])\d{3}([- ])\d{2}\1\d{4}(?![\w]|-\d)"),
    (us_ids.SSN_PLAIN, r"(?<![\w-])\d{9}(?![\w-])"),
    (network.IPV4, r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?:/\d{1,2})?(?![\w]|\.\d)"),
    (address.US_STREET, address.US_STREET.replace(r"\d(?<![\w-]\d)\d{0,5}", r"(?<![\w-])\d{1,6}", 1)),
    (dates.NUMERIC[0][0], rf"(?<![\w./-]){dates._Y}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
                          r"(?:[T ]\d{2}:\d{2}(?::\d{2})?)?(?![\w-])"),
    (dates.NUMERIC[1][0], rf"(?<![\w./-]){dates._Y}/{dates._M}/{dates._D}(?![\w/])"),
    # a look-ahead on the first character lets the engine reject other positions with one class test
    (finance.BANK, finance.BANK.replace(r"(?=\d)", "", 1)),
    (address.ZIP, address.ZIP.replace(r"(?=\d)", "", 1)),
    (us_ids.DL, us_ids.DL.replace(r"(?=[A-Z\d])", "", 1)),
    (us_ids.PASSPORT, us_ids.PASSPORT.replace(r"(?=[A-Z\d])", "", 1)),
    *((p, p.replace(r"(?=[JFMASOND])", "", 1).replace(r"(?=\d)", "", 1)) for p, _ in dates.WRITTEN),
]  # fmt: skip


@pytest.mark.parametrize("fast,plain", REWRITTEN)
def test_rewritten_regexes_match_like_their_plain_form(fast: str, plain: str) -> None:
    assert fast != plain
    for flags in (0, re.IGNORECASE):
        rf, rp = re.compile(fast, flags), re.compile(plain, flags)
        for text in EDGE_TEXTS:
            for pos in range(min(len(text), 4)):  # a search from an offset still sees the text before it
                spans = [m.span() for m in rf.finditer(text, pos)]
                assert spans == [m.span() for m in rp.finditer(text, pos)], text
    rp = re.compile(plain, re.IGNORECASE)
    hits = sum(1 for t in EDGE_TEXTS if rp.search(t))
    assert hits > 0  # the edge texts exercise every pattern


def test_keyword_gate_never_rejects_a_case_insensitive_match() -> None:
    words = ("password", "api key", "dob", "città")
    ctx = context_regex(words)
    keys = context_keys(words)
    assert keys == ("api", "città", "dob", "password")
    texts = ["PASSWORD: x", "Api\n  Key here", "d.o.b none", "CITTÀ", "paſſword", "DOB", "no words here",
             "İstanbul dob", "pass word"]  # fmt: skip
    for t in texts:
        if ctx.search(t):
            assert may_contain(t, keys), t
    assert not may_contain("no words here", keys)
    assert may_contain("paſſword", ("password",))  # re folds ſ to s, str.lower does not: no verdict


def test_secret_prefilter_agrees_with_the_regex_prefilter() -> None:
    rec = secrets.SecretRecognizer()
    texts = ["plain prose about the weather", "my PIN is 1234", "ACdeadbeef", "acdeadbe", "sk_live_abc",
             "https://user:pw@host", "ftp://host/a:b", "Pass Phrase", "passphrase", "contraseña: x", "Clé privée",
             "SKabcdef12", "shipping soon", "ſecret", "AUTHORIZATION", "ABIA1234567890ABCDEF"]  # fmt: skip
    for t in texts:
        assert rec._prefilter(t) == bool(rec._pre.search(t)), t


def test_secret_formats_subset_finds_what_all_formats_find() -> None:
    every = re.compile("|".join(f"(?:{p})" for p in secrets.KEY_FORMATS))
    samples = [
        "AKIAIOSFODNN7EXAMPLE and ghp_" + "a" * 36, "token=xoxb-1234567890-abcdefghij", "AC" + "0" * 32,
        "SK" + "f" * 32 + " sk-proj-" + "x" * 30, "eyJhbGciOiJIUzI1.eyJzdWIiOiIxMjM0.abcdefghijk",
        "postgres://admin:hunter22@db.local", "-----BEGIN RSA PRIVATE KEY-----\nabc\n-----END RSA PRIVATE KEY-----",
        "AIza" + "b" * 35, "hf_" + "c" * 34, "nothing here",
    ]  # fmt: skip
    for t in samples:
        present = tuple(i for i, lits in enumerate(secrets.FORMAT_LITERALS) if any(lit in t for lit in lits))
        got = [m.span() for m in secrets._formats(present).finditer(t)] if present else []
        assert got == [m.span() for m in every.finditer(t)], t
    # every format's literal really is in each of its matches
    for fmt, lits in zip(secrets.KEY_FORMATS, secrets.FORMAT_LITERALS, strict=True):
        for t in samples:
            for m in re.finditer(fmt, t):
                assert any(lit in m.group() or lit in t[max(0, m.start() - 3) : m.end()] for lit in lits), fmt


@pytest.mark.parametrize(
    "text",
    ["Hi Anna,\nthanks", "MY NAME IS Jan de Vries", "Regards,\n  Maria Rossi", "this is Ana. - Bob", "From: x\n> Lena",
     "I'm Tom and I AM Eva", "Name :Piet", "ciao LUCA"],
)  # fmt: skip
def test_lowercase_cue_scan_matches_the_case_insensitive_one(text: str) -> None:
    assert text.isascii()
    got = [(m.start(), m.end()) for m in names._STRONG_LOW.finditer(text.lower())]
    assert got == [(m.start(), m.end()) for m in names._STRONG.finditer(text)]
    for end in range(len(text) + 1):  # weak cues ending at every position
        fast = names._WEAK_END_LOW.search(text.lower(), 0, end)
        plain = names._WEAK_END.search(text, 0, end)
        assert (fast and fast.span()) == (plain and plain.span()), (text, end)


def _corpus() -> list[str]:
    from privtune.sample.tickets import generate_tickets

    out = list(EDGE_TEXTS)
    for rec, _gold in generate_tickets(150, 99):
        out += [rec["prompt"], rec["completion"]]
    out += ["Via Roma, 12\n00184 Roma", "Hauptstraße 5", "PO Box 12", "Unit 4021 Box 2231, DPO AE 09498",
            "born 03/04/1985 and 12.31.99", "fe80::1 and ::", "see www.example.org/x", "1 rue de la Paix, 75002 Paris"]
    return out


def test_pattern_gates_pass_wherever_the_pattern_matches() -> None:
    from privtune.pii.config import PiiConfig
    from privtune.pii.recognizers import build_recognizers
    from privtune.pii.recognizers.base import PatternRecognizer

    corpus = _corpus()
    checked = 0
    for rec in build_recognizers(PiiConfig(entities=[*PiiConfig().entities, "ZIP_CODE", "AGE"])):
        if not isinstance(rec, PatternRecognizer):
            continue
        for rx, _base, gate in rec._compiled:
            for text in corpus:
                if rx.search(text):
                    passed = gate.search(text) is not None if isinstance(gate, re.Pattern) else (
                        not gate or may_contain(text, gate))
                    assert passed, (rec.name, rx.pattern[:40], text[:80])
                    checked += 1
        if rec._ctx is not None:
            for text in corpus:
                if rec._ctx.search(text):
                    assert may_contain(text, rec._ctx_keys), (rec.name, text[:80])
    assert checked > 100


def test_claimed_ranges_do_not_change_the_result() -> None:
    """A phone candidate on a range a certain card / IP span holds is skipped, never changing output."""
    from privtune.pii.analyzer import Analyzer, resolve_overlaps
    from privtune.pii.config import PiiConfig

    cfg = PiiConfig()
    cfg.ner.model = "none"
    analyzer = Analyzer(cfg)
    phone = analyzer._last[0]
    for text in [*_corpus(), "card 4111 1111 1111 1111 or call 4111 1111 1111 1111", "host 109.32.73.30"]:
        others = [s for r in analyzer.recognizers if r is not phone for s in r.analyze(text)]
        plain = analyzer._finish(text, others + phone.analyze(text))
        assert analyzer.analyze(text) == plain, text[:80]
        assert resolve_overlaps(plain) == plain
