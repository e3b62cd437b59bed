"""First- and last-name lists for the name recognizer, and the tool that builds them.

The lists are plain text files shipped in `privtune/data/pii/` (one case-folded name per line), built
from the per-country name tables of the Faker package (census-style common names of many countries)
with `python -m privtune.pii.gazetteer [LOCALE ...]`. Faker is not imported at scan time.

Function words are kept out of the lists; names that are also common English words ("May", "Will",
"Grace", "Baker") stay in but are marked ambiguous: the recognizer accepts them only next to another
listed name or after a cue ("my name is ...", sign-offs, e-mail correlation).
"""

from __future__ import annotations

import functools
import sys
import unicodedata
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "pii"

#: Latin-script countries whose common names are included by default (Europe and the Americas).
DEFAULT_LOCALES = (
    "en_US", "en_GB", "en_IE", "en_NZ", "de_DE", "de_AT", "de_CH", "fr_FR", "fr_BE", "fr_CA", "fr_CH",
    "es_ES", "es_MX", "es_AR", "es_CO", "it_IT", "nl_NL", "nl_BE", "pt_PT", "pt_BR", "sv_SE", "da_DK",
    "no_NO", "fi_FI", "pl_PL", "cs_CZ",
)  # fmt: skip

def _words(block: str) -> frozenset[str]:
    return frozenset(block.split())


#: Function words, greetings and ticket vocabulary: never part of a name list.
STOPWORDS = _words("""
a an and the i my me we you he she it they this that these those is was be are am at in on of to for by
with from as or not no yes so do did can would might must shall should could also just very
all any some more most much many few one two three first last next new old good great best well
dear hi hello hey thanks thank cheers regards kind team support customer client order orders account
email phone card bank service help please sorry yours sincerely warm viele grüße danke merci gracias
grazie bedankt groeten saludos cordialement ciao hola hallo hoi buongiorno bonjour guten tag morning
evening night day week month year today tomorrow yesterday monday tuesday wednesday thursday friday
saturday sunday january february july september october november december north south east west
street road avenue lane drive court place park config error message subject mr mrs ms dr sir madam miss van von de del la le di da du
""")

#: Listed names that are also everyday English words ("May", "Will", "Grace", "Baker"): they count as
#: names only next to another listed name or after a cue, never on their own.
AMBIGUOUS = _words("""
may june april august march will bill mark grant hope faith joy rose summer autumn winter spring page
chase art bob pat sue ray dawn eve sky star sunny love happy lucky major king prince princess duke earl
baron lord lady saint guy man son price cash case close long short young white black brown gray grey
gold silver golden cook baker carpenter mason miller smith taylor turner walker fisher hunter porter
parker archer bishop butcher cooper draper fletcher gardener glover harper hayward knight marshal mayor
sage reed rush frank earnest honest noble sterling justice liberty mercy patience prudence constance
grace glory harmony melody unity charity destiny amber crystal ruby pearl jade jewel coral ivy lily
iris violet daisy poppy holly heather hazel olive fern willow laurel jasmine green wood woods field
brook lake river bay beach glen dale vale ridge ford bridge church chapel hall house home town city
paris london victoria virginia georgia florida carolina dakota jordan israel india china austin
houston dallas denver phoenix lincoln washington jackson madison clay stone rock hill hills west
""")


@functools.lru_cache(maxsize=1 << 16)
@functools.lru_cache(maxsize=1 << 16)
def fold(word: str) -> str:
    """Case-folded, accent-free form used for look-ups ('Garcés' -> 'garces'); cached, since the name
    rules fold the same words over and over (NFKD costs about a microsecond a word)."""
    word = word.replace("ß", "ss").replace("ø", "o").replace("æ", "ae").replace("’", "'")
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode().casefold()


def _read(name: str) -> frozenset[str]:
    text = (DATA_DIR / name).read_text(encoding="utf-8")
    return frozenset(line for line in text.splitlines() if line)


@functools.cache
def first_names() -> frozenset[str]:
    return _read("first_names.txt")


@functools.cache
def last_names() -> frozenset[str]:
    return _read("last_names.txt")


def build(locales: tuple[str, ...] = DEFAULT_LOCALES) -> tuple[list[str], list[str]]:
    """Folded first and last names (single words) from Faker's per-country name tables."""
    import importlib

    first: set[str] = set()
    last: set[str] = set()
    for loc in locales:
        provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
        for attr, out in (("first_names", first), ("first_names_male", first), ("first_names_female", first),
                          ("last_names", last), ("last_names_male", last), ("last_names_female", last)):
            for name in getattr(provider, attr, ()) or ():
                # multi-word entries ("Juan José", "van Dijk") contribute their capitalized words
                for part in str(name).replace("-", " ").split():
                    if part[:1].isupper() and len(part) >= 2:
                        out.add(fold(part))
    first -= STOPWORDS
    last -= STOPWORDS
    return sorted(first), sorted(last)


def main(argv: list[str]) -> None:
    first, last = build(tuple(argv) or DEFAULT_LOCALES)
    out = DATA_DIR
    out.mkdir(parents=True, exist_ok=True)
    (out / "first_names.txt").write_text("\n".join(first) + "\n", encoding="utf-8")
    (out / "last_names.txt").write_text("\n".join(last) + "\n", encoding="utf-8")
    print(f"{len(first)} first names, {len(last)} last names -> {out}")


if __name__ == "__main__":
    main(sys.argv[1:])
