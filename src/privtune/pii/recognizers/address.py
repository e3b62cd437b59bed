"""LOCATION from street addresses (number + street name + street type, optional unit, city, state, ZIP)
and ZIP_CODE (US ZIP / ZIP+4 only after a state code or a postal context word)."""

from __future__ import annotations

import re

from privtune.pii.config import PiiConfig
from privtune.pii.recognizers.base import DIGIT, PatternRecognizer

STREET_TYPES = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter|"
    "Parkway|Pkwy|Circle|Cir|Square|Sq|Trail|Trl|Highway|Hwy|Loop|Alley|Aly|Crescent|Cres|Close|Row|"
    "Plaza|Plz|Path|Pike|Run|Walk|Crossing|Xing|Point|Pt|Ridge|Heights|Hts|Hill|Hills|Park|Gardens|Gdns|"
    "Green|Grove|Grv|View|Vista|Station|Sta|Mews|Brook|Creek|Estates|Field|Fields|Forest|Fork|Garden|Glen|"
    "Harbor|Haven|Island|Junction|Jct|Key|Knoll|Lake|Lakes|Landing|Manor|Meadow|Meadows|Mill|Mills|Mount|"
    "Mountain|Orchard|Oval|Pass|Port|Ports|Prairie|Ranch|Rapids|Rest|Shoal|Shoals|Shore|Shores|Spring|"
    "Springs|Summit|Throughway|Trace|Track|Turnpike|Union|Valley|Village|Ville|Well|Wells|Center|Ctr|"
    "Common|Commons|Corner|Corners|Course|Cove|Dale|Dam|Divide|Expressway|Expy|Extension|Falls|Ferry|Flat|"
    "Flats|Ford|Fort|Freeway|Fwy|Gateway|Harbour|Inlet|Lodge|Motorway|Neck|Overpass|Radial|Ramp|Route|Rte|"
    "Skyway|Spur|Stravenue|Stream|Underpass|Via|Viaduct|Burg|Bypass|Camp|Canyon|Cape|Causeway|Cliff|Club|"
    "Curve|Bluff|Bottom|Branch|Bridge|Arcade|Avenida"
)
_NAME = r"(?:[A-Z][a-zA-Z'’.-]*|\d{1,3}(?:st|nd|rd|th))"
_UNIT = r"(?:,?\s+(?:Apt\.?|Apartment|Suite|Ste\.?|Unit|Floor|Fl\.?|Room|Rm\.?|#)\s*[A-Za-z0-9-]{1,6})?"
_CITY_STATE_ZIP = r"(?:,?\s+[A-Z][a-zA-Z.'’-]+(?:\s[A-Z][a-zA-Z.'’-]+){0,3},?\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?)?"
US_STREET = rf"(?<![\w-])\d{{1,6}}[A-Za-z]?\s+(?:[NSEW]\.?\s+)?{_NAME}(?:\s{_NAME}){{0,4}}\s(?:{STREET_TYPES})\b\.?{_UNIT}{_CITY_STATE_ZIP}"
PO_BOX = r"\b(?:P\.?\s?O\.?\s?Box|Post Office Box)\s+\d{1,6}\b"
# Continental order: street name (ending in a street word) then the number: "Hauptstraße 5", "Via Roma 12"
EU_STREET = (
    r"(?<!\w)(?:[A-ZÄÖÜ][\wäöüß'-]*(?:straße|strasse|str\.|weg|gasse|platz|allee|ring|damm|ufer|laan|straat|gracht)"
    r"|(?:Via|Viale|Piazza|Calle|Avenida|Rua|Rue|Avenue|Boulevard|Place|Chemin|Impasse|Allée|Quai)\s+(?:[\w'’-]+\s+){0,4}?[\w'’-]+)"
    r"\s+\d{1,4}[a-zA-Z]?(?!\w)"
)
FR_STREET = r"(?<!\w)\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|boulevard|place|chemin|impasse|allée|quai|cours|route)\s+(?:[\w'’-]+\s+){0,4}?[\w'’-]+(?=[,\n]|\s+\d{5}|$)"
ZIP = r"(?<![\w-])\d{5}(?:-\d{4})?(?![\w-])"
_STATE_BEFORE = re.compile(r"\b[A-Z]{2},?\s+$")


class ZipRecognizer(PatternRecognizer):
    def analyze(self, text: str):  # type: ignore[no-untyped-def]
        spans = super().analyze(text)
        out = []
        for s in spans:
            if s.score < 0.5 and _STATE_BEFORE.search(text, max(0, s.start - 5), s.start):
                s = type(s)(s.start, s.end, s.entity_type, 0.75, s.recognizer)
            out.append(s)
        return out


def recognizers(cfg: PiiConfig) -> list[PatternRecognizer]:
    return [
        PatternRecognizer(
            "street_address",
            "LOCATION",
            [(US_STREET, 0.75), (PO_BOX, 0.75), (EU_STREET, 0.6), (FR_STREET, 0.65)],
            ("address", "live", "lives", "living", "located", "ship", "shipping", "deliver", "billing", "street"),
            None,
            DIGIT,
        ),
        ZipRecognizer("zip_code", "ZIP_CODE", [(ZIP, 0.1)], ("zip", "zipcode", "zip code", "postal", "postcode"),
                      None, DIGIT, context_boost=0.5),
    ]
