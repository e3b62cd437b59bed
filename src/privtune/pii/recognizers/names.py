"""PERSON without a model: name lists plus the places people write names.

Rules, strongest first (a statistical NER model misses exactly these: non-English, lower-case and
all-caps names, "LAST, First", names alone in a signature):
- cue + name: "my name is", "Name:", "From:", "I'm", "this is", "account holder", "address it to",
  greetings and sign-offs ("Hi Anna,", "Regards,\\nAnna Berg", "Thanks, Anna", "- Anna");
- e-mail correlation: words equal to a part of an e-mail local part in the same text
  ("Richard" ... "richard.moore@...");
- list pairs: a known first name followed by a known last name (Title Case or ALL CAPS), and
  "LAST, First";
- a known first name alone at the very end of a text (a signature).
A single capitalized word is never a name on its own: sentence starts, products and places are not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from itertools import compress

from privtune.pii.config import PiiConfig
from privtune.pii.gazetteer import AMBIGUOUS, STOPWORDS, first_names, last_names
from privtune.pii.gazetteer import fold as _fold_any
from privtune.pii.recognizers.base import lowered, may_match, prefilter_hits
from privtune.pii.span import Span

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
# The same on ASCII text (letters are A-Z, a-z there), without Unicode category look-ups: 35% faster.
_WORD_ASCII = re.compile(r"[A-Za-z]+(?:['-][A-Za-z]+)*")
_PARTICLES = frozenset({"van", "von", "de", "der", "den", "del", "della", "di", "da", "du", "la", "le", "ten", "ter",
                        "dos", "das", "y", "zu", "mac", "st"})  # fmt: skip
# Strong cues: what follows is a name even when it is in no list (capitalized) or lower case (listed).
_STRONG_CUES = (
    r"my name is|my name's|name\s*:|from\s*:|owner\s*:|customer\s*:|contact\s*:|signed\s*:?"
    r"|account holder|card ?holder|address(?:ed)? it to|this is|je m'appelle|ich bin|ich heiße"
    r"|me llamo|mi chiamo|ik ben|mijn naam is|mein name ist|mi nombre es"
)
# Weak cues: what follows is a name only when its first word is a listed first name.
_WEAK_CUES = (
    r"i'm|i am|hi|hello|hey|dear|bonjour|hallo|hola|ciao|buongiorno|hoi|gift for"
    r"|neighbou?r|for|with|thanks|thank you|cheers|regards|best|sincerely|danke|merci"
    r"|gracias|grazie|groeten|bedankt|saludos|cordialement|grüße|gruß|saluti|wrote"
)
_WEAK_TAIL = r"[ \t]*,?[ \t]*\n?[ \t]*|(?:^|\n)[ \t]*(?:-|—|–|>[ >]*)?[ \t]*|[.!?)][ \t]+(?:-|—|–)[ \t]*"
_STRONG = re.compile(rf"(?i:\b(?:{_STRONG_CUES}))[ \t]*")
# The same on lower-cased ASCII text without IGNORECASE (identical matches there): a case-sensitive
# alternation of literals lets the regex engine skip non-starting characters, 3-4x faster.
_STRONG_LOW = re.compile(rf"\b(?:{_STRONG_CUES})[ \t]*")
# Weak cues, ending where the search window ends (a name's first letter): searched only in a short
# window before each capitalized listed first name, case-insensitively or on lower-cased ASCII text.
_WEAK_END = re.compile(rf"(?:(?i:\b(?:{_WEAK_CUES})){_WEAK_TAIL})\Z")
_WEAK_END_LOW = re.compile(rf"(?:\b(?:{_WEAK_CUES}){_WEAK_TAIL})\Z")
#: Characters a weak cue's tail is made of (walked back over before the window starts) and the
#: longest cue word or punctuation before them, plus slack.
_CUE_GAP = frozenset(" \t\n,->—–")
_CUE_REACH = 16
_DOMAIN = re.compile(r"[\w-]+(?:\.[\w-]+)+")
_LOCAL_SPLIT = re.compile(r"[._+\-\d]+")
_LAST_FIRST = re.compile(r"\b([A-ZÀ-Þ][A-ZÀ-Þ'’-]+), ([A-ZÀ-Þ][a-zß-ÿ'’-]+)\b")


def fold(w: str) -> str:
    """`gazetteer.fold`: on ASCII words that is `lower()`, which costs less than its cache look-up."""
    return w.lower() if w.isascii() else _fold_any(w)


def _style(w: str) -> str:
    if w.isupper() and len(w) > 1:
        return "U"
    if w[0].isupper() and (len(w) == 1 or not w[1:].isupper()):
        return "T"
    return "L" if w.islower() else "X"


class NameRecognizer:
    name = "person_rules"
    entity_types = ("PERSON",)
    needs = "any"

    def __init__(self) -> None:
        #: prefilter ids of the strong-cue and "LAST, First" regexes (see `privtune.pii.prefilter`);
        #: the other rules need no regex, so the analyzer never skips this recognizer as a whole
        self.prefilter_ids: list[int | None] = [None, None]
        self.prefilter_complete = False
        self.first = first_names()
        self.last = last_names()
        self._first_memo: dict[str, bool] = {}

    def prefilter_patterns(self) -> list[tuple[str, int]]:
        return [(_STRONG.pattern, 0), (_LAST_FIRST.pattern, 0)]

    # -- helpers -----------------------------------------------------------------------------
    def is_first(self, w: str) -> bool:
        """Whether `w` is a listed first name; memoised on the raw word (one dict look-up per token)."""
        hit = self._first_memo.get(w)
        if hit is None:
            fw = fold(w)
            hit = fw in self.first or ("-" in fw and all(p in self.first for p in fw.split("-") if p))
            if len(self._first_memo) >= 200_000:
                self._first_memo.clear()
            self._first_memo[w] = hit
        return hit

    def is_last(self, w: str) -> bool:
        fw = fold(w)
        return fw in self.last or ("-" in fw and all(p in self.last or p in self.first for p in fw.split("-") if p))

    def _tokens(self, text: str, words: list[str]) -> list[tuple[int, int, str]]:
        """(start, end, word) of each `_WORD` match, from the words `findall` gave.

        Each word is found with `str.find` from the end of the previous one: the gap between two
        matches holds no letter, and a word starts with one, so the first occurrence is the match."""
        toks = []
        pos = 0
        find = text.find
        for w in words:
            start = find(w, pos)
            pos = start + len(w)
            toks.append((start, pos, w))
        return toks

    def _run(self, text: str, toks: list[tuple[int, int, str]], i: int, styles: str, listed_only: bool) -> int:
        """Index after the longest name run starting at token i (at most 4 words on one line)."""
        j = i + 1
        style = _style(toks[i][2])
        while j < len(toks) and j - i < 4:
            gap = text[toks[j - 1][1] : toks[j][0]]
            w = toks[j][2]
            if gap != " ":
                break
            fw = fold(w)
            if fw in _PARTICLES and j + 1 < len(toks) and text[toks[j][1] : toks[j + 1][0]] == " ":
                j += 1
                continue
            st = _style(w)
            if st not in styles or (style in "TU" and st != style and not (style == "T" and st == "U")):
                break
            if fw in STOPWORDS:
                break
            if listed_only and not (self.is_last(w) or self.is_first(w)):
                break
            j += 1
        while j > i + 1 and fold(toks[j - 1][2]) in _PARTICLES:
            j -= 1
        return j

    def analyze(self, text: str) -> list[Span]:
        # Every rule needs a listed first name, a strong cue, an "@" or a "LAST, First" shape: texts
        # with none of them (most prose, code, numbers) stop here, before the tokens are built.
        words = (_WORD_ASCII if text.isascii() else _WORD).findall(text)  # the tokens' strings
        if not words:
            return []
        memo = self._first_memo
        listed = list(map(memo.get, words))
        if None in listed:
            for k, hit in enumerate(listed):
                if hit is None:
                    listed[k] = self.is_first(words[k])
        firsts = list(compress(range(len(words)), listed))
        hits = prefilter_hits(text)
        ids = self.prefilter_ids
        low = lowered(text) if text.isascii() else None  # `lowered` is shared with the other recognizers
        strong = []
        if may_match(hits, ids[0]):
            strong = list(_STRONG_LOW.finditer(low) if low is not None else _STRONG.finditer(text))
        last_first = []
        if may_match(hits, ids[1]):
            last_first = list(_LAST_FIRST.finditer(text))
        if not (firsts or strong or last_first or "@" in text):
            return []
        toks = self._tokens(text, words)
        at: dict[int, int] = {}  # token index by start offset, filled at the first cue match
        out: list[Span] = []

        def emit(i: int, j: int, score: float, rule: str) -> None:
            out.append(Span(toks[i][0], toks[j - 1][1], "PERSON", score, rule))

        # 1. strong cues: capitalized run, or a listed lower-case name
        for m in strong:
            if not at:
                at = {s: k for k, (s, _, _) in enumerate(toks)}
            i = at.get(m.end())
            if i is None:
                continue
            w = toks[i][2]
            st, fw = _style(w), fold(w)
            if fw in STOPWORDS:
                continue
            if st in "TU":
                j = self._run(text, toks, i, "TU", listed_only=False)
                emit(i, j, 0.85 if (self.is_first(w) or self.is_last(toks[j - 1][2])) else 0.7, "person_cue")
            elif st == "L" and self.is_first(w):
                j = self._run(text, toks, i, "L", listed_only=True)
                emit(i, j, 0.75, "person_cue")
        # 2. weak cues (greetings, sign-offs, line starts): the first word must be a listed first name,
        #    so texts without a capitalized listed first name skip the scan
        #    ending right where the name starts (the leftmost such cue: a worded one before a line start)
        src, weak = (low, _WEAK_END_LOW) if low is not None else (text, _WEAK_END)
        for i in firsts:
            start, _e, w = toks[i]
            if _style(w) not in "TU":
                continue
            k = start
            while k > 0 and src[k - 1] in _CUE_GAP:
                k -= 1
            m = weak.search(src, max(0, k - _CUE_REACH), start)
            if m is None:
                continue
            j = self._run(text, toks, i, "TU", listed_only=True)
            if j == i + 1 and fold(w) in AMBIGUOUS and not any(c.isalpha() for c in m.group()):
                continue  # "Grace period ..." at a line start: an ambiguous word needs a worded cue
            emit(i, j, 0.75, "person_cue")
        # 3. listed pairs anywhere: First Last (Title or ALL CAPS; lower case when the first name is
        #    unambiguous), and LAST, First; two ambiguous words ("Grace Baker") need a cue
        for i in firsts:
            if i == len(toks) - 1:
                break
            w = toks[i][2]
            st = _style(w)
            if st == "X" or fold(w) in STOPWORDS:
                continue
            if st == "L" and fold(w) in AMBIGUOUS:
                continue
            j = self._run(text, toks, i, "L" if st == "L" else "TU", listed_only=True)
            lw = toks[j - 1][2]
            if j > i + 1 and self.is_last(lw) and not (fold(w) in AMBIGUOUS and fold(lw) in AMBIGUOUS):
                emit(i, j, 0.7 if st == "L" else 0.85, "person_list")
        for m in last_first:
            if self.is_last(m.group(1)) and self.is_first(m.group(2)):
                out.append(Span(m.start(), m.end(), "PERSON", 0.9, "person_list"))
        # 4. e-mail correlation: words that spell a part of an e-mail local part
        if "@" in text:
            self._email_names(text, toks, out)
        # 5. a listed first name that ends the text after a sentence end or a line break
        s, e, w = toks[-1]
        if e == len(text.rstrip(" .!")) and _style(w) == "T" and self.is_first(w) and fold(w) not in STOPWORDS:
            before = text[:s].rstrip(" \t")
            if before.endswith(("\n", ".", "!", "?", ",")) or not before:
                out.append(Span(s, e, "PERSON", 0.7, "person_cue"))
        return _merge(out)

    def _email_names(self, text: str, toks: list[tuple[int, int, str]], out: list[Span]) -> None:
        parts: set[str] = set()
        inside: list[tuple[int, int]] = []
        for start, end, local in _emails(text):
            inside.append((start, end))
            parts.update(p for p in _LOCAL_SPLIT.split(fold(local)) if len(p) >= 3)
        if not parts:
            return
        # each distinct word is folded once (a ticket repeats its words)
        spelled = {w for w in {t[2] for t in toks} if (fw := fold(w)) in parts and fw not in STOPWORDS}
        if not spelled:
            return
        hits = [k for k, (s, _e, w) in enumerate(toks) if w in spelled and not any(a <= s < b for a, b in inside)]
        k = 0
        while k < len(hits):
            i = hits[k]
            j = i + 1
            while k + 1 < len(hits) and hits[k + 1] == j and text[toks[j - 1][1] : toks[j][0]] in (" ", ", "):
                j += 1
                k += 1
            w = toks[i][2]
            listed = any(self.is_first(t[2]) or self.is_last(t[2]) for t in toks[i:j])
            if j - i >= 2 or (_style(w) in "TU" and listed):
                out.append(Span(toks[i][0], toks[j - 1][1], "PERSON", 0.85 if j - i >= 2 else 0.7, "person_email"))
            k += 1


_LOCAL_RUN = re.compile(r"[\w.+-]*")


def _emails(text: str) -> Iterator[tuple[int, int, str]]:
    """(start, end, local part) of each match of `([\\w.+-]+)@[\\w-]+(?:\\.[\\w-]+)+`, as
    `finditer` gives them, found from the "@" signs: the regex itself tries every start position
    inside every word run of the text and costs 15 µs a ticket. The local part is the run of local
    characters before the "@", back to the end of the previous match; the domain must follow the
    "@" directly."""
    prev_end = 0
    at = text.find("@")
    rev = text[::-1] if at >= 0 else ""  # the local part, read backwards from the "@" in one match
    while at >= 0:
        run = _LOCAL_RUN.match(rev, len(text) - at).end() - (len(text) - at)
        start = max(prev_end, at - run)
        dom = _DOMAIN.match(text, at + 1) if start < at else None
        if dom is not None:
            yield start, dom.end(), text[start:at]
            prev_end = dom.end()
            at = text.find("@", prev_end)
        else:
            at = text.find("@", at + 1)


def _merge(spans: list[Span]) -> list[Span]:
    """One span per name: overlapping rule hits become their union with the best score."""
    spans.sort(key=lambda s: (s.start, -s.end))
    out: list[Span] = []
    for s in spans:
        if out and s.start < out[-1].end:
            last = out[-1]
            best = last if last.score >= s.score else s
            out[-1] = Span(last.start, max(last.end, s.end), "PERSON", best.score, best.recognizer)
        else:
            out.append(s)
    return out


def recognizers(cfg: PiiConfig) -> list[NameRecognizer]:
    return [NameRecognizer()]
