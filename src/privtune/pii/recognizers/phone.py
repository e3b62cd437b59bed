"""PHONE_NUMBER: a cheap candidate regex, then `phonenumbers` decides.

Candidates are digit groups with phone-like separators. A number valid for its +country code, or
valid in one of the configured regions, scores 1.0; a merely *possible* number that is formatted like
a phone (separators or parentheses) scores 0.55 and needs context to clear a strict threshold; an
unformatted digit run needs validity *and* context, so ids and amounts in code are left alone.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from typing import Any

from privtune.pii.config import PiiConfig
from privtune.pii.recognizers.base import DIGIT, context_keys, context_regex, has_context, may_contain
from privtune.pii.span import Span

CANDIDATE = re.compile(
    # every candidate starts with "+", "(" or a digit: asserting it first lets the engine reject other
    # positions with one class test instead of the look-behind and three optional groups (-30%)
    r"(?=[+(\d])"
    r"(?<![\w+./-])"
    r"(?:(?:\+|00)\d{1,3}[ .-]?)?"
    r"(?:\(\d{1,5}\)[ .-]?)?"
    r"\d{1,14}(?:[ .-]\d{2,8}){0,5}"
    r"(?:\s?(?:x|ext\.?|extension)\s?\d{1,6})?"
    r"(?![\w@]|[.-]\d)",
    re.IGNORECASE,
)
CONTEXT = ("phone", "telephone", "tel", "cell", "mobile", "call", "fax", "whatsapp", "number", "contact", "reach")
_SEP = re.compile(r"[ .()-]")
# dates and the SSN's 3-2-4 grouping are never phone formats
_NOT_PHONE = re.compile(
    r"^\d{4}[-./]\d{1,2}[-./]\d{1,2}$|^\d{1,2}[-./]\d{1,2}[-./]\d{2,4}$|^\d{3}([- ])\d{2}\1\d{4}$"
)


# ids that look like numbers: "order 98080140", "invoice #12345678"
_ID_BEFORE = re.compile(r"(?i)\b(?:order|invoice|ticket|ref|reference|case|sku|tracking|account|acct|iban|id)\b[\s#:no.]{0,6}$")


_TRUNK = re.compile(r"0[1-9]\d{8,9}$")
_EXTENSION = re.compile(r"[xXeE]")
_NON_DIGIT = re.compile(r"\D+")


def _own_line(text: str, start: int, end: int) -> bool:
    line_start = text.rfind("\n", 0, start) + 1
    line_end = text.find("\n", end)
    return not text[line_start:start].strip() and not text[end : None if line_end < 0 else line_end].strip(" .")


class PhoneRecognizer:
    name = "phone"
    entity_types = ("PHONE_NUMBER",)
    needs = DIGIT
    #: the analyzer passes ranges already held by a certain span that outranks a phone (a card, an IP
    #: address): such candidates are skipped before `phonenumbers` runs
    takes_claimed = True

    def __init__(self, regions: list[str]) -> None:
        import phonenumbers  # noqa: F401 - imported here: only texts with digits pay for it

        self.regions = [r.upper() for r in regions] or ["US"]
        self._probes: list[tuple[str, str, list[re.Pattern[str]], frozenset[int]]] | None = None
        self._bounds: dict[str, Any] = {}
        self._ctx = context_regex(CONTEXT)
        self._ctx_keys = context_keys(CONTEXT)

    def warm_up(self) -> None:
        """Validate an example number of each configured region: `phonenumbers` compiles a region's
        patterns on first use (about 0.15 s over the default regions), better once before workers fork
        than in every worker on its first texts."""
        import phonenumbers
        from phonenumbers import PhoneNumberFormat, PhoneNumberType

        for region in self.regions:
            for kind in (PhoneNumberType.FIXED_LINE, PhoneNumberType.MOBILE):
                example = phonenumbers.example_number_for_type(region, kind)
                if example is None:
                    continue
                for fmt, parse_region in ((PhoneNumberFormat.NATIONAL, region), (PhoneNumberFormat.INTERNATIONAL, None)):
                    num = phonenumbers.parse(phonenumbers.format_number(example, fmt), parse_region)
                    phonenumbers.is_valid_number(num)
                    phonenumbers.is_possible_number(num)

    def _region_probes(self) -> list[tuple[str, str, list[re.Pattern[str]], frozenset[int]]]:
        """(region, national prefix, fixed-line and mobile number patterns, their lengths) from
        phonenumbers' metadata."""
        if self._probes is None:
            from phonenumbers import PhoneMetadata

            probes = []
            for region in self.regions:
                meta = PhoneMetadata.metadata_for_region(region)
                if meta is None:
                    continue
                descs = [d for d in (meta.fixed_line, meta.mobile) if d is not None and d.national_number_pattern]
                pats = [re.compile(d.national_number_pattern) for d in descs]
                lengths = frozenset(n for d in descs for n in (d.possible_length or ()))
                probes.append((region, meta.national_prefix or "", pats, lengths))
            self._probes = probes
        return self._probes

    def _likely_first(self, digits: str) -> list[str]:
        """The configured regions, those whose fixed-line or mobile pattern the digits fit first.

        `_score` asks every region until one finds the number valid, and its answer does not depend on
        the order; `phonenumbers.parse` costs 15-60 µs, so a number from the 6th region used to cost
        six parses. The fit here is a rough reading of the national number (the candidate's digits
        before any extension, trunk prefix stripped): a wrong guess only costs time."""
        first, rest = [], []
        for region, prefix, pats, lengths in self._region_probes():
            options = (digits, digits[len(prefix):]) if prefix and digits.startswith(prefix) else (digits,)
            fits = any(p.fullmatch(o) for o in options if not lengths or len(o) in lengths for p in pats)
            (first if fits else rest).append(region)
        # regions without metadata keep their place at the end, where `phonenumbers` rejects them
        known = set(first) | set(rest)
        return first + rest + [r for r in self.regions if r not in known]

    def _too_long_for(self, region: str, digits: str) -> bool:
        """Whether every national significant number `phonenumbers.parse(digits, region)` can arrive
        at is longer than any number length of the region's country code (then the number is neither
        valid nor possible there, and the ~60 µs parse is skipped).

        parse may strip the region's country code when the digits start with it, and its national
        prefix (`national_prefix_for_parsing`, a regex matched at the start) up to twice; every
        combination is tried here. Regions whose parsing can rewrite digits (a prefix transform rule)
        or reroute them (the digits start with the international dialling prefix) are never skipped."""
        bound = self._bounds.get(region, False)
        if bound is False:
            bound = self._bounds[region] = _length_bound(region)
        if bound is None:
            return False
        ccs, prefix_rx, idd_rx, max_len = bound
        if idd_rx is not None and idd_rx.match(digits):
            return False
        forms = {digits}
        if digits.startswith(ccs):
            forms.add(digits[len(ccs) :])
        if prefix_rx is not None:
            for _ in range(2):
                for f in list(forms):
                    m = prefix_rx.match(f)
                    if m:
                        forms.add(f[m.end() :])
        return min(map(len, forms)) > max_len

    @functools.lru_cache(maxsize=65536)  # noqa: B019 - one instance per process; numbers repeat
    def _score(self, cand: str) -> float:
        import phonenumbers

        n_digits = sum(c.isdigit() for c in cand)
        if n_digits < 7 or n_digits > 17 or _NOT_PHONE.match(cand):
            return 0.0
        formatted = bool(_SEP.search(cand)) or cand.startswith("+")
        intl = cand.startswith(("+", "00"))
        national = "".join(_NON_DIGIT.split(_EXTENSION.split(cand, 1)[0]))  # digits before an extension
        regions = [None] if cand.startswith("+") else ["US"] if intl else self._likely_first(national)
        possible = False
        bounded = region_bounds_apply(cand)  # then there is no extension: `national` is every digit
        for region in regions:
            if bounded and region is not None and self._too_long_for(region, national):
                continue  # phonenumbers would find it neither valid nor possible there
            try:
                num = phonenumbers.parse(cand if not cand.startswith("00") else "+" + cand[2:], region)
            except phonenumbers.NumberParseException:
                continue
            if _is_valid(num, region):
                return 1.0 if formatted else 0.45
            possible = possible or phonenumbers.is_possible_number(num)
        return 0.55 if possible and formatted else 0.0

    def analyze(self, text: str, claimed: Collection[tuple[int, int]] = ()) -> list[Span]:
        out = []
        # the context regex, decided at the first candidate; False when no context literal is in the text
        ctx_re: re.Pattern[str] | bool | None = None
        for m in CANDIDATE.finditer(text):
            cand = m.group()
            if not 7 <= sum(map(str.isdigit, cand)) <= 17:
                continue  # `_score` is 0 for these: skip the look-arounds
            start, end = m.span()
            if (start, end) in claimed:
                continue
            if ctx_re is None:
                ctx_re = self._ctx if may_contain(text, self._ctx_keys) else False
            if _ID_BEFORE.search(text, max(0, start - 16), start):
                continue
            ctx = None
            bare = cand[0] != "+" and not _SEP.search(cand)
            if bare:
                # an unformatted digit run is a phone next to a phone word, alone on its line (a
                # signature), or in national format with its trunk 0 ("0444566017"); ids are none of these
                ctx = bool(ctx_re and has_context(ctx_re, text, start, end, 40, 10)) or _own_line(text, start, end) or bool(
                    _TRUNK.match(cand))
                if not ctx:
                    continue
            score = self._score(cand)
            if score == 0.0:
                continue
            if score < 1.0 and (ctx or (ctx_re and has_context(ctx_re, text, start, end, 40, 10))):
                score = min(1.0, score + 0.35)
            out.append(Span(start, end, "PHONE_NUMBER", score, self.name))
        return out


@functools.cache
def _first_claimant(country_code: int) -> str | None:
    """The region `phonenumbers.region_code_for_number` tries first for a country code, when it
    claims a number by its number patterns alone (no leading-digits rule); None otherwise."""
    import phonenumbers
    from phonenumbers import PhoneMetadata

    regions = phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(country_code) or ()
    meta = PhoneMetadata.metadata_for_region(regions[0]) if regions else None
    return regions[0] if meta is not None and meta.leading_digits is None else None


def _is_valid(num: Any, region: str | None) -> bool:
    """`phonenumbers.is_valid_number(num)`, skipping its search over every region of the country
    code (+1 has 25) when the region the number was parsed for is the first one it tries and finds
    the number valid: the search would stop there with the same answer."""
    import phonenumbers

    first = region is not None and _first_claimant(num.country_code) == region
    if first and phonenumbers.is_valid_number_for_region(num, region):
        return True
    return phonenumbers.is_valid_number(num)


def region_bounds_apply(cand: str) -> bool:
    """The length bound holds for national numbers of ASCII digits and separators only (no "+", no
    "00", no extension letters, which phonenumbers may turn into digits; no other scripts' digits,
    which it normalizes before matching prefixes)."""
    return cand.isascii() and not cand.startswith(("+", "00")) and not any(c.isalpha() for c in cand)


def _length_bound(region: str) -> tuple[str, re.Pattern[str] | None, re.Pattern[str] | None, int] | None:
    """(country code, national prefix regex, international prefix regex, longest number length of
    any region sharing the country code) from phonenumbers' metadata; None where no bound holds."""
    import phonenumbers
    from phonenumbers import PhoneMetadata

    meta = PhoneMetadata.metadata_for_region(region)
    if meta is None or meta.national_prefix_transform_rule:
        return None
    lengths: list[int] = []
    for code in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.get(meta.country_code, ()):
        m = PhoneMetadata.metadata_for_region(code)
        if m is None:
            return None
        descs = [getattr(m, name, None) for name in _DESCS]
        for d in descs:
            if d is not None:
                lengths += [n for n in (*(d.possible_length or ()), *(d.possible_length_local_only or ())) if n > 0]
        if m.general_desc is None or not m.general_desc.possible_length:
            return None  # no length data: no bound
    if not lengths:
        return None
    prefix = re.compile(meta.national_prefix_for_parsing) if meta.national_prefix_for_parsing else None
    idd = re.compile(meta.international_prefix) if meta.international_prefix else None
    return str(meta.country_code), prefix, idd, max(lengths)


_DESCS = (
    "general_desc", "fixed_line", "mobile", "toll_free", "premium_rate", "shared_cost", "personal_number", "voip",
    "pager", "uan", "emergency", "voicemail", "short_code", "standard_rate", "carrier_specific", "sms_services",
    "no_international_dialling",
)  # fmt: skip


def recognizers(cfg: PiiConfig) -> list[PhoneRecognizer]:
    return [PhoneRecognizer(cfg.phone_regions)]
