"""SECRET: provider key formats, private key blocks, JWTs, credentials in URLs, passwords after a
context word, and high-entropy tokens next to a context word (key, token, secret...)."""

from __future__ import annotations

import functools
import math
import re
from collections import Counter

from privtune.pii.config import PiiConfig
from privtune.pii.recognizers.base import (
    ANY,
    PatternRecognizer,
    context_keys,
    context_regex,
    lowered,
    may_contain,
    may_match,
    prefilter_hits,
)
from privtune.pii.span import Span

# Provider formats are specific enough to need no context (score 1.0 when the shape matches).
KEY_FORMATS = [
    r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z0-9]{16}(?![A-Z0-9])",  # AWS key id
    r"\bgh[pousr]_[A-Za-z0-9]{30,255}\b",  # GitHub tokens
    r"\bgithub_pat_[A-Za-z0-9_]{40,255}\b",
    r"\bglpat-[A-Za-z0-9_-]{20,}\b",  # GitLab
    r"\bxox[abposr]-[A-Za-z0-9-]{10,}\b",  # Slack tokens
    r"https://hooks\.slack\.com/services/[A-Za-z0-9/_-]{20,}",
    r"\b(?:sk|rk|pk|whsec)_(?:live|test)_[A-Za-z0-9]{10,}\b",  # Stripe
    r"\bAIza[0-9A-Za-z_-]{35}\b",  # Google API key
    r"\bya29\.[0-9A-Za-z_-]{20,}\b",  # Google OAuth token
    r"\bsk-(?:proj-|ant-|live-)?[A-Za-z0-9_-]{20,}\b",  # OpenAI / Anthropic style
    r"\bhf_[A-Za-z0-9]{30,}\b",  # Hugging Face
    r"\bnpm_[A-Za-z0-9]{36}\b",
    r"\bpypi-AgE[A-Za-z0-9_-]{50,}\b",
    r"\bSG\.[A-Za-z0-9_-]{16,32}\.[A-Za-z0-9_-]{16,64}\b",  # SendGrid
    r"\b(?:AC|SK)[0-9a-f]{32}\b",  # Twilio
    r"\bdop_v1_[a-f0-9]{64}\b",  # DigitalOcean
    r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b",  # Shopify
    r"\bAccountKey=[A-Za-z0-9+/=]{40,100}",  # Azure storage
    r"\b(?:EAACEdEose0cBA|EAA[A-Za-z0-9]{2})[A-Za-z0-9]{80,}\b",  # Facebook
    r"-----BEGIN (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?-----END (?:[A-Z]+ )*PRIVATE KEY(?: BLOCK)?-----",
    r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\b",  # JWT
    r"(?<=://)[^\s:/@]{1,64}:[^\s:/@]{3,128}(?=@[\w.-]+)",  # user:password@host
]
#: Literals (case as written) one of which every match of the format at the same index contains.
FORMAT_LITERALS = (
    ("AKIA", "ASIA", "ABIA", "ACCA", "AGPA", "AIDA", "AROA", "ANPA", "ANVA", "AIPA"), ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
    ("github_pat_",), ("glpat-",), ("xox",), ("https://hooks.slack.com/services/",), ("_live_", "_test_"), ("AIza",),
    ("ya29.",), ("sk-",), ("hf_",), ("npm_",), ("pypi-AgE",), ("SG.",), ("AC", "SK"), ("dop_v1_",), ("shp",),
    ("AccountKey=",), ("EAA",), ("PRIVATE KEY",), ("eyJ",), ("://",),
)  # fmt: skip
_ANY_FORMAT_LITERAL = re.compile("|".join(sorted({re.escape(lit) for lits in FORMAT_LITERALS for lit in lits})))
# The prefilter: any rule needs one of these (matched ignoring case) ...
_PRE_LITERALS = (
    "akia", "asia", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat", "glpat", "xox", "hooks.slack", "_live_",
    "_test_", "aiza", "ya29", "sk-", "hf_", "npm_", "pypi-", "sg.", "dop_v1", "shp", "accountkey", "eaa",
    "private key", "eyj", "password", "passwd", "passwort", "pwd", "passcode", "pin", "mot de passe", "contraseña",
    "key", "token", "secret", "bearer", "auth", "credential", "signature", "session",
)  # fmt: skip
# ... or matches one of these shapes (searched only when their own literal is in the text).
_PRE_SHAPES = re.compile(r"AC[0-9a-f]{8}|SK[0-9a-f]{8}|://[^\s/@]+:[^\s/@]+@|pass\s?phrase", re.IGNORECASE)
_PRE_SHAPE_LITERALS = ("ac", "sk", "://", "pass")
PASSWORD_WORDS = r"(?:password|passwd|passwort|pwd|passcode|pass\s?phrase|pin|mot de passe|contraseña)"
PASSWORD = (
    rf"(?i:\b{PASSWORD_WORDS})\b(?:\s+(?:is|was|=|:)|\s*[:=])\s*[\"'`]?(?P<v>[^\s\"'`]{{4,64}}?)[\"'`]?(?=[\s,;)]|[.!?](?:\s|$)|$)"
)
#: Literals one of which each password word contains ("pass" covers password, passwd, pass phrase...).
_PASSWORD_KEYS = ("pass", "pwd", "pin", "contraseña")
_STOP = {
    "reset", "changed", "expired", "required", "incorrect", "wrong", "invalid", "correct", "protected", "please",
    "forgotten", "missing", "blank", "empty", "updated", "same", "still", "strong", "weak", "needed", "hidden",
    "none", "null", "true", "false", "your", "the", "that", "this", "not", "being", "also", "here", "there",
}  # fmt: skip
TOKEN = re.compile(r"(?<![\w+/=-])[A-Za-z0-9+/_=.-]{20,200}(?![\w+/=-])")
SECRET_CONTEXT = (
    "key", "api key", "apikey", "api_key", "token", "secret", "bearer", "auth", "authorization", "credential",
    "credentials", "access key", "access_key", "secret_key", "client secret", "private", "signature", "session",
    "aws_secret_access_key", "secret_access_key", "client_secret", "auth_token", "access_token", "api_token",
    "private_key", "secret_key_base", "refresh_token",
)  # fmt: skip


def shannon_entropy(s: str) -> float:
    n = len(s)
    return -sum(c / n * math.log2(c / n) for c in Counter(s).values())


class SecretRecognizer:
    """Provider formats in one compiled alternation, then password and entropy rules."""

    name = "secret"
    entity_types = ("SECRET",)
    needs = ANY

    def __init__(self) -> None:
        self._password = re.compile(PASSWORD)
        self._ctx = context_regex(SECRET_CONTEXT)
        self._ctx_keys = context_keys(SECRET_CONTEXT)
        # prefilter: words and shapes that every rule needs; plain prose skips all regexes
        self._pre = re.compile(
            r"AKIA|ASIA|gh[pousr]_|github_pat|glpat|xox|hooks\.slack|_live_|_test_|AIza|ya29|sk-|hf_|npm_|pypi-|SG\."
            r"|AC[0-9a-f]{8}|SK[0-9a-f]{8}|dop_v1|shp|AccountKey|EAA|PRIVATE KEY|eyJ|://[^\s/@]+:[^\s/@]+@"
            r"|" + PASSWORD_WORDS + r"|key|token|secret|bearer|auth|credential|signature|session",
            re.IGNORECASE,
        )
        #: prefilter ids of the key formats, the password rule, the token shape and `_pre` (see `analyze`)
        self.prefilter_ids: list[int | None] = [None] * (len(KEY_FORMATS) + 3)

    def prefilter_patterns(self) -> list[tuple[str, int]]:
        """Each key format, the password rule, the high-entropy token shape and the prefilter regex
        (a plain alternation without look-arounds, which Hyperscan matches exactly where `re` does)."""
        return [(p, 0) for p in KEY_FORMATS] + [(PASSWORD, 0), (TOKEN.pattern, 0), (self._pre.pattern, re.IGNORECASE)]

    def _prefilter(self, text: str) -> bool:
        """Same verdict as `self._pre.search(text)`, mostly from substring tests on the lower-cased text."""
        if not text.isascii() and any(c in text for c in ("ı", "İ", "ſ")):
            return bool(self._pre.search(text))
        low = lowered(text)
        if may_contain(text, _PRE_LITERALS, low):
            return True
        return may_contain(text, _PRE_SHAPE_LITERALS, low) and bool(_PRE_SHAPES.search(text))

    def analyze(self, text: str) -> list[Span]:
        hits = prefilter_hits(text)
        ids = self.prefilter_ids
        n = len(KEY_FORMATS)
        pre = ids[n + 2]
        if hits is not None and pre is not None:  # Hyperscan answers `_pre` exactly: no substring tests
            if pre not in hits:
                return []
        elif not self._prefilter(text):
            return []
        # only the formats whose literal is in the text can match, and of those only the ones the
        # prefilter reports: the alternation of those finds the same matches as the alternation of
        # all (a format that matches nowhere in the text never wins a position)
        if hits is not None and None not in ids[:n]:
            present = tuple(i for i in range(n) if ids[i] in hits)
        elif _ANY_FORMAT_LITERAL.search(text):
            present = tuple(
                i for i, lits in enumerate(FORMAT_LITERALS) if may_match(hits, ids[i]) and any(lit in text for lit in lits)
            )
        else:
            present = ()
        run_password = may_match(hits, ids[n])
        run_token = may_match(hits, ids[n + 1])
        out = []
        if present:
            out = [Span(m.start(), m.end(), "SECRET", 1.0, "secret_format") for m in _formats(present).finditer(text)]
        low = lowered(text)
        for m in self._password.finditer(text) if run_password and may_contain(text, _PASSWORD_KEYS, low) else ():
            v = m.group("v")
            if v.lower() in _STOP:
                continue
            sep_word = not re.search(r"[:=]", text[m.start() : m.start("v")])
            if sep_word and not (re.search(r"[\d\W_]", v) or (v != v.lower() and v != v.capitalize())):
                continue  # "password is expired": a plain word after is/was is not a secret
            out.append(Span(m.start("v"), m.end("v"), "SECRET", 0.9, "password"))
        ctx = self._ctx if may_contain(text, self._ctx_keys, low) else None
        for m in TOKEN.finditer(text) if run_token and ctx is not None else ():  # no context word: none
            if _near(ctx, text, m.start(), m.end()) and _looks_random(m.group()):
                out.append(Span(m.start(), m.end(), "SECRET", 0.8, "high_entropy"))
        return out


@functools.lru_cache(maxsize=256)
def _formats(indices: tuple[int, ...]) -> re.Pattern[str]:
    """One compiled alternation of the key formats at `indices`, in their order."""
    return re.compile("|".join(f"(?:{KEY_FORMATS[i]})" for i in indices))


def _looks_random(tok: str) -> bool:
    if tok.count(".") > 2 or tok.count("/") > 3 or "-" * 2 in tok:
        return False
    classes = sum((any(c.isdigit() for c in tok), any(c.islower() for c in tok), any(c.isupper() for c in tok)))
    if all(c in "0123456789abcdefABCDEF" for c in tok):
        return len(tok) >= 32 and shannon_entropy(tok) >= 3.0
    return classes >= 2 and any(c.isdigit() for c in tok) and shannon_entropy(tok) >= 3.7


def _near(ctx: re.Pattern[str] | None, text: str, start: int, end: int) -> bool:
    from privtune.pii.recognizers.base import has_context

    return has_context(ctx, text, start, end, 40, 0)


def recognizers(cfg: PiiConfig) -> list[SecretRecognizer | PatternRecognizer]:
    return [SecretRecognizer()]
