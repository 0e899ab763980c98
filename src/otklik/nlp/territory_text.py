"""Words around a place name: tokens, type words ("с.", "района", "области"), and the
tests that tell a place from an ordinary word or a surname (package-internal; used by
:mod:`otklik.nlp.territory`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import overload

from otklik.nlp.address import ADJECTIVE_ONLY_ENDINGS, WORD_RE, fold, remainder, stem
from otklik.nlp.morph import analyzer

# Settlement types named by a word before the name (folded stem or abbreviation).
_CITY = frozenset({"г"})
_VILLAGE = frozenset({"с", "c"})
_HAMLET = frozenset({"д"})
_SETTLE = frozenset({"п", "пгт", "рп", "дп", "кп", "гп", "нп", "п/ст", "ж/д_ст", "мкр"})
_KHUTOR = frozenset({"х", "x"})
_STANITSA = frozenset({"ст-ца", "ст", "ж/д_ст"})
_AUL = frozenset({"аул", "аал"})
_SLOBODA = frozenset({"сл"})
# Type-word stems (or abbreviations). Dotted one-letter abbreviations are handled apart:
# a bare "с"/"в"/"д" is a preposition or a house marker far more often than a place type.
_TYPE_BEFORE: dict[str, frozenset[str]] = {
    "город": _CITY, "гор": _CITY, "г": _CITY,
    "сел": _VILLAGE, "сельц": _VILLAGE,
    "деревн": _HAMLET, "дер": _HAMLET,
    "поселок": _SETTLE, "поселк": _SETTLE, "пос": _SETTLE, "пгт": _SETTLE, "рп": _SETTLE,
    "хутор": _KHUTOR, "хут": _KHUTOR,
    "станиц": _STANITSA, "ст-ц": _STANITSA, "ст-ца": _STANITSA,
    "аул": _AUL, "слобод": _SLOBODA,
}
_DOTTED_TYPES: dict[str, frozenset[str]] = {
    "г": _CITY, "с": _VILLAGE, "д": _HAMLET, "п": _SETTLE, "х": _KHUTOR, "ст": _STANITSA,
    "сл": _SLOBODA,
}
_MUNI_AFTER = frozenset({"район", "р-н", "р-на", "р-не", "р-ну", "р-ном", "округ", "мр", "го",
                         "кожуун", "улус", "муниципальн", "городск"})
_MUNI_BEFORE_PAIRS = frozenset({("городск", "округ"), ("муниципальн", "округ"),
                                ("муниципальн", "район")})
_REGION_AFTER = frozenset({"област", "обл", "кра", "край", "республик", "респ", "ао"})
_REGION_BEFORE = frozenset({"республик", "респ"})
# Words after which a name is a river, a park, a shop or a street, not a settlement.
_BLOCKERS = frozenset(
    """рек реч озер пруд парк сквер тц трц тк магазин кафе ресторан гостиниц кинотеатр
    остановк ул улиц переул проспект пр-т бульвар площад набережн шоссе мост клуб дол снт
    гск ооо оао зао пао ао ип ук тсж жк фирм компани завод фабрик стадион лагер санатори
    храм церкв школ лице гимнази больниц поликлиник детск сад бц""".split()
)
_QUOTES = "«\"'`“„"
_SENTENCE_END = re.compile(r"[.!?\n]\s*$")


@dataclass(slots=True)
class _Token:
    start: int
    end: int
    surface: str
    stem: str
    dotted: bool
    capitalized: bool



@dataclass(slots=True)
class _Mention:
    i: int
    j: int
    candidates: tuple[int, ...]
    type_before: frozenset[str] | None = None
    muni_context: bool = False
    region_context: bool = False
    scores: dict[int, float] = field(default_factory=dict)
    level: int = -1  # common level of the span, computed once (see _span_common_level)
    entry: int = -1  # the gazetteer entry the span matched


@lru_cache(maxsize=100_000)
def common_level(word: str) -> int:
    """0: a place name; 1: a place name that is also a word; 2: an ordinary word.

    A lowercase word that the dictionary knows in any non-geographic sense ("на лугу") is
    ordinary: residents capitalize town names far more often than they misspell words.
    """
    lowercase = word[:1].islower()
    word = fold(word)
    if len(word) <= 2 or not re.search("[а-я]", word):
        return 2
    parses = analyzer().parse(word)
    if not parses or not parses[0].is_known:
        return 0
    geox = ["Geox" in p.tag for p in parses]
    if lowercase and not all(geox):
        return 2
    if geox[0]:
        return 0
    return 1 if any(geox) else 2


@lru_cache(maxsize=50_000)
def _is_personal_name(word: str) -> bool:
    """A first name or patronymic ("Римма", "Леонидовна"): the word next to it is a surname."""
    parses = analyzer().parse(fold(word))
    return bool(parses) and parses[0].is_known and (
        "Name" in parses[0].tag or "Patr" in parses[0].tag
    )



def _sentence_start(text: str, start: int) -> bool:
    """True when a token at ``start`` opens the text or a sentence ("." "!" "?" or a line
    break, then only whitespace, within the three characters before it)."""
    if start == 0:
        return True
    before = text[max(0, start - 3) : start]
    body = before.rstrip()
    if len(body) < len(before) and "\n" in before[len(body) :]:
        return True
    return bool(body) and body[-1] in ".!?"


class _TokenList(Sequence[_Token]):
    """The words of a text, built lazily: the gazetteer search needs only every word's
    stem; a full :class:`_Token` (offsets, dot after it, mid-sentence capital) is made
    for the few words around a name the search found."""

    __slots__ = ("text", "_matches", "stems", "_built")

    def __init__(self, text: str) -> None:
        self.text = text
        self._matches = list(WORD_RE.finditer(text))
        self.stems = list(map(stem, map(re.Match.group, self._matches)))
        self._built: list[_Token | None] = [None] * len(self._matches)

    def __len__(self) -> int:
        return len(self._matches)

    def span(self, i: int) -> tuple[int, int]:
        """Character offsets of word ``i`` (without building its token)."""
        return self._matches[i].span()

    def surface(self, i: int) -> str:
        """Word ``i`` as written (without building its token)."""
        return self._matches[i].group()

    def type_word_at(self, i: int) -> frozenset[str] | None:
        """:func:`_type_word` of word ``i`` (without building its token)."""
        m = self._matches[i]
        end = m.end()
        return _type_word(m.group(), self.text[end : end + 1] == ".", self.stems[i])

    @overload
    def __getitem__(self, i: int) -> _Token: ...

    @overload
    def __getitem__(self, i: slice) -> list[_Token]: ...

    def __getitem__(self, i: int | slice) -> _Token | list[_Token]:
        if type(i) is slice:
            return [self[k] for k in range(*i.indices(len(self)))]
        token = self._built[i]  # type: ignore[index]
        if token is None:
            m = self._matches[i]
            surface = m.group()
            start, end = m.span()
            text = self.text
            token = self._built[i] = _Token(
                start,
                end,
                surface,
                self.stems[i if i >= 0 else len(self) + i],
                text[end : end + 1] == ".",
                # Only a capital that is not the first letter of a sentence is evidence.
                surface[:1].isupper() and not _sentence_start(text, start),
            )
        return token


def _tokens(text: str) -> _TokenList:
    return _TokenList(text)


def _type_before(tokens: Sequence[_Token], i: int) -> frozenset[str] | None:
    if i == 0:
        return None
    prev = tokens[i - 1]
    return _type_word(prev.surface, prev.dotted, prev.stem)


@lru_cache(maxsize=20_000)
def _type_word(surface: str, dotted: bool, stem_: str) -> frozenset[str] | None:
    """The settlement types a word names when it stands before a name ("с.", "посёлка")."""
    low = fold(surface)
    if dotted and low in _DOTTED_TYPES:
        return _DOTTED_TYPES[low]
    if len(low) == 1 and low != "г":
        return None  # bare "с", "в", "д": prepositions or house markers
    return _TYPE_BEFORE.get(stem_) or _TYPE_BEFORE.get(low)


def _muni_context(tokens: Sequence[_Token], i: int, j: int) -> bool:
    if j < len(tokens):
        nxt = tokens[j].stem
        if nxt in _MUNI_AFTER or fold(tokens[j].surface) in _MUNI_AFTER:
            if nxt in ("муниципальн", "городск"):
                return j + 1 < len(tokens) and tokens[j + 1].stem in ("округ", "район")
            return True
    if i >= 2 and (tokens[i - 2].stem, tokens[i - 1].stem) in _MUNI_BEFORE_PAIRS:
        return True
    return i >= 1 and fold(tokens[i - 1].surface) in ("го", "мо")


def _region_context(tokens: Sequence[_Token], i: int, j: int) -> bool:
    if j < len(tokens) and (tokens[j].stem in _REGION_AFTER or fold(tokens[j].surface) == "ао"):
        return True
    return i >= 1 and tokens[i - 1].stem in _REGION_BEFORE



def _not_a_place(tokens: Sequence[_Token], i: int, j: int, text: str) -> bool:
    """Spans that look like a place name but are something else."""
    first = tokens[i]
    if len(first.surface) <= 2 and not first.capitalized:
        return True
    if i > 0 and tokens[i - 1].stem in _BLOCKERS and _type_before(tokens, i) is None:
        return True
    if first.start > 0 and text[first.start - 1] in _QUOTES:
        return True
    # "Шеховцова Римма Анатольевна", "Дорохова Елена", "Иванов И.И.": a surname.
    if j < len(tokens):
        nxt = tokens[j]
        if nxt.surface[:1].isupper() and (
            _is_personal_name(nxt.surface) or (len(nxt.surface) == 1 and nxt.dotted)
        ):
            return True
    return i > 0 and tokens[i - 1].surface[:1].isupper() and _is_personal_name(
        tokens[i - 1].surface
    )


def _span_common_level(tokens: Sequence[_Token], m: _Mention) -> int:
    if m.level < 0:
        m.level = _span_level(tokens, m)
    return m.level


def _span_level(tokens: Sequence[_Token], m: _Mention) -> int:
    span = tokens[m.i : m.j]
    surface = " ".join(t.surface for t in span)
    # Two-letter names and short all-caps tokens ("ЖКХ", "МКД") are not evidence of a place.
    if len(surface) <= 2 or (len(surface) <= 4 and surface.isupper()):
        return 2
    return min(common_level(t.surface) for t in span)



def _quiet(tokens: Sequence[_Token], i: int) -> bool:
    """A one-word span that only a named district could make a settlement of: lowercase,
    no type word before it, a dictionary word, not an adjective form (the rules of
    :meth:`TerritoryStage._score_settlements` reject every other candidate of it)."""
    if isinstance(tokens, _TokenList):
        surface = tokens.surface(i)
        if not surface[:1].isupper():
            # Lowercase: never capitalized, so the word and the one before it decide,
            # without building either token.
            return _quiet_word(surface) and (i == 0 or tokens.type_word_at(i - 1) is None)
    tok = tokens[i]
    if tok.capitalized or _type_before(tokens, i) is not None:
        return False
    return _quiet_word(tok.surface)


@lru_cache(maxsize=100_000)
def _quiet_word(surface: str) -> bool:
    """The part of :func:`_quiet` that depends on the word alone."""
    if remainder(surface) in ADJECTIVE_ONLY_ENDINGS:
        return False
    if len(surface) <= 2 or (len(surface) <= 4 and surface.isupper()):
        return True  # level 2, as in _span_level
    return common_level(surface) >= 1


# «на Чичерина», «по Советской», «возле Гагарина»: a preposition of a route or a spot and
# one capitalized word in the form a street name takes after it (a surname in the genitive,
# a feminine adjective). A settlement is «в Чичерино», «из Чичерина», «до Советского».
_STREET_PREPOSITIONS = frozenset({"на", "по", "вдоль", "возле", "около", "напротив"})
_STREET_GENITIVE = re.compile(r"(?:ова|ева|ёва|ина|ына|ского|цкого)$")
_STREET_ADJECTIVE = re.compile(r"(?:ой|ей)$")
_WORD_BEFORE = re.compile(r"(?<![А-Яа-яЁёA-Za-z])([А-Яа-яЁё]+)\s+$")


def street_looking(text: str, start: int, end: int) -> str | None:
    """The street («улица Чичерина», «улица Советская») that the one capitalized word at
    ``text[start:end]`` names when it reads as a street without its type word: after «на»,
    «по», «возле» ... and in a street name's form. None otherwise."""
    word = text[start:end]
    if not WORD_RE.fullmatch(word) or not word[:1].isupper() or "-" in word:
        return None
    preposition = _WORD_BEFORE.search(text, 0, start)
    if preposition is None or fold(preposition.group(1)) not in _STREET_PREPOSITIONS:
        return None
    low = fold(word)
    if _STREET_GENITIVE.search(low):
        return f"улица {word}"
    if _STREET_ADJECTIVE.search(low) and len(word) > 4:
        return f"улица {word[:-2]}ая"
    return None


_CAPITALIZED = re.compile(r"(?<![А-Яа-яЁёA-Za-z0-9-])[А-ЯЁ][а-яё]+(?![А-Яа-яЁёA-Za-z0-9-])")
_WORD_AFTER = re.compile(r"\s+([А-Яа-яЁё]+)")


def bare_street(text: str, taken: Sequence[tuple[int, int]] = ()) -> tuple[str, int, int] | None:
    """The first street named without its type word («дорога на Красной вся в ямах»,
    «площадка на Гидротурбинной утопает в мусоре», «ямы по Чапаева»): (street, start, end),
    or None. A word inside ``taken`` (a place the gazetteer knows there) is left to the
    territory stage; an adjective followed by a lowercase noun describes that noun
    («по Тамбовской области», «на Красной площади»), not a street."""
    for m in _CAPITALIZED.finditer(text):
        start, end = m.span()
        if any(a <= start < b for a, b in taken):
            continue
        street = street_looking(text, start, end)
        if street is None:
            continue
        if _aimed_at_person(text, start):
            continue
        if _STREET_ADJECTIVE.search(fold(m.group())):
            after = _WORD_AFTER.match(text, end)
            if after and after.group(1)[:1].islower() and _noun(after.group(1).lower()):
                continue
        return street, start, end
    return None


# «жалоба на Иванова», «надеемся на Петрова»: a surname after «на» is also a person.
_AT_PERSON = frozenset({"жалоба", "жаловаться", "пожаловаться", "надеяться", "управа",
                        "повлиять", "влиять", "заявление", "донос"})
_TWO_WORDS_BEFORE = re.compile(r"([А-Яа-яЁё]+)\s+[А-Яа-яЁё]+\s+$")


def _aimed_at_person(text: str, start: int) -> bool:
    before = _TWO_WORDS_BEFORE.search(text, max(0, start - 60), start)
    if before is None:
        return False
    return analyzer().parse(before.group(1).lower())[0].normal_form in _AT_PERSON


@lru_cache(maxsize=20_000)
def _noun(word: str) -> bool:
    return analyzer().parse(word)[0].tag.POS == "NOUN"
