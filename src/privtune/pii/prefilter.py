"""One pass over a text that says which built-in regexes can match in it (Hyperscan, when installed).

Most of a regex-only scan used to be spent running patterns that find nothing: a ticket holds an
e-mail and a phone number, yet every card, IBAN, SSN, IP, date, address and secret pattern whose
keyword gate lets the text through still scanned it. Hyperscan compiles all of them into one
automaton and scans the text once (~3 µs for a ticket). Each pattern is first translated
(`to_hyperscan`) into one that matches wherever the Python pattern matches and rarely elsewhere:
look-arounds at the edges are consumed, others dropped, back-references replaced by their group.
A pattern Hyperscan does not report therefore cannot match, and is skipped; the patterns it does
report run in Python's `re` exactly as before. Findings are identical with and without the
prefilter (tests compare both on sample tickets, generated texts and pattern by pattern).

Where the two regex dialects could disagree the prefilter says nothing (None: run every pattern):
- only ASCII text without control characters other than tab, CR and LF is prefiltered, so `\\w`,
  `\\d`, `\\s` and `\\b` mean the same in both engines (Python's `\\s` also matches \\x1c-\\x1f);
  classes keep only their ASCII members, which on such text matches the same characters;
- a pattern is left out (always run) when Hyperscan cannot compile it, when `to_hyperscan` does not
  know one of its constructs, or when it uses syntax the dialects read differently (`{,n}`, POSIX
  classes, `\\N`, numbered back-references above 9, letters such as ſ that Python's IGNORECASE
  folds onto ASCII ones);
- user regexes from `pii.custom` are never prefiltered.

Compiling takes ~0.65 s, so the compiled database is cached on disk (keyed by the source
patterns, the translation's version, Hyperscan's version and the machine) in `$PRIVTUNE_CACHE_DIR`,
else `$XDG_CACHE_HOME/privtune`, else `~/.cache/privtune`. A cache that cannot be written or read is
ignored (the database is compiled in memory).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path
from re import _constants as _c
from re import _parser
from typing import Any

#: Characters outside ASCII or control characters the two engines classify differently.
_UNSAFE_TEXT = re.compile(r"[^\t\n\r\x20-\x7e]")
#: Pattern syntax the two dialects read differently.
_UNSAFE_SYNTAX = re.compile(r"\{,|\[[^\]]*\[:\^?[a-z]+:\]|\\N|\\[1-9]\d|\(\?[aLu]")
#: Non-ASCII letters that Python's IGNORECASE folds onto ASCII ones: long s, Kelvin sign, dotless i, dotted I.
_FOLD_ONTO_ASCII = frozenset((0x17F, 0x212A, 0x131, 0x130))
#: Bumped whenever `to_hyperscan` or the Hyperscan flags change: part of the cache key.
_TRANSLATION_VERSION = 5
#: Repeats bounded above this are written unbounded for Hyperscan (long bounded repeats are slow there).
_MAX_BOUNDED_REPEAT = 20


def hyperscan_module() -> Any | None:
    try:
        import hyperscan
    except ImportError:
        return None
    return hyperscan


def prefilterable(pattern: str, flags: int) -> bool:
    """Whether `pattern` can be translated so that Hyperscan matches wherever Python does, on safe
    ASCII text (syntax both read alike, and a translation exists)."""
    return to_hyperscan(pattern, flags) is not None


# -- Python regex -> a Hyperscan expression that matches wherever the Python one does ----------------
_CATEGORY = {
    _c.CATEGORY_DIGIT: r"\d", _c.CATEGORY_NOT_DIGIT: r"\D", _c.CATEGORY_WORD: r"\w", _c.CATEGORY_NOT_WORD: r"\W",
    _c.CATEGORY_SPACE: r"\s", _c.CATEGORY_NOT_SPACE: r"\S",
}  # fmt: skip
_NEGATED_CATEGORY = {
    _c.CATEGORY_DIGIT: r"\D", _c.CATEGORY_NOT_DIGIT: r"\d", _c.CATEGORY_WORD: r"\W", _c.CATEGORY_NOT_WORD: r"\w",
    _c.CATEGORY_SPACE: r"\S", _c.CATEGORY_NOT_SPACE: r"\s",
}  # fmt: skip
_AT = {
    _c.AT_BEGINNING: "^", _c.AT_BEGINNING_STRING: r"\A", _c.AT_END: "$", _c.AT_END_STRING: r"\Z",
    _c.AT_BOUNDARY: r"\b", _c.AT_NON_BOUNDARY: r"\B",
}  # fmt: skip
_ONE_CHAR = (_c.LITERAL, _c.NOT_LITERAL, _c.IN, _c.CATEGORY)


class _Untranslatable(Exception):
    pass


def _char(code: int) -> str:
    if code in _FOLD_ONTO_ASCII:  # Python's IGNORECASE folds these onto ASCII letters, PCRE's does not
        raise _Untranslatable(code)
    ch = chr(code)
    if ch.isascii() and ch.isalnum():
        return ch
    return f"\\x{{{code:x}}}"


def _class_items(items: list) -> str:
    """A class's members, ASCII ones only: only ASCII text is prefiltered, where a class with or
    without its non-ASCII members (or their complement) matches the same characters; Unicode ranges
    (À-ÿ) are what makes Hyperscan's compile slow."""
    out = []
    for op, av in items:
        if op is _c.LITERAL:
            if av in _FOLD_ONTO_ASCII:
                raise _Untranslatable(av)
            if av < 0x80:
                out.append(_char(av))
        elif op is _c.RANGE:
            if any(av[0] <= c <= av[1] for c in _FOLD_ONTO_ASCII):
                raise _Untranslatable(op)
            if av[0] < 0x80:
                out.append(f"{_char(av[0])}-{_char(min(av[1], 0x7F))}")
        elif op is _c.CATEGORY and av in _CATEGORY:
            out.append(_CATEGORY[av])
        else:
            raise _Untranslatable(op)
    return "".join(out)


def _one_char(op: Any, av: Any, negate: bool) -> str:
    """A single-character matcher, or its complement."""
    if op is _c.LITERAL or op is _c.NOT_LITERAL:
        return f"[^{_char(av)}]" if negate == (op is _c.LITERAL) else _char(av)
    if op is _c.CATEGORY:
        return (_NEGATED_CATEGORY if negate else _CATEGORY)[av]
    negated = bool(av) and av[0][0] is _c.NEGATE
    body = _class_items(av[1:] if negated else av)
    positive = negate == negated
    if not body:  # only non-ASCII members: nothing in ASCII text, or everything for the complement
        return r"[^\x00-\x7f]" if positive else r"[\s\S]"
    return f"[{'' if positive else '^'}{body}]"


class _Translator:
    """Walks the parse tree of a Python regex (`re._parser`) and writes a regex without look-arounds
    or back-references that matches (somewhere) wherever the original matches:
    - a negative look-behind of one character class at the very start, `(?<![\\w-])`, becomes
      `(?:^|[^\\w-])` (the character before the match is consumed instead of looked at), and so does
      the look-behind-after-the-first-character form `\\d(?<![\\w-]\\d)`;
    - a negative look-ahead of one class at the very end becomes `(?:[^C]|$)`;
    - a positive look-behind at the start or look-ahead at the end is consumed;
    - every other look-around is dropped, a back-reference is replaced by its group's pattern, and
      a repeat bounded above 20 loses its upper bound (all three match more, never less)."""

    def __init__(self) -> None:
        self.groups: dict[int, str] = {}

    def seq(self, items: list, top: bool = False) -> str:
        items = list(items)
        if top:  # leading look-aheads (first-character hints) are dropped: what follows counts as first
            while items and items[0][0] is _c.ASSERT and items[0][1][0] == 1:
                items.pop(0)
        out = []
        start = 0
        if top and len(items) >= 2 and items[1][0] is _c.ASSERT_NOT and items[1][1][0] == -1:
            # X(?<!CX): "the character before X is not C" (X one character)
            body = list(items[1][1][1])
            if items[0][0] in _ONE_CHAR and len(body) == 2 and body[1] == items[0] and body[0][0] in _ONE_CHAR:
                out.append(f"(?:^|{_one_char(*body[0], negate=True)}){self.item(*items[0])}")
                start = 2
        for k in range(start, len(items)):
            op, av = items[k]
            first, last = top and k == 0, top and k == len(items) - 1
            if op is _c.ASSERT_NOT:
                direction, body = av[0], list(av[1])
                one = len(body) == 1 and body[0][0] in _ONE_CHAR
                if first and direction == -1 and one:
                    out.append(f"(?:^|{_one_char(*body[0], negate=True)})")
                elif last and direction == 1 and one:
                    out.append(f"(?:{_one_char(*body[0], negate=True)}|$)")
                continue  # any other negative look-around: dropped
            if op is _c.ASSERT:
                direction, body = av
                if (first and direction == -1) or (last and direction == 1):
                    out.append(f"(?:{self.seq(body)})")
                continue
            out.append(self.item(op, av))
        return "".join(out)

    def item(self, op: Any, av: Any) -> str:
        if op in _ONE_CHAR:
            return _one_char(op, av, negate=False)
        if op is _c.ANY:
            return "."
        if op in (_c.MAX_REPEAT, _c.MIN_REPEAT, _c.POSSESSIVE_REPEAT):
            lo, hi, body = av
            # a long bounded repeat becomes unbounded: matches more, and Hyperscan scans ~30% faster
            unbounded = hi == _c.MAXREPEAT or hi > _MAX_BOUNDED_REPEAT
            return f"(?:{self.seq(body)}){{{lo},{'' if unbounded else hi}}}"
        if op is _c.SUBPATTERN:
            group, add, remove, body = av
            inner = self.seq(body)
            if group is not None:
                self.groups[group] = inner
            flags = "".join(f for bit, f in ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s")) if add & bit)
            off = "".join(f for bit, f in ((re.IGNORECASE, "i"), (re.MULTILINE, "m"), (re.DOTALL, "s")) if remove & bit)
            return f"(?{flags}{'-' + off if off else ''}:{inner})"
        if op is _c.BRANCH:
            return "(?:" + "|".join(self.seq(alt) for alt in av[1]) + ")"
        if op is _c.AT and av in _AT:
            return _AT[av]
        if op is _c.GROUPREF and av in self.groups:
            return f"(?:{self.groups[av]})"
        if op is _c.ATOMIC_GROUP:
            return f"(?:{self.seq(av)})"
        raise _Untranslatable(op)


def to_hyperscan(pattern: str, flags: int = 0) -> tuple[str, int] | None:
    """(expression, `re` flags in force) for Hyperscan, matching wherever `pattern` matches; None
    when the pattern uses a construct this translation does not know or syntax the dialects read
    differently (`_UNSAFE_SYNTAX`)."""
    if _UNSAFE_SYNTAX.search(pattern):
        return None
    try:
        tree = _parser.parse(pattern, flags)
        return _Translator().seq(list(tree), top=True), tree.state.flags
    except (_Untranslatable, re.error, RecursionError):
        return None


def cache_dir() -> Path:
    env = os.environ.get("PRIVTUNE_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return Path(xdg) / "privtune" if xdg else Path.home() / ".cache" / "privtune"


class RegexPrefilter:
    """Hyperscan database over `patterns` (regex source, `re` flags); `hits(text)` -> ids or None."""

    def __init__(self, hs: Any, patterns: Sequence[tuple[str, int]]) -> None:
        self._hs = hs
        #: ids (indices into `patterns`) the database holds; the others are never ruled out
        self.ids: list[int] = []
        self.db: Any = None
        if patterns and not self._load(patterns):
            self._build(patterns)

    def _cache_path(self, patterns: Sequence[tuple[str, int]]) -> Path:
        """Keyed by the source patterns (a cached database needs no translation at start-up), the
        translation's version, Hyperscan's version and the machine."""
        h = hashlib.sha256(
            f"{_TRANSLATION_VERSION}|{self._hs.__version__}|{platform.machine()}|{platform.processor()}".encode()
        )
        for i, (pattern, flags) in enumerate(patterns):
            h.update(b"\0%d\0%d\0" % (i, flags) + pattern.encode())
        return cache_dir() / f"prefilter-{h.hexdigest()[:32]}.hsdb"

    def _load(self, patterns: Sequence[tuple[str, int]]) -> bool:
        """The cached database: a header line with the ids it holds, then Hyperscan's serialized bytes."""
        hs = self._hs
        try:
            header, blob = self._cache_path(patterns).read_bytes().split(b"\n", 1)
            db = hs.loadb(blob, hs.HS_MODE_BLOCK)
            db.scratch = hs.Scratch(db)  # a loaded database comes without scan scratch space
            ids = json.loads(header)
        except (OSError, ValueError, TypeError, hs.error):
            return False
        if not isinstance(ids, list) or not all(isinstance(i, int) and 0 <= i < len(patterns) for i in ids):
            return False
        self.ids, self.db = ids, db
        return True

    def _build(self, patterns: Sequence[tuple[str, int]]) -> None:
        """Translate, compile (leaving out what Hyperscan rejects: those patterns always run), cache."""
        hs = self._hs
        todo: list[tuple[int, bytes, int]] = []
        base = hs.HS_FLAG_PREFILTER | hs.HS_FLAG_SINGLEMATCH | hs.HS_FLAG_ALLOWEMPTY | hs.HS_FLAG_UTF8
        for i, (pattern, flags) in enumerate(patterns):
            translated = to_hyperscan(pattern, flags)
            if translated is None:
                continue
            expr, eflags = translated
            f = base
            if eflags & re.IGNORECASE:
                f |= hs.HS_FLAG_CASELESS
            if eflags & re.MULTILINE:
                f |= hs.HS_FLAG_MULTILINE
            if eflags & re.DOTALL:
                f |= hs.HS_FLAG_DOTALL
            todo.append((i, expr.encode(), f))
        if not todo:
            return
        try:
            db, ok = self._compile(todo), todo
        except hs.error:  # one pattern at a time, to leave out those Hyperscan rejects
            ok = [(i, e, f) for i, e, f in todo if self._compiles(e, f)]
            if not ok:
                return
            db = self._compile(ok)
        self.ids, self.db = [i for i, _, _ in ok], db
        path = self._cache_path(patterns)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".tmp-", delete=False) as fh:
                fh.write(json.dumps(self.ids).encode() + b"\n" + hs.dumpb(db))
            os.replace(fh.name, path)
        except OSError:
            pass

    def _compile(self, todo: list[tuple[int, bytes, int]]) -> Any:
        db = self._hs.Database()
        db.compile(expressions=[e for _, e, _ in todo], ids=[i for i, _, _ in todo], flags=[f for _, _, f in todo])
        return db

    def _compiles(self, pattern: bytes, flags: int) -> bool:
        try:
            self._compile([(0, pattern, flags)])
        except self._hs.error:
            return False
        return True

    def hits(self, text: str) -> set[int] | None:
        """Ids of the patterns that may match `text`; None when the text is not safe to prefilter."""
        if self.db is None or _UNSAFE_TEXT.search(text):
            return None
        found: set[int] = set()
        self.db.scan(text.encode(), match_event_handler=_collect, context=found)
        return found


def _collect(pattern_id: int, _start: int, _end: int, _flags: int, found: set[int]) -> None:
    found.add(pattern_id)
