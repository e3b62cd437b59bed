"""LOCATION from postal addresses and ZIP_CODE.

An address is found from its street part (the most regular piece), in the conventions of many
countries: US/UK "number + name + street type" (the full USPS suffix list), UK "Flat 6, Name Street",
continental "Hauptstraße 5", "Via Roma, 12", "Calle de X 3", "12 rue de la Paix", Dutch "-laan 4", US
military APO/FPO/DPO lines, PO boxes. The match is then extended over what follows it on the same
or the next lines: unit, postcode (UK, Dutch, US state + ZIP, 4-5 digit European), city and
province, so "Elfriede-Gerlach-Platz 83/23\\n29511 Gera" is one span. A street with a postcode
scores 0.9 (above a name found inside it: streets are often named after people). Cities alone come
from NER, or from a `city:` label.
"""

from __future__ import annotations

import re

from privtune.pii.config import PiiConfig
from privtune.pii.recognizers.base import ANY, DIGIT, PatternRecognizer
from privtune.pii.span import Span

# USPS Publication 28 street suffixes (full names and standard abbreviations) plus UK street words.
STREET_TYPES = (
    "Alley|Aly|Anex|Arcade|Avenue|Ave|Bayou|Beach|Bend|Bluff|Bluffs|Bottom|Boulevard|Blvd|Branch|Bridge|"
    "Brook|Brooks|Burg|Burgs|Bypass|Camp|Canyon|Cape|Causeway|Center|Centers|Ctr|Circle|Circles|Cir|Cliff|"
    "Cliffs|Club|Common|Commons|Corner|Corners|Course|Court|Courts|Ct|Cove|Coves|Creek|Crescent|Cres|Crest|"
    "Crossing|Crossroad|Crossroads|Curve|Dale|Dam|Divide|Drive|Drives|Dr|Estate|Estates|Expressway|Expy|"
    "Extension|Extensions|Fall|Falls|Ferry|Field|Fields|Flat|Flats|Ford|Fords|Forest|Forge|Forges|Fork|"
    "Forks|Fort|Freeway|Fwy|Garden|Gardens|Gdns|Gateway|Glen|Glens|Green|Greens|Grove|Groves|Grv|Harbor|"
    "Harbors|Harbour|Haven|Heights|Hts|Highway|Hwy|Hill|Hills|Hollow|Inlet|Island|Islands|Isle|Junction|"
    "Junctions|Jct|Key|Keys|Knoll|Knolls|Lake|Lakes|Land|Landing|Lane|Ln|Light|Lights|Loaf|Lock|Locks|Lodge|"
    "Loop|Mall|Manor|Manors|Meadow|Meadows|Mews|Mill|Mills|Mission|Motorway|Mount|Mountain|Mountains|Neck|"
    "Orchard|Oval|Overpass|Park|Parks|Parkway|Parkways|Pkwy|Pass|Passage|Path|Pike|Pine|Pines|Place|Pl|"
    "Plain|Plains|Plaza|Plz|Point|Points|Pt|Port|Ports|Prairie|Radial|Ramp|Ranch|Rapid|Rapids|Rest|Ridge|"
    "Ridges|River|Road|Roads|Rd|Route|Rte|Row|Rue|Run|Shoal|Shoals|Shore|Shores|Skyway|Spring|Springs|"
    "Spur|Spurs|Square|Squares|Sq|Station|Sta|Stravenue|Stream|Street|Streets|St|Summit|Terrace|Ter|"
    "Throughway|Trace|Track|Trafficway|Trail|Trailer|Trl|Tunnel|Turnpike|Underpass|Union|Unions|Valley|"
    "Valleys|Via|Viaduct|View|Views|Village|Villages|Ville|Vista|Walk|Walks|Wall|Way|Ways|Well|Wells|"
    "Close|Drove|Gate|Grange|Parade|Rise|Wharf|Wynd|Avenida"
)
_NAME = r"(?:[A-Z][a-zA-Z'’.-]*|\d{1,3}(?:st|nd|rd|th))"
_UNIT = r"(?:,?\s+(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Floor|Fl\.?|Room|Rm\.?|#)\s*[A-Za-z0-9-]{1,6})?"
_CITY_STATE_ZIP = r"(?:,?\s+[A-Z][a-zA-Z.'’-]+(?:\s[A-Z][a-zA-Z.'’-]+){0,3},?\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?)?"
# look-behind after the first digit (`\d(?<![\w-]\d)` is `(?<![\w-])\d`): the engine skips to digits
US_STREET = rf"\d(?<![\w-]\d)\d{{0,5}}[A-Za-z]?\s+(?:[NSEW]\.?\s+)?{_NAME}(?:\s{_NAME}){{0,4}}\s(?:{STREET_TYPES})\b\.?{_UNIT}{_CITY_STATE_ZIP}"
UK_FLAT = rf"\b(?:Flat|Studio|Apartment|Unit|Suite)\s+\d{{1,4}}[a-zA-Z]?(?:,[ \t]*|[ \t]*\n[ \t]*){_NAME}(?:\s{_NAME}){{0,3}}\s(?:{STREET_TYPES})\b"
PO_BOX = r"\b(?:P\.?\s?O\.?\s?Box|Post Office Box)\s+\d{1,6}\b"
MILITARY = (
    r"\b(?:(?:USNS|USNV|USS|USCGC)\s+[A-Z][a-z]+|PSC\s+\d{4},\s+Box\s+\d{4}|Unit\s+\d{4}\s+Box\s+\d{4})"
    r"(?=(?:,\s*|\s*\n\s*)(?:APO|FPO|DPO)\s+A[AEP]\s+\d{5})"
)
_W = r"[A-ZÀ-Þ][\wÀ-ÿ'’.-]*"
_LOWER_LINK = r"(?:de|del|de la|de los|de las|dei|della|delle|degli|di|du|des|la|le|l'|d')"
# Continental order: street word + name, then the number ("Via Roma, 12", "Calle de Ana Belén 61")
_ROMANCE_WORDS = (
    r"Via|Viale|Piazza|Piazzale|Vicolo|Corso|Largo|Strada|Stretto|Contrada|Borgo|Incrocio|Rotonda|"
    r"Canale|Viottolo|Rione|Calle|C\.|Avenida|Avda\.|Av\.|Paseo|Plaza|Ronda|Rambla|Alameda|Callejón|Camino|"
    r"Urbanización|Pasaje|Pasadizo|Travesía|Glorieta|Cuesta|Acceso|Cañada|Vial|Carretera|Carrer|Passeig|"
    r"Avinguda|Rua|Travessa|Largo|Praça|Rue|Avenue|Boulevard|Place|Chemin|Impasse|Allée|Quai|Cours"
)
# gate: one of the street words anywhere (an alternation of literals: the engine skips ahead)
_ROMANCE_GATE = re.compile(rf"(?:{_ROMANCE_WORDS})\s")
ROMANCE_STREET = (
    rf"(?<!\w)(?:{_ROMANCE_WORDS})"
    rf"\s+(?:{_LOWER_LINK}\s*)?{_W}(?:\s+(?:{_LOWER_LINK}\s*)?{_W}){{0,4}},?\s+\d{{1,4}}[a-zA-Z]?(?:/\d{{1,4}})?(?![\w/])"
)
# Germanic compounds: "Hauptstraße 5", "Elfriede-Gerlach-Platz 83/23", "Peukertstr. 9", "Anouklaan 1"
GERMANIC_STREET = (
    r"(?<!\w)[A-ZÄÖÜ][\wäöüßÀ-ÿ'-]*(?:straße|strasse|str\.|Straße|Str\.|weg|Weg|gasse|Gasse|platz|Platz|"
    r"allee|Allee|ring|Ring|damm|Damm|ufer|Ufer|chaussee|steig|pfad|laan|straat|gracht|dreef|hof|pad|singel|"
    r"steeg|baan|kade|plein|dijk|markt|park|boulevard)\s+\d{1,4}[a-zA-Z]?(?:[/-]\d{1,4}[a-z]?)?(?![\w/])"
)
FR_STREET = (
    r"(?<!\w)\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|boulevard|place|chemin|impasse|allée|quai|cours|route)"
    r"\s+(?:[\w'’-]+\s+){0,4}?[\w'’-]+(?=[,\n]|\s+\d{5}|$)"
)
FR_STREET_NO_NUMBER = (
    r"(?<!\w)(?:rue|avenue|boulevard|chemin|impasse|allée|quai)\s+(?:[\w'’-]+\s+){0,4}?[\w'’-]+"
    r"(?=,\s*\d{5}\s+[A-ZÀ-Þ])"
)

# What may follow a street: unit, postcode (+ city), city (+ province); separators: comma, line break.
_SEP = r"(?:,[ \t]*|[ \t]*\n[ \t]*|[ \t]+)"
_UNIT_SEG = r"(?:Apt\.?|Apartment|Appartamento|Apto\.?|Escalera|Stiege|Wohnung|Suite|Ste\.?|Unit|Flat|Floor|Fl\.?|Piso|Puerta|Piano|Scala|Interno|Bus|Box|#)\s*[A-Za-z0-9-]{1,6}"
_CITY_WORD = r"[A-ZÀ-Þ][\wÀ-ÿ'’-]*"
_CITY_LINK = r"(?:de|del|di|la|le|sur|am|an|der|den|aan|op|y|en|im|vorm|vor|bei|ob|in|zum|zur|sous|lès)"
_CITY = rf"{_CITY_WORD}(?:(?:[ -]{_CITY_LINK})*[ -]{_CITY_WORD}){{0,4}}(?:\s*\([A-Z]{{2}}\))?"
_POSTCODE = (
    r"(?:(?:APO|FPO|DPO)\s+A[AEP]\s+\d{5}"
    r"|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}"  # UK
    r"|\d{4}\s?[A-Z]{2}(?![\w])"  # NL
    r"|[A-Z]{2}\s+\d{5}(?:-\d{4})?"  # US state + ZIP
    r"|\d{4,5})(?![\w-])"
)
_TAIL_UNIT = re.compile(rf"{_SEP}{_UNIT_SEG}(?!\w)")
_TAIL_POST = re.compile(rf"{_SEP}{_POSTCODE}(?:[ \t]+{_CITY})?")
_TAIL_CITY = re.compile(rf"{_SEP}{_CITY}")
_ENDS_WITH_POSTCODE = re.compile(rf"{_POSTCODE}$")
_ADDRESS_END = re.compile(r"[ \t]*(?:[.!?;)]|,|\n|$)")
CITY_LABEL_KEYS = ("city", "town", "ciudad", "ville", "stadt", "città", "plaats", "place of birth")
CITY_LABEL = rf"(?i:\b(?:city|town|ciudad|ville|stadt|città|plaats|place of birth)\s*:\s*)(?P<c>{_CITY})"

# Lower-case literals one of which every match of the pattern contains (keyword gates).
UK_FLAT_KEYS = ("flat", "studio", "apartment", "unit", "suite")
MILITARY_KEYS = ("apo", "fpo", "dpo")
GERMANIC_KEYS = (
    "str", "weg", "gasse", "platz", "allee", "ring", "damm", "ufer", "chaussee", "steig", "pfad", "laan", "gracht",
    "dreef", "hof", "pad", "singel", "steeg", "baan", "kade", "plein", "dijk", "markt", "park", "boulevard",
)  # fmt: skip
FR_KEYS = ("rue", "avenue", "boulevard", "place", "chemin", "impasse", "allée", "quai", "cours", "route")

ZIP = r"(?=\d)(?<![\w-])\d{5}(?:-\d{4})?(?![\w-])"
_STATE_BEFORE = re.compile(r"\b[A-Z]{2},?\s+$")


def extend_address(text: str, end: int) -> tuple[int, bool]:
    """End of the address after its street part, and whether a postcode was part of it."""
    has_post = False
    for _ in range(4):
        m = _TAIL_UNIT.match(text, end) or _TAIL_POST.match(text, end)
        if m:
            has_post = has_post or m.re is _TAIL_POST
            end = m.end()
            continue
        m = _TAIL_CITY.match(text, end)
        if m is None or "\n\n" in text[end : m.start() + 3]:
            break
        nxt = _TAIL_POST.match(text, m.end())
        if nxt:  # city then postcode ("Málaga, 09973", "Port Mitchell\nHA1E 0YP")
            end, has_post = nxt.end(), True
            continue
        # a city as the last piece: after a postcode, or after a comma where the address ends
        same_line = "\n" not in text[end : m.start() + 3] and not text.startswith(":", m.end())
        if same_line and (has_post or (text[end] == "," and _ADDRESS_END.match(text, m.end()))):
            end = m.end()
        break
    return end, has_post


class AddressRecognizer(PatternRecognizer):
    def analyze(self, text: str) -> list[Span]:
        found = []
        for s in super().analyze(text):
            end, has_post = extend_address(text, s.end)
            has_post = has_post or bool(_ENDS_WITH_POSTCODE.search(text, s.start, s.end))
            found.append(Span(s.start, end, s.entity_type, 0.9 if has_post else s.score, s.recognizer))
        # overlapping street readings of one address ("Gross Plaza" is a US and a Spanish shape) merge
        found.sort(key=lambda s: (s.start, -s.end))
        out: list[Span] = []
        for s in found:
            if out and s.start < out[-1].end:
                o = out[-1]
                out[-1] = Span(o.start, max(o.end, s.end), o.entity_type, max(o.score, s.score), o.recognizer)
            else:
                out.append(s)
        return out


class ZipRecognizer(PatternRecognizer):
    def analyze(self, text: str) -> list[Span]:
        spans = super().analyze(text)
        out = []
        for s in spans:
            if s.score < 0.5 and _STATE_BEFORE.search(text, max(0, s.start - 5), s.start):
                s = Span(s.start, s.end, s.entity_type, 0.75, s.recognizer)
            out.append(s)
        return out


def recognizers(cfg: PiiConfig) -> list[PatternRecognizer]:
    return [
        AddressRecognizer(
            "street_address",
            "LOCATION",
            [(US_STREET, 0.75), (UK_FLAT, 0.75, UK_FLAT_KEYS), (PO_BOX, 0.75, ("box",)), (MILITARY, 0.8, MILITARY_KEYS),
             (ROMANCE_STREET, 0.6, _ROMANCE_GATE), (GERMANIC_STREET, 0.6, GERMANIC_KEYS), (FR_STREET, 0.65, FR_KEYS),
             (FR_STREET_NO_NUMBER, 0.6, FR_KEYS)],
            ("address", "live", "lives", "living", "located", "ship", "shipping", "deliver", "billing", "street"),
            None,
            DIGIT,
        ),
        PatternRecognizer("city_label", "LOCATION", [(CITY_LABEL, 0.85, CITY_LABEL_KEYS)], (), None, ANY, group="c"),
        ZipRecognizer("zip_code", "ZIP_CODE", [(ZIP, 0.1)], ("zip", "zipcode", "zip code", "postal", "postcode"),
                      None, DIGIT, context_boost=0.5),
    ]
