"""Names and street addresses in a comment, found by deduce, the Dutch de-identification library.

Deduce knows Dutch first names, surnames, prefixes ("mevrouw", "dhr.") and street names, and finds
names by their context ("mevrouw Jansen", "J. de Vries", "Jan de Vries"). Its full set of lookups
takes about 1 GB of memory and a minute to build, almost all of it for street-name spelling
variants and healthcare institutions (docs/masking.md has the figures). KTO loads only what it
uses: the name lookups, the whitelist of ordinary words, the place names, and the street names as
plain sets (about 40 MB, half a second). A street is an address only with a house number
after it ("Oudegracht 123", "Neude 11"); a place name or a street on its own ("de Neude was
druk", "Maarssen") is not masked, nor are dates, which ``identifiers`` handles for dates of birth.
Beside deduce: names after a cue such as "mijn naam is" or "groetjes," (names deduce's lists do
not hold, and first names in lower case), and a few words that deduce takes for names but that
are none ("My", "June", "Wmo").
"""

import functools
import json
import re
from pathlib import Path

import deduce
import docdeid
from deduce import lookup_struct_loader
from deduce.deduce import _DeduceProcessorLoader
from deduce.lookup_structs import load_raw_itemsets
from deduce.utils import optional_load_items

NAME, ADDRESS = "[NAAM]", "[ADRES]"

_DEDUCE = Path(deduce.__file__).parent
_LOOKUP = _DEDUCE / "data" / "lookup"
_LISTS = [
    "names/lst_first_name",
    "names/lst_initial",
    "names/lst_interfix",
    "names/lst_interfix_surname",
    "names/lst_prefix",
    "names/lst_surname",
    "whitelist/lst_common_word",
    "whitelist/lst_medical_term",
    "whitelist/lst_stop_word",
]
# Deduce's own annotators for names and streets, in deduce's order; street_lookup is KTO's.
_ANNOTATORS = [
    "prefix_with_initial",
    "prefix_with_interfix",
    "prefix_with_name",
    "interfix_with_name",
    "initial_with_name",
    "initial_interfix",
    "first_name_lookup",
    "surname_lookup",
    "name_context",
    "street_pattern",
    "street_lookup",
    "housenumber",
]
_STREET_LOOKUP = {
    "annotator_type": "deduce.annotator.TokenPatternAnnotator",
    "group": "locations",
    "args": {"pattern": [{"lookup": "street"}], "tag": "straat", "priority": 1},
}
# Titles residents write in English ("Mrs Smith"); deduce's prefixes are Dutch.
_ENGLISH_PREFIXES = ["mr", "mrs", "ms", "miss", "mister", "sir", "madam", "mr.", "mrs.", "ms."]
# Words of KTO's own world that are also street names somewhere ("Balie 8", "Website 6"): a
# channel followed by a score is a figure, not an address.
_NOT_STREETS = {"Balie", "Telefoon", "Website", "Chat", "Post", "Markt", "Loket", "Gemeente", "Centrum"}
# What deduce may take for a name but is none: months and weekdays (its name lists hold "June"
# and "May"), words that start a sentence ("My", "Super"), and the words of a municipality's
# services. Place names are added from deduce's place lists: a municipality's own places keep
# their meaning ("de balie in Loenen").
_NOT_NAMES = {
    *"januari februari maart april mei juni juli augustus september oktober november december".split(),
    *"January February March April May June July August September October November December".split(),
    *"maandag dinsdag woensdag donderdag vrijdag zaterdag zondag".split(),
    *"Monday Tuesday Wednesday Thursday Friday Saturday Sunday".split(),
    *"Wmo WMO KCC DigiD Stadskantoor Stadhuis Gemeentehuis Klantcontactcentrum Balie Loket Burgerzaken".split(),
    *"My Our Your His Her Their Can Could Will Would Please Dear Hi Hello Thanks Dutch English".split(),
    *"Super Pas Mooi Slim Fijn Top Echt Jammer Helaas Gelukkig Goed Snel Prima Lekker Heel Graag".split(),
}
_PLACE_LISTS = ["lst_residence", "lst_municipality", "lst_province", "lst_region"]
# "Balie 8,7": a number followed by decimals is a score, not a house number.
_DECIMALS = re.compile(r"[,.]\d")

# What residents write before their own name: "mijn naam is ...", "ik ben ...", "I'm ...",
# "groetjes, ...". After such a cue, capitalised words are a name (deduce's lists do not know
# "Olena Kovalenko"), and so is a first name written in lower case ("ik ben fatima").
_NAME_CUE = re.compile(
    r"(?i:\b(?:mijn naam is|ik ben|ik heet|my name is|i am|i'm|this is|naam:|name:|contact:"
    r"|groet(?:jes|en)?,?|met vriendelijke groet,?|kind regards,?|regards,?|gebeld door|geholpen door))\s+"
    r"(?=(?P<name>[^\W\d_][\w'-]*(?:\s+(?:(?:van|de|der|den|el|al|ter|ten|la|le)\s+)*[^\W\d_][\w'-]*){0,3}))"
)
_SIGNATURE = re.compile(r"[.!?,]\s+(?P<name>[^\W\d_][\w'-]*)\s*$")
# The staff member a resident describes: "medewerker Gülsen", "the woman on the phone, saskia,".
_STAFF_CUE = re.compile(
    r"(?i:\b(?:medewerk(?:er|ster)|baliemedewerk(?:er|ster)|collega|consulent|colleague|agent))"
    r"\s+\(?(?P<name>[A-Z\u00C0-\u024F][\w'-]+)"
)
# A first name on its own between commas or in brackets: ", mohammed,", "(Oksana)".
_SET_OFF = re.compile(r"[,(]\s*(?P<name>[^\W\d_][\w'-]+)\s*(?=[,)]|\s+(?:geloof|denk|I think)\b)")
# A house number's addition ("101bis", "12-A"), which deduce leaves outside the address.
_ADDITION = re.compile(r"(?:-?(?:bis|[a-zA-Z])\b|-\d{1,3}\b)")
# "Ruim 45 minuten": a number with a unit after it is no house number.
_UNIT = re.compile(
    r"\s*(?:minuten|minuut|min|uur|dagen|dag|weken|week|maanden|keer|euro|jaar|%|minutes|hours|days)\b", re.I
)
_PARTICLES = {"van", "de", "der", "den", "el", "al", "ter", "ten", "la", "le"}


class _NamesAndStreets(deduce.Deduce):
    """Deduce with only the lookups above (``Deduce()`` itself would load all of them)."""

    def __init__(self) -> None:
        docdeid.DocDeid.__init__(self)
        config = json.loads((_DEDUCE / "base_config.json").read_text(encoding="utf-8"))
        annotators = config["annotators"] | {"street_lookup": _STREET_LOOKUP}
        config["annotators"] = {name: annotators[name] for name in _ANNOTATORS}
        # A house number with "bis" ("101bis") is one too.
        for rule in config["annotators"]["housenumber"]["args"]["pattern"]:
            if rule["name"] == "housenumber_housenumberletter_right":
                rule["pattern"][0]["re_match"] = r"\d{1,4}(?:[a-zA-Z]|bis)$"
        self.config = self._initialize_config(load_base_config=False, user_config=config)
        tokenizer = self._initialize_tokenizer(_LOOKUP)
        self.tokenizers = {"default": tokenizer}
        self.lookup_structs = _lookup_structs(tokenizer)
        extras = {"tokenizer": tokenizer, "ds": self.lookup_structs}
        self.processors = _DeduceProcessorLoader().load(config=self.config, extras=extras)


def _lookup_structs(tokenizer: docdeid.Tokenizer) -> docdeid.ds.DsCollection:
    raw = load_raw_itemsets(_LOOKUP, _LISTS)
    structs = docdeid.ds.DsCollection()
    for name in ("initial", "interfix_surname"):
        structs[name] = docdeid.ds.LookupSet()
        structs[name].add_items_from_iterable(raw[name])
    structs["prefix"] = lookup_struct_loader.load_prefix_lookup(raw)
    structs["prefix"].add_items_from_iterable(_ENGLISH_PREFIXES)
    structs["interfix"] = lookup_struct_loader.load_interfix_lookup(raw)
    structs["whitelist"] = lookup_struct_loader.load_whitelist_lookup(raw)
    structs["first_name"] = lookup_struct_loader.load_first_name_lookup(raw, tokenizer)
    structs["surname"] = lookup_struct_loader.load_surname_lookup(raw, tokenizer)
    words = {word.lower() for word in structs["whitelist"].items()}
    streets = optional_load_items(_LOOKUP / "src" / "locations" / "lst_street" / "items.txt")
    structs["street"] = docdeid.ds.LookupSet()
    structs["street"].add_items_from_iterable(
        street
        for street in streets
        if " " not in street and len(street) >= 4 and street not in _NOT_STREETS and street.lower() not in words
    )
    return structs


@functools.cache
def _words() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """Place names and other words that are no name; the first names in lower case; the streets
    of more than one word ("Lange Nieuwstraat"), in lower case."""
    places = set()
    for name in _PLACE_LISTS:
        places |= optional_load_items(_LOOKUP / "src" / "locations" / "lst_placename" / name / "items.txt") or set()
    raw = load_raw_itemsets(_LOOKUP, ["names/lst_first_name", "whitelist/lst_common_word", "whitelist/lst_stop_word"])
    ordinary = {word.lower() for word in raw["common_word"] | raw["stop_word"]}
    first_names = {name.lower() for name in raw["first_name"] if len(name) >= 3} - ordinary
    streets = optional_load_items(_LOOKUP / "src" / "locations" / "lst_street" / "items.txt")
    return (
        frozenset(places | _NOT_NAMES),
        frozenset(first_names),
        frozenset(street.lower() for street in streets if " " in street),
    )


@functools.cache
def _deduce() -> _NamesAndStreets:
    return _NamesAndStreets()


def load() -> None:
    """Build the lookups now (a web worker does it once, before its first request)."""
    _deduce()
    _words()


def _deduce_findings(text: str) -> list[tuple[int, int, str]]:
    """Deduce's names and addresses as (start, end, placeholder); an address grows to the left over
    the words of a street of more than one word ("Lange Nieuwstraat 7")."""
    not_names, _, long_streets = _words()
    found = []
    for annotation in _deduce().deidentify(text).annotations:
        start, end = annotation.start_char, annotation.end_char
        if annotation.tag == "persoon":
            # "Mevrouw Öztürk van de Wmo": the words at the end that are no name are no part of it.
            words = list(re.finditer(r"\S+", annotation.text))
            while words and (words[-1].group() in _NOT_NAMES or words[-1].group() in _PARTICLES):
                words.pop()
            if words and not all(word.group() in not_names for word in words):
                found.append((start, start + words[-1].end(), NAME))
        elif annotation.tag == "locatie" and not _DECIMALS.match(text, end) and not _UNIT.match(text, end):
            if addition := _ADDITION.match(text, end):
                end = addition.end()
            while match := re.search(r"([^\W\d_][\w'-]*)\s+$", text[:start]):
                if f"{match.group(1)} {text[start:end].rsplit(' ', 1)[0]}".lower() not in long_streets:
                    break
                start = match.start(1)
            found.append((start, end, ADDRESS))
    return found


def _cued_names(text: str) -> list[tuple[int, int, str]]:
    """Names after a cue ("ik ben Olena Kovalenko", "groetjes, daan", "medewerker Gülsen"), a first
    name that signs off a comment ("... 10 minuten. daan") or stands between commas."""
    not_names, first_names, _ = _words()
    found = []
    for match in _NAME_CUE.finditer(text):
        name = []  # the words' matches, up to the first that is not part of the name
        for word in re.finditer(r"[^\W\d_][\w'-]*", match.group("name")):
            value = word.group()
            if value in _PARTICLES and name:
                name.append(word)
            elif (value[0].isupper() and value not in not_names) or (not name and value.lower() in first_names):
                name.append(word)
            elif name and name[-1].group() in _PARTICLES:  # "kevin de groot"
                name.append(word)
                break
            else:
                break
        while name and name[-1].group() in _PARTICLES:
            name.pop()
        if name:
            found.append((match.start("name"), match.start("name") + name[-1].end(), NAME))
    if (match := _SIGNATURE.search(text)) and match.group("name").lower() in first_names:
        found.append((match.start("name"), match.end("name"), NAME))
    for match in _STAFF_CUE.finditer(text):
        if match.group("name") not in not_names:
            found.append((match.start("name"), match.end("name"), NAME))
    for match in _SET_OFF.finditer(text):
        if match.group("name").lower() in first_names:
            found.append((match.start("name"), match.end("name"), NAME))
    return found


def _merged(findings: list[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Overlapping findings as one, with the placeholder of the longest of them."""
    merged: list[tuple[int, int, str]] = []
    for start, end, placeholder in sorted(findings):
        if merged and start < merged[-1][1]:
            last = merged[-1]
            longest = placeholder if end - start > last[1] - last[0] else last[2]
            merged[-1] = (last[0], max(end, last[1]), longest)
        else:
            merged.append((start, end, placeholder))
    return merged


def mask_names_and_addresses(text: str) -> str:
    """``text`` with every name replaced by [NAAM] and every street with a house number by [ADRES]."""
    for start, end, placeholder in reversed(_merged(_deduce_findings(text) + _cued_names(text))):
        text = text[:start] + placeholder + text[end:]
    return text
