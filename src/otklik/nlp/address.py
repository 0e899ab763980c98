"""Address pieces below the settlement: street and house, plus word-level helpers.

Rules, not a model: residents write "ул. Лаврова, д. 5", "улица Советская 12",
"на Ленина 3а", "пр-т Победы", "мкр Северный", "Советская улица". The territory stage
uses :func:`find_streets` to read the street and house and to keep street names
("улица Курская") from being taken for places. :func:`stem` is the crude, fast
inflection stripper the gazetteer is keyed on: the same function is applied to names and
to text, so "Мичуринск"/"в Мичуринске" and "Медвежьегорский"/"Медвежьегорском" meet.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from otklik.nlp.morph import analyzer

# Inflection endings, longest first. Genitive plural "-ов/-ев" is left out on purpose:
# it would cut "Тамбов" to "тамб" while "Тамбове" keeps "тамбов".
_ENDINGS = sorted(
    """ого его ому ему ыми ими ами ями ая яя ое ее ие ые ий ый ой ей ую юю их ых ым им
    ом ем ах ях ам ям ою ею ью а я о е ы и у ю ь й""".split(),
    key=len,
    reverse=True,
)
_MIN_STEM = 2
_ENDINGS_BY_LEN = {n: frozenset(e for e in _ENDINGS if len(e) == n) for n in (3, 2, 1)}

ADJECTIVE_ENDINGS = frozenset(
    "ий ый ой ого его ому ему ым им ом ем ая яя ую юю ое ее ие ые их ых ыми ими ей ою ею".split()
)
# Endings a noun-like place name takes in the text ("" = as in the gazetteer).
NOUN_ENDINGS = frozenset(
    ["", "а", "я", "у", "ю", "е", "и", "ы", "ом", "ем", "ой", "ей", "ою", "ью", "ам", "ям",
     "ах", "ях", "ами", "ями", "о", "ь"]
)
# Endings only an adjective shows (a noun place name never ends so after its stem).
ADJECTIVE_ONLY_ENDINGS = frozenset(
    "ий ый ого его ому ему ым им ая яя ую юю ое ее ие ые их ых".split()
)

WORD_RE = re.compile(r"[0-9A-Za-zА-Яа-яЁё]+(?:-[0-9A-Za-zА-Яа-яЁё]+)*")


def fold(word: str) -> str:
    """Lowercase and fold 'ё' to 'е'."""
    return word.lower().replace("ё", "е")


@lru_cache(maxsize=100_000)
def stem(word: str) -> str:
    """Strip one inflection ending from each hyphen part of a folded word."""
    word = fold(word)
    if "-" in word:
        return "-".join(_stem_part(p) for p in word.split("-"))
    return _stem_part(word)


def _stem_part(part: str) -> str:
    if not part or not part[-1].isalpha():
        return part
    for n, endings in _ENDINGS_BY_LEN.items():
        if len(part) - n >= _MIN_STEM and part[-n:] in endings:
            return part[:-n]
    return part


@lru_cache(maxsize=100_000)
def remainder(word: str) -> str:
    """The ending :func:`stem` removed from the last hyphen part of a word."""
    folded = fold(word)
    last = folded.rsplit("-", 1)[-1]
    return last[len(_stem_part(last)) :]


@dataclass(frozen=True)
class StreetMatch:
    """One street mention: normalized street, house (if any) and its character span."""

    street: str
    house: str | None
    start: int
    end: int


_STREET_TYPES: dict[str, str] = {
    "улица": r"ул(?:ица|ице|ицу|ицы|ицей)?\b\.?|ул\.",
    "проспект": r"пр-?кт\b\.?|пр-т\b\.?|просп\b\.?|проспект(?:а|е|у|ом)?\b",
    "переулок": r"пер\b\.?|переул(?:ок|ка|ке|ку|ком)\b",
    "шоссе": r"ш\.|шоссе\b",
    "бульвар": r"б-р\b\.?|бул\b\.?|бульвар(?:а|е|у|ом)?\b",
    "проезд": r"пр-д\b\.?|пр-зд\b\.?|проезд(?:а|е|у|ом)?\b",
    "набережная": r"наб\b\.?|набережн(?:ая|ой|ую)\b",
    "площадь": r"пл\.|площад(?:ь|и|ью)\b",
    "микрорайон": r"мкр-?н?\b\.?|мкрн\b\.?|микрорайон(?:а|е|у|ом)?\b",
    "тупик": r"туп\.|тупик(?:а|е|у)?\b",
    "аллея": r"аллея\b|аллее\b|аллеи\b",
    "квартал": r"кв-л\b\.?|квартал(?:а|е|у)?\b",
}
_TYPE_ALT = "|".join(f"(?P<t_{i}>{p})" for i, p in enumerate(_STREET_TYPES.values()))
_TYPE_NAMES = list(_STREET_TYPES)

# A street-name word: capitalized or lowercase word, initials ("К."), numerals ("50", "8-го").
_NAME_WORD = (
    r"(?:[А-ЯЁA-Z]\.|\d{1,3}(?:-?(?:го|й|я|е|ой|ая|ий))?"
    r"|[А-ЯЁа-яё][а-яё]+(?:-[А-ЯЁа-яё][а-яё]+)?)"
)
_HOUSE = (
    r"(?P<house>\d{1,4}(?:\s?[а-яА-Я](?![а-яА-ЯёЁ]))?(?:\s*/\s*\d{1,4}[а-яА-Я]?)?"
    r"(?:\s*(?:к|корп\.?|корпус|стр\.?|строение)\s*\d{1,3})?)"
)
_HOUSE_LEAD = (
    r"(?:\s*,?\s*(?:(?:у|около|возле|напротив)\s+)?(?:д\.|д\b|дом(?:а|е|у)?\b|№)?\s*№?\s*)"
)

_TYPE_FIRST_RE = re.compile(
    rf"(?<![А-Яа-яЁё])(?:{_TYPE_ALT})\s*(?P<name>{_NAME_WORD}(?:(?:\s+|(?<=\.)){_NAME_WORD}){{0,3}})",
    re.IGNORECASE,
)
_TYPE_AFTER_RE = re.compile(
    r"(?<![А-Яа-яЁё])(?P<name>[А-ЯЁ][а-яё]+(?:-[А-ЯЁа-яё][а-яё]+)?"
    r"(?:ая|ой|ую|ий|ый|ом|ого|ое|ей|ем))\s+"
    r"(?P<type>улиц(?:а|е|у|ы|ей)|проспект(?:а|е|у|ом)?|переул(?:ок|ка|ке|ку)|шоссе|"
    r"бульвар(?:а|е|у)?|проезд(?:а|е|у)?|набережн(?:ая|ой|ую)|площад(?:ь|и))\b"
    # The postal form «Октябрьская ул., д. 97А», «Моршанском ш. 22»: an abbreviation after
    # an adjective name, with its dot («ул» also without one, when no letter follows).
    r"|(?<![А-Яа-яЁё])(?P<name_abbr>[А-ЯЁ][а-яё]+(?:-[А-ЯЁа-яё][а-яё]+)?"
    r"(?:ая|ой|ую|ий|ый|ом|ого|ое|ей|ем))\s+"
    r"(?P<abbr>ул\.?(?![А-Яа-яЁё])|пр-кт\.?|пр-т\.?|просп\.|пер\.|ш\.|б-р\.?|пр-д\.?|наб\.|пл\.)"
    # «Фрунзе ул., д. 81», «Гагарина ул. 1»: any name before «ул.» when a house follows.
    r"|(?<![А-Яа-яЁё])(?P<name_house>[А-ЯЁ][а-яё]+(?:-[А-ЯЁа-яё][а-яё]+)?)\s+ул\.?"
    r"(?=\s*,?\s*(?:д\.\s*|дом\s+)?\d)"
)
_ABBR_TYPES = {"ул.": "улица", "ул": "улица", "пр-кт": "проспект", "пр-т": "проспект",
               "просп.": "проспект", "пер.": "переулок", "ш.": "шоссе", "б-р": "бульвар",
               "пр-д": "проезд", "наб.": "набережная", "пл.": "площадь"}
# "на Ленина 3а", "по Гагарина, 15": a genitive surname-like name and a house number.
_BARE_RE = re.compile(
    # "(?<![А-Яа-яЁё])(?:на|по|от|около|возле|у)" with the look-behind after each first
    # letter: the pattern then begins with literals and the scan skips other positions fast.
    r"(?:н(?<![А-Яа-яЁё]н)а|п(?<![А-Яа-яЁё]п)о|о(?<![А-Яа-яЁё]о)т|о(?<![А-Яа-яЁё]о)коло"
    r"|в(?<![А-Яа-яЁё]в)озле|у(?<![А-Яа-яЁё]у))\s+"
    r"(?P<name>[А-ЯЁ][а-яё]+(?:ова|ева|ина|ына|ого|ского|цкого|ской))\s*,?\s*"
    r"(?:д\.\s*|дом\s+)?"
    + _HOUSE.replace("(?P<house>", "(?P<house2>")
    + r"(?![\d.,]*\s*(?:руб|р\.|%))"
)
_HOUSE_AFTER_RE = re.compile(_HOUSE_LEAD + _HOUSE + r"(?![\d%])")
# Cheap pre-checks with the same results. _TYPE_AFTER_RE needs one of its type words as
# written (it is case-sensitive); _TYPE_FIRST_RE can only start where one of the first letters
# of its type words stands after a non-letter, so it is tried at those places only (a
# regular expression that must try twelve alternatives at every character is slow).
_TYPE_AFTER_WORDS = ("улиц", "проспект", "переул", "шоссе", "бульвар", "проезд", "набережн",
                     "площад", "пр-", "просп.", "пер.", "ш.", "б-р", "наб.", "пл.")
# «ул» after a name, with or without its dot («Ленинградская ул 133»): a type word only when
# no letter follows, which a substring test cannot say.
_UL_AFTER_RE = re.compile(r"ул(?![а-яё])")
# Where _TYPE_FIRST_RE can start: one of "ул пр пер ш б наб пл мк ми туп алле кв" in any case
# after a non-letter. Written case-sensitively with every character the case-insensitive
# pattern accepts ("т" also matches "ᲄ", "ᲅ"; "в" matches "ᲀ"; tests check the lists) and
# with a character class first, so that the scan skips the other positions fast.
_TYPE_FIRST_START_RE = re.compile(
    r"[уУпПшШбБнНмМтТᲄᲅаАкК](?<![А-Яа-яЁё].)"
    r"(?:(?<=[уУ])[лЛ]|(?<=[пП])[рРеЕлЛ]|(?<=[шШбБ])|(?<=[нН])[аА][бБ]|(?<=[мМ])[кКиИ]"
    r"|(?<=[тТᲄᲅ])[уУ][пП]|(?<=[аА])[лЛ][лЛ][еЕ]|(?<=[кК])[вВᲀ])"
)


def _type_first_matches(text: str) -> list[re.Match[str]]:
    """What ``_TYPE_FIRST_RE.finditer(text)`` yields, trying only the possible starts."""
    out = []
    end = 0
    match = _TYPE_FIRST_RE.match
    for start in _TYPE_FIRST_START_RE.finditer(text):
        pos = start.start()
        if pos < end:
            continue
        m = match(text, pos)
        if m is not None:
            out.append(m)
            end = m.end()
    return out

_STOP_NAME_WORDS = frozenset(
    """в во на и или у не нет около возле дом д кв квартира подъезд район р-н города город
    г с со по от до за при для что как уже все это есть был была были который которая
    просим прошу помогите очень там тут где когда""".split()
)
_NAME_CONTINUE_WORDS = frozenset(["лет", "им", "имени", "линия", "съезда", "партсъезда"])
_VERB_LIKE = re.compile(r"(?:ет|ит|ют|ут|ат|ят|ла|ли|ло|ть|ся|сь)$")
_TYPE_NORMAL = {
    "улиц": "улица", "проспект": "проспект", "переул": "переулок", "шоссе": "шоссе",
    "бульвар": "бульвар", "проезд": "проезд", "набережн": "набережная", "площад": "площадь",
}
_ADJ_NOMINATIVE = [("ой", "ая"), ("ую", "ая")]
# The gender a street type gives the adjective that names it («Приморский бульвар»,
# «Московское шоссе»); feminine types keep _feminine_nominative.
_MASCULINE_TYPES = frozenset(
    ["проспект", "переулок", "бульвар", "проезд", "микрорайон", "тупик", "квартал"])
_NEUTER_TYPES = frozenset(["шоссе"])
# Oblique endings of an adjective that a street name never has in the nominative or as a
# surname in the genitive («бульвар Рокоссовского» is the name itself).
_OBLIQUE_ADJECTIVE_ENDINGS = ("ом", "ем", "ому", "ему", "ым", "им")
# Parts of speech that never start a street name written in lowercase after its type word
# («квартал утопает в мусоре»: a verb, not the name).
_NOT_A_NAME = frozenset(
    ["VERB", "INFN", "GRND", "PRTS", "ADVB", "PRED", "CONJ", "PRCL", "PREP", "NPRO", "INTJ",
     "COMP"])
# Street types a resident writes after an ordinal («17-й квартал», «3-й микрорайон»).
_ORDINAL_BEFORE_TYPES = frozenset(["квартал", "микрорайон", "проезд", "переулок"])
_ORDINAL_BEFORE_RE = re.compile(r"(?<![\w-])(\d{1,3})-?(?:й|я|го|ой|ый|ий)\s+$")
# An ordinal before a street's adjective name in any case («1-й Садовый проезд», «на 2-й
# Советской улице», «по 3-му Лесному переулку»): part of the name (1-й and 2-й Садовый are
# different streets).
_ORDINAL_BEFORE_NAME_RE = re.compile(
    r"(?<![\w-])(\d{1,3})-?(?:й|я|е|ю|го|ой|ый|ий|ая|ое|ую|м|ом|ем|му|ому|ему)\s+$")
# Type words that are also common nouns («проезд транспорта»: passage; «площадь застройки»:
# area): before a lowercase common noun in the genitive, singular too, they name no street.
_COMMON_NOUN_TYPES_STEMS = frozenset(["проезд", "площад"])


def _ordinal_suffix(type_name: str) -> str:
    """The nominative ending of an ordinal agreeing with a street type: «2-я улица»,
    «1-й проезд», «3-е шоссе»."""
    return "й" if type_name in _MASCULINE_TYPES else "е" if type_name in _NEUTER_TYPES else "я"


def _clean_name_words(raw: str) -> list[str]:
    """Keep the words that plausibly belong to a street name, left to right."""
    words = raw.split()
    kept: list[str] = []
    for i, word in enumerate(words):
        low = fold(word.rstrip(".,"))
        if low in _STOP_NAME_WORDS or (kept and word[:1].isdigit() and not _is_ordinal(word)):
            break
        if i == 0:
            if word[:1].islower() and _not_a_name(low):
                break
            kept.append(word)
            continue
        prev = kept[-1]
        if (
            word[:1].isupper()
            or low in _NAME_CONTINUE_WORDS
            or prev[:1].isdigit()
            or fold(prev) in _NAME_CONTINUE_WORDS
            or (len(prev) == 2 and prev.endswith("."))
            or (i == 1 and remainder(prev) in ADJECTIVE_ONLY_ENDINGS and not _VERB_LIKE.search(low)
                and word[:1].islower() and not prev[:1].isupper())
        ):
            kept.append(word)
            continue
        break
    return kept


@lru_cache(maxsize=20_000)
def _not_a_name(word: str) -> bool:
    """True for a lowercase word that is a verb, an adverb or a function word in its
    likeliest reading: it does not begin a street name."""
    if not word.isalpha():
        return False
    parse = analyzer().parse(word)[0]
    return parse.is_known and parse.tag.POS in _NOT_A_NAME


@lru_cache(maxsize=20_000)
def _common_genitive(word: str, *, singular: bool = False) -> bool:
    """True for a lowercase word whose likeliest reading is an inanimate common noun in the
    genitive plural («проезд фур», «проезд грузовиков»: the passage of lorries, not a
    street) or, with ``singular`` (after «проезд», «площадь»), in the genitive singular too
    («проезд транспорта», «площадь застройки»). Animate plurals name streets («проезд
    энтузиастов», «проспект металлургов»), and so do names («площадь ленина»)."""
    if not word.isalpha() or not word.islower():
        return False
    tag = analyzer().parse(word)[0].tag
    return (tag.POS == "NOUN" and "gent" in tag and "inan" in tag
            and ("plur" in tag or (singular and "sing" in tag))
            and not {"Name", "Surn", "Patr", "Geox"} & tag.grammemes)


@lru_cache(maxsize=20_000)
def _bare_nominative(name: str) -> str:
    """«(на) Октябрьской (180)» → «Октябрьская»: a feminine adjective naming a street without
    its type word, quoted in the nominative; a surname («на Ковалевской 3») stays as written."""
    if not name.endswith("ской"):
        return name
    parse = analyzer().parse(name.lower())[0]
    if parse.tag.POS != "ADJF" or "Surn" in parse.tag:
        return name
    return _feminine_nominative(name)


def _is_ordinal(word: str) -> bool:
    return bool(re.fullmatch(r"\d{1,3}-?(?:го|й|я|е|ой|ая|ий)", word))


def _feminine_nominative(name: str) -> str:
    """"(на улице) Курской" → "Курская": street adjectives are quoted in the nominative. A
    name in «-ей» is one only when the dictionary reads it as a feminine adjective («Верхней»
    → «Верхняя»); else it is the name itself («улица Строителей»)."""
    if name.endswith("ей") and len(name) > 4 and " " not in name:
        return _soft_feminine_nominative(name)
    for old, new in _ADJ_NOMINATIVE:
        if name.endswith(old) and len(name) > 4:
            return name[: -len(old)] + new
    return name


@lru_cache(maxsize=20_000)
def _soft_feminine_nominative(name: str) -> str:
    for parse in analyzer().parse(name.lower()):
        if parse.tag.POS == "ADJF" and "femn" in parse.tag and "Surn" not in parse.tag:
            form = parse.inflect({"nomn", "sing", "femn"})
            if form is not None:
                return _capitalize(form.word) if name[:1].isupper() else form.word
    return name


@lru_cache(maxsize=20_000)
def _adjective_nominative(name: str, type_name: str) -> str:
    """"(на бульваре) Приморском" → "Приморский", "(на) Московском (шоссе)" → "Московское":
    an adjective naming a masculine or neuter street type, quoted in the nominative. Only an
    oblique case (not the genitive, which a surname shares) and only an adjective the
    dictionary reads as one."""
    gender = "masc" if type_name in _MASCULINE_TYPES else "neut" if type_name in _NEUTER_TYPES \
        else None
    low = name.lower()
    if gender is None or " " in name or not (
            low.endswith(_OBLIQUE_ADJECTIVE_ENDINGS) or (type_name == "шоссе" and low.endswith(
                ("ого", "его")))):
        return name
    for parse in analyzer().parse(low):
        if parse.tag.POS != "ADJF" or "Surn" in parse.tag:
            continue
        form = parse.inflect({"nomn", "sing", gender})
        if form is not None:
            return _capitalize(form.word) if name[:1].isupper() else form.word
        break
    return name


def _house_after(text: str, pos: int) -> tuple[str | None, int]:
    m = _HOUSE_AFTER_RE.match(text, pos)
    if not m:
        return None, pos
    house = re.sub(r"\s+", "", m.group("house")).lower()
    house = re.sub(r"(корп\.?|корпус)", "к", house).replace("строение", "с").replace("стр.", "с")
    return house, m.end()


def _capitalize(name: str) -> str:
    return name[:1].upper() + name[1:] if name[:1].isalpha() else name


def find_streets(text: str) -> list[StreetMatch]:
    """Find street mentions (with a house number when one follows), left to right."""
    found: list[StreetMatch] = []
    taken: list[tuple[int, int]] = []

    def free(a: int, b: int) -> bool:
        return all(b <= s or a >= e for s, e in taken)

    after = any(word in text for word in _TYPE_AFTER_WORDS) or (
        "ул" in text and _UL_AFTER_RE.search(text) is not None)
    for m in _TYPE_AFTER_RE.finditer(text) if after else ():
        if not free(m.start(), m.end()):
            continue
        if m.group("name_house"):
            type_name, name = "улица", m.group("name_house")
        elif m.group("abbr"):
            abbr = fold(m.group("abbr"))
            type_name = _ABBR_TYPES.get(abbr) or _ABBR_TYPES[abbr.rstrip(".")]
            name = m.group("name_abbr")
        else:
            stem_type = next(k for k in _TYPE_NORMAL if fold(m.group("type")).startswith(k))
            type_name = _TYPE_NORMAL[stem_type]
            name = m.group("name")
        if type_name in ("улица", "набережная", "площадь"):
            name = _feminine_nominative(name)
        else:
            name = _adjective_nominative(name, type_name)
        start = m.start()
        ordinal = _ORDINAL_BEFORE_NAME_RE.search(text, max(0, start - 8), start)
        if ordinal and not m.group("name_house"):
            name = f"{ordinal.group(1)}-{_ordinal_suffix(type_name)} {name}"
            start = ordinal.start()
        house, end = _house_after(text, m.end())
        taken.append((start, end))
        found.append(StreetMatch(f"{type_name} {name}", house, start, end))
    for m in _type_first_matches(text):
        type_name = next(
            _TYPE_NAMES[i] for i in range(len(_TYPE_NAMES)) if m.group(f"t_{i}") is not None
        )
        words = _clean_name_words(m.group("name"))
        if not words and type_name in _ORDINAL_BEFORE_TYPES:
            # «17-й квартал утопает»: the ordinal before the type word is the name.
            ordinal = _ORDINAL_BEFORE_RE.search(text, max(0, m.start() - 8), m.start())
            type_end = m.end(f"t_{_TYPE_NAMES.index(type_name)}")
            if ordinal and free(ordinal.start(), type_end):
                taken.append((ordinal.start(), type_end))
                found.append(StreetMatch(f"{type_name} {ordinal.group(1)}-й", None,
                                         ordinal.start(), type_end))
            continue
        if not words:
            continue
        # «запретить проезд фур»: a type word written in full before a common noun in the
        # genitive plural is that noun's head («проезд», «площадь»), not a street.
        type_word = m.group(f"t_{_TYPE_NAMES.index(type_name)}")
        if type_word.isalpha() and len(words) == 1 and _common_genitive(
                words[0], singular=fold(type_word)[:6] in _COMMON_NOUN_TYPES_STEMS):
            continue
        # A one-letter word after "д."/"с." is an abbreviation of a place type, not a street.
        if len(words) == 1 and len(words[0].rstrip(".")) < 2:
            continue
        # "улице 15" is a house number after a name written before the type word.
        if len(words) == 1 and words[0].isdigit():
            continue
        name = re.sub(r"\.(?=\S)", ". ", " ".join(words)).rstrip(".,")
        if type_name in ("улица", "набережная", "площадь", "аллея") and len(words) == 1:
            name = _feminine_nominative(name)
        elif len(words) == 1:
            name = _adjective_nominative(name, type_name)
        pos = 0
        for word in words:
            pos = m.group("name").find(word, pos) + len(word)
        name_end = m.start("name") + pos
        if words[-1].endswith(".") and not (len(words[-1]) == 2):
            name_end -= 1
        house, end = _house_after(text, name_end)
        if not free(m.start(), end):
            continue
        taken.append((m.start(), end))
        found.append(StreetMatch(f"{type_name} {_capitalize(name)}", house, m.start(), end))
    for m in _BARE_RE.finditer(text):
        start = m.start("name")
        if not free(start, m.end()):
            continue
        house = re.sub(r"\s+", "", m.group("house2")).lower()
        taken.append((start, m.end()))
        found.append(StreetMatch(f"улица {_bare_nominative(m.group('name'))}", house, start,
                                 m.end()))
    found.sort(key=lambda s: s.start)
    return found
