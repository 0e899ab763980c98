"""Territory recognition: region, municipality, settlement, street and house of a message.

The gazetteer (all of Russia: 86 regions, 2 394 municipalities, 155 921 settlements from
``otklik/territories/data/territories.json.gz``) is keyed on word stems
(:func:`otklik.nlp.address.stem`) and searched with one Aho-Corasick pass
(pyahocorasick) over the stemmed text, so every case form and multi-word name is found
at once ("Медвежьегорский район" ↔ "в Медвежьегорском районе", "Ростов-на-Дону" ↔
"в Ростове-на-Дону"). Candidates are then scored with evidence a person can check:
a type word next to the name ("с. Мир", "Курского района", "г. Льгов"), the region hint
of the source, co-mentioned municipalities and regions, population, capitalization.
Names that are ordinary words ("мир", "поле", "школа", surnames) need strong evidence.
"""

from __future__ import annotations

import ctypes
import gc
import math
import re
import sys
from array import array
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any, ClassVar, NamedTuple

import ahocorasick

from otklik.nlp.address import (
    ADJECTIVE_ENDINGS,
    ADJECTIVE_ONLY_ENDINGS,
    WORD_RE,
    find_streets,
    fold,
    remainder,
    stem,
)
from otklik.nlp.base import Doc, Stage, StageResult
from otklik.nlp.gazetteer_data import read_territory_data
from otklik.nlp.morph import analyzer

REGION, MUNI, SETTLEMENT = 0, 1, 2
_SHIFT = 22  # candidate id = level << _SHIFT | index

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
_REGION_ALIASES: dict[str, str] = {
    "Кубань": "03", "Ставрополье": "07", "Приморье": "05", "Забайкалье": "76",
    "Подмосковье": "46", "Югра": "718", "Ямал": "719", "Кузбасс": "32", "Чукотка": "77",
    "Камчатка": "30", "Петербург": "40", "Питер": "40", "Башкирия": "80", "Татария": "92",
    "Удмуртия": "94", "Чувашия": "97", "Якутия": "98", "Чечня": "96", "Калмыкия": "85",
    "Карелия": "86", "Мордовия": "89", "Хакасия": "95", "Бурятия": "81", "Адыгея": "79",
}
_REGION_TYPE_WORDS = re.compile(
    r"\b(область|край|республика|автономный округ|автономная область|город)\b|\s-\s.*$|—.*$",
    re.IGNORECASE,
)
_PAREN_RE = re.compile(r"\(.*?\)")
# Words after which a name is a river, a park, a shop or a street, not a settlement.
_BLOCKERS = frozenset(
    """рек реч озер пруд парк сквер тц трц тк магазин кафе ресторан гостиниц кинотеатр
    остановк ул улиц переул проспект пр-т бульвар площад набережн шоссе мост клуб дол снт
    гск ооо оао зао пао ао ип ук тсж жк фирм компани завод фабрик стадион лагер санатори
    храм церкв школ лице гимнази больниц поликлиник детск сад бц""".split()
)
_QUOTES = "«\"'`“„"
_SENTENCE_END = re.compile(r"[.!?\n]\s*$")

# Scoring weights (log-odds-like points); thresholds below decide what is reported.
W_TYPE = 3.0
W_TYPE_LOOSE = 1.5
W_MUNI_TYPE = 4.0
W_HINT = 2.5
W_OUT_OF_HINT = -5.0
W_REGION_MENTIONED = 1.5
W_MUNI_MENTIONED = 3.0
W_CITY = 0.7
W_CAPITAL = 0.5
W_ADJ_REFERENCE = -1.5
W_MULTIWORD = 0.5
W_SMALL_WITHOUT_TYPE = -1.0
W_URBAN_WITHOUT_TYPE = -1.0
SETTLEMENT_MIN = 2.0
MUNI_MIN = 2.5
REGION_MIN = 2.0


@dataclass(slots=True)
class _Token:
    start: int
    end: int
    surface: str
    stem: str
    dotted: bool
    capitalized: bool


class _SettlementInfo(NamedTuple):
    cand: int
    idx: int
    name: str
    pop: int
    stype: str
    muni: int
    region: int
    is_adj: bool
    pop_term: float  # 0.4 * log10(population + 10), the population's share of the score


_INFO_CACHE = 20_000


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


@cache
def _name_stems(name: str) -> tuple[str, ...]:
    name = _PAREN_RE.sub(" ", name)
    return tuple(stem(w) for w in WORD_RE.findall(name))


def _fleeting_variant(stems: tuple[str, ...]) -> tuple[str, ...] | None:
    """"Орёл"→"орл", "Елец"→"ельц": the oblique-case stem of a fleeting-vowel noun."""
    last = stems[-1]
    if last[-2:-1] not in ("е", "о"):
        return None
    m = re.search(r"([бвгджзклмнпрстфхцчшщ])(е|о)([клц])$", last)
    if not m or len(last) < 4:
        return None
    soft = "ь" if m.group(1) in "лн" and m.group(2) == "е" else ""
    return (*stems[:-1], last[: m.start(2)] + soft + m.group(3))


class _StringColumn:
    """Many short strings stored as one string and an offset array.

    A list of 155 921 separate str objects costs ~10 MB and, worse, pins the memory the
    decoded JSON used; one joined string is compact and lets that memory go back.
    """

    def __init__(self, values: Sequence[str]) -> None:
        self._text = "".join(values)
        self._ends = array("l")
        end = 0
        for value in values:
            end += len(value)
            self._ends.append(end)

    def __len__(self) -> int:
        return len(self._ends)

    def __getitem__(self, idx: int) -> str:
        start = self._ends[idx - 1] if idx > 0 else 0
        return self._text[start : self._ends[idx]]

    def __iter__(self) -> Iterator[str]:
        return (self[i] for i in range(len(self)))


class TerritoryIndex:
    """The whole-country gazetteer as an Aho-Corasick automaton over word stems."""

    def __init__(self, data: dict[str, Any] | None = None) -> None:
        """Build from the reference; without ``data`` it is read and dropped after use."""
        owned = data is None
        if data is None:
            data = read_territory_data()
        self.regions: list[dict[str, Any]] = data["regions"]
        self.munis: list[dict[str, Any]] = data["municipalities"]
        rows = data["settlements"]["rows"]
        # Only the columns recognition needs, as compact arrays; repeated names and types
        # ("Александровка", "д") share one string object.
        self.s_muni = array("i", (r[0] for r in rows))
        self.s_pop = array("i", (r[4] for r in rows))
        self.s_name = _StringColumn([r[2] for r in rows])
        self.s_type = [sys.intern(r[3]) for r in rows]
        self.s_oktmo = _StringColumn([r[7] or "" for r in rows])
        self._synthetic_keys = {i: r[1] for i, r in enumerate(rows) if r[1] != r[7]}
        self.region_by_code = {r["code"]: i for i, r in enumerate(self.regions)}
        self.muni_region = [self.region_by_code[m["region"]] for m in self.munis]
        self.version: str = data["version"]
        if owned:
            # Free the decoded rows before the automaton is built: objects allocated
            # afterwards then do not pin the rows' memory, which goes back to the OS.
            del rows
            data.clear()
            gc.collect()
            _release_free_memory()

        buckets: dict[tuple[str, ...], list[int]] = {}

        def add(stems: tuple[str, ...], cand: int) -> None:
            if stems and all(stems):
                bucket = buckets.setdefault(stems, [])
                if not bucket or bucket[-1] != cand:
                    bucket.append(cand)

        for i, r in enumerate(self.regions):
            cand = REGION << _SHIFT | i
            add(_name_stems(_REGION_TYPE_WORDS.sub(" ", r["name"])), cand)
            add(_name_stems(r["short_name"]), cand)
        for alias, code in _REGION_ALIASES.items():
            add(_name_stems(alias), REGION << _SHIFT | self.region_by_code[code])
        for i, m in enumerate(self.munis):
            cand = MUNI << _SHIFT | i
            add(_name_stems(m["short_name"]), cand)
        for i, name in enumerate(self.s_name):
            cand = SETTLEMENT << _SHIFT | i
            stems = _name_stems(name)
            add(stems, cand)
            if stems:
                variant = _fleeting_variant(stems)
                if variant:
                    add(variant, cand)

        # Districts whose bare adjective ("Льговского РЭС") points at them alone: not named
        # after a town of their region ("Курский" ↔ Курск, "Льговский" ↔ Льгов) and not a
        # generic name shared across the country ("Октябрьский", "Советский").
        short_count: dict[tuple[str, ...], int] = {}
        for m in self.munis:
            key = _name_stems(m["short_name"])
            short_count[key] = short_count.get(key, 0) + 1
        town_stems = {
            (self.muni_region[self.s_muni[i]], stems[-1] + suffix)
            for i, t in enumerate(self.s_type) if t == "г"
            for stems in [_name_stems(self.s_name[i])] if stems
            for suffix in ("", "ск")
        }
        self.distinct_adjective = {
            i for i, m in enumerate(self.munis)
            if short_count[_name_stems(m["short_name"])] < 3
            and (self.muni_region[i], _name_stems(m["short_name"])[-1]) not in town_stems
        }

        self.entries: list[tuple[int, ...]] = []
        self._settlement_info: dict[int, tuple[_SettlementInfo, ...]] = {}
        self.automaton = ahocorasick.Automaton()
        for stems, cands in buckets.items():
            key = " " + " ".join(stems) + " "
            self.automaton.add_word(key, (len(self.entries), len(stems), len(key)))
            self.entries.append(tuple(cands))
        self.automaton.make_automaton()
        _name_stems.cache_clear()
        stem.cache_clear()  # names are indexed; keep the cache for words of messages

    # -- lookups -------------------------------------------------------------------------
    def settlement_key(self, idx: int) -> str:
        """Stable key of a settlement: its OKTMO, or a synthetic key where that is unusable."""
        return self._synthetic_keys.get(idx) or self.s_oktmo[idx]

    def candidate_name(self, cand: int) -> str:
        """Display name of a candidate id."""
        level, idx = cand >> _SHIFT, cand & ((1 << _SHIFT) - 1)
        if level == REGION:
            return str(self.regions[idx]["name"])
        if level == MUNI:
            return str(self.munis[idx]["name"])
        return self.s_name[idx]

    def region_of(self, cand: int) -> int:
        """Region index of a candidate."""
        level, idx = cand >> _SHIFT, cand & ((1 << _SHIFT) - 1)
        if level == REGION:
            return idx
        if level == MUNI:
            return self.muni_region[idx]
        return self.muni_region[self.s_muni[idx]]

    def find(self, stems: Sequence[str]) -> list[tuple[int, int, tuple[int, ...]]]:
        """All gazetteer names in a stem sequence as (first token, end token, candidates)."""
        return [(i, j, self.entries[entry]) for i, j, entry in self.find_entries(stems)]

    def find_entries(self, stems: Sequence[str]) -> list[tuple[int, int, int]]:
        """:meth:`find` with the entry number instead of its candidates."""
        line = " " + " ".join(stems) + " "
        starts: dict[int, int] = {}
        pos = 0  # offset of the space before token t
        for t, s in enumerate(stems):
            starts[pos] = t
            pos += len(s) + 1
        out = []
        for end, (entry, n, key_len) in self.automaton.iter(line):
            t = starts.get(end - key_len + 1)
            if t is not None:
                out.append((t, t + n, entry))
        return out

    def settlement_info(self, entry: int) -> tuple[_SettlementInfo, ...]:
        """What scoring needs of each settlement candidate of an entry, looked up once.

        Kept per gazetteer entry (a name, not a text), at most a few thousand of them.
        """
        info = self._settlement_info.get(entry)
        if info is None:
            if len(self._settlement_info) >= _INFO_CACHE:
                self._settlement_info.clear()
            rows = []
            for cand in self.entries[entry]:
                if cand >> _SHIFT != SETTLEMENT:
                    continue
                idx = cand & _MASK
                name = self.s_name[idx]
                pop = self.s_pop[idx]
                muni = self.s_muni[idx]
                rows.append(_SettlementInfo(
                    cand, idx, name, pop, self.s_type[idx], muni, self.muni_region[muni],
                    _is_adjective_name(name), 0.4 * math.log10(pop + 10),
                ))
            info = self._settlement_info[entry] = tuple(rows)
        return info


_INDEX: TerritoryIndex | None = None


def get_index() -> TerritoryIndex:
    """The process-wide gazetteer index (built on first use, ~2 s).

    It reads the reference file without the shared cache so that the decoded file
    (~90 MB of Python objects) is freed once the compact index is built.
    """
    global _INDEX
    if _INDEX is None:
        _INDEX = TerritoryIndex()
        _release_free_memory()
    return _INDEX


def _release_free_memory() -> None:
    """Hand the decoded file's freed pages back to the OS (glibc only; halves the RSS)."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


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


def _tokens(text: str) -> list[_Token]:
    out: list[_Token] = []
    append = out.append
    for m in WORD_RE.finditer(text):
        surface = m.group()
        start, end = m.span()
        append(
            _Token(
                start,
                end,
                surface,
                stem(surface),
                text[end : end + 1] == ".",
                # Only a capital that is not the first letter of a sentence is evidence.
                surface[:1].isupper() and not _sentence_start(text, start),
            )
        )
    return out


def _type_before(tokens: list[_Token], i: int) -> frozenset[str] | None:
    if i == 0:
        return None
    prev = tokens[i - 1]
    low = fold(prev.surface)
    if prev.dotted and low in _DOTTED_TYPES:
        return _DOTTED_TYPES[low]
    if len(low) == 1 and low != "г":
        return None  # bare "с", "в", "д": prepositions or house markers
    return _TYPE_BEFORE.get(prev.stem) or _TYPE_BEFORE.get(low)


def _muni_context(tokens: list[_Token], i: int, j: int) -> bool:
    if j < len(tokens):
        nxt = tokens[j].stem
        if nxt in _MUNI_AFTER or fold(tokens[j].surface) in _MUNI_AFTER:
            if nxt in ("муниципальн", "городск"):
                return j + 1 < len(tokens) and tokens[j + 1].stem in ("округ", "район")
            return True
    if i >= 2 and (tokens[i - 2].stem, tokens[i - 1].stem) in _MUNI_BEFORE_PAIRS:
        return True
    return i >= 1 and fold(tokens[i - 1].surface) in ("го", "мо")


def _region_context(tokens: list[_Token], i: int, j: int) -> bool:
    if j < len(tokens) and (tokens[j].stem in _REGION_AFTER or fold(tokens[j].surface) == "ао"):
        return True
    return i >= 1 and tokens[i - 1].stem in _REGION_BEFORE


class TerritoryStage(Stage):
    """Find region, municipality, settlement, street and house in a message."""

    name: ClassVar[str] = "territory"

    def __init__(self, index: TerritoryIndex | None = None) -> None:
        self.index = index if index is not None else get_index()

    def process(self, docs: Sequence[Doc]) -> list[StageResult]:
        """Return one territory result per document."""
        return [self.recognize(doc.clean or doc.text or "", doc.region) for doc in docs]

    # -- one text ------------------------------------------------------------------------
    def recognize(self, text: str, region_hint: str | None = None) -> StageResult:
        """Recognize the territory of one text; ``region_hint`` is an OKTMO region code."""
        ix = self.index
        hint = ix.region_by_code.get(region_hint) if region_hint else None
        streets = find_streets(text)
        tokens = _tokens(text)
        masked = {
            t for t, tok in enumerate(tokens)
            for s in streets if tok.start >= s.start and tok.end <= s.end
        }
        # Spans in text order; a "quiet" one (see _quiet) stays a bare (i, j, entry) unless
        # the text names a district, because only a settlement of a named district could
        # come of it; most ordinary words found in the gazetteer ("уже", "раз") are such.
        spans: list[_Mention | tuple[int, int, int]] = []
        quiet = False
        for i, j, entry in ix.find_entries([t.stem for t in tokens]):
            if masked and any(t in masked for t in range(i, j)):
                continue
            cands = ix.entries[entry]
            if j - i == 1 and cands[0] >> _SHIFT == SETTLEMENT and _quiet(tokens, i):
                spans.append((i, j, entry))
                quiet = True
            elif not _not_a_place(tokens, i, j, text):
                spans.append(self._mention(tokens, i, j, entry))
        mentions = [m for m in spans if isinstance(m, _Mention)]
        why: list[str] = []
        regions_named = self._score_regions(mentions, tokens)
        munis_named = self._score_munis(mentions, tokens, hint, regions_named)
        if quiet and munis_named:
            mentions = [
                m if isinstance(m, _Mention) else self._mention(tokens, m[0], m[1], m[2])
                for m in spans
                if isinstance(m, _Mention) or not _not_a_place(tokens, m[0], m[1], text)
            ]
        self._score_settlements(
            mentions, tokens, hint, regions_named, munis_named, urban=bool(streets)
        )

        best_r, best_m, best_s = _bests(mentions)
        muni_idx: int | None = best_m[1] & _MASK if best_m else None
        settle_idx: int | None = best_s[1] & _MASK if best_s else None
        if best_m and best_s and settle_idx is not None and ix.s_muni[settle_idx] != muni_idx:
            # Named district vs. settlements elsewhere: each side gets its own score plus
            # the best settlement of every mention that lies inside it.
            support = _support_by_muni(mentions, ix)
            other = ix.s_muni[settle_idx]
            named_side = best_m[0] + support.get(muni_idx, 0.0)
            if named_side >= support.get(other, 0.0):
                inside = _best(mentions, SETTLEMENT, SETTLEMENT_MIN, muni=muni_idx, ix=ix)
                why.append(
                    f"«{ix.munis[muni_idx]['name']}» is named ({named_side:.1f}) and outweighs "
                    f"«{ix.s_name[settle_idx]}» of «{ix.munis[other]['name']}» "
                    f"({support.get(other, 0.0):.1f})"
                )
                best_s = inside
                settle_idx = inside[1] & _MASK if inside else None
            else:
                why.append(
                    f"settlements of «{ix.munis[other]['name']}» ({support[other]:.1f}) outweigh "
                    f"the named «{ix.munis[muni_idx]['name']}» ({named_side:.1f})"
                )
                muni_idx = other
        if muni_idx is None and settle_idx is not None:
            muni_idx = ix.s_muni[settle_idx]
        region_idx: int | None = None
        if muni_idx is not None:
            region_idx = ix.muni_region[muni_idx]
        elif best_r:
            region_idx = best_r[1] & _MASK

        value: dict[str, Any] = {
            "region": None, "municipality": None, "settlement": None,
            "street": streets[0].street if streets else None,
            "house": streets[0].house if streets else None,
        }
        if region_idx is not None:
            r = ix.regions[region_idx]
            value["region"] = {"code": r["code"], "name": r["name"]}
        if muni_idx is not None:
            m = ix.munis[muni_idx]
            value["municipality"] = {"name": m["name"], "oktmo": m["oktmo"], "key": m["key"]}
        if settle_idx is not None:
            value["settlement"] = {
                "name": ix.s_name[settle_idx], "oktmo": ix.s_oktmo[settle_idx] or None,
                "key": ix.settlement_key(settle_idx), "type": ix.s_type[settle_idx],
            }
        decisive = best_s or best_m or best_r
        confidence = self._confidence(mentions, decisive, value)
        if decisive is None:
            why.append("no place name with enough evidence")
        explain = {
            "mentions": [self._explain_mention(m, tokens, text) for m in mentions if m.scores],
            "why": why,
            "region_hint": region_hint,
            "streets": [
                {"street": s.street, "house": s.house, "span": text[s.start : s.end]}
                for s in streets
            ],
            "gazetteer": ix.version,
        }
        if not any(value[k] for k in ("region", "municipality", "settlement", "street")):
            value = {k: None for k in value}
        return StageResult(value=value, confidence=confidence, explain=explain)

    def _mention(self, tokens: list[_Token], i: int, j: int, entry: int) -> _Mention:
        return _Mention(
            i, j, self.index.entries[entry], _type_before(tokens, i),
            _muni_context(tokens, i, j), _region_context(tokens, i, j), entry=entry,
        )

    # -- scoring -------------------------------------------------------------------------
    def _region_terms(self, region: int, hint: int | None, named: set[int]) -> float:
        if region in named:
            return W_REGION_MENTIONED + (W_HINT if region == hint else 0.0)
        if hint is None:
            return 0.0
        return W_HINT if region == hint else W_OUT_OF_HINT

    def _score_regions(self, mentions: list[_Mention], tokens: list[_Token]) -> set[int]:
        named: set[int] = set()
        for m in mentions:
            level = _span_common_level(tokens, m)
            last = tokens[m.j - 1]
            for cand in m.candidates:
                if cand >> _SHIFT != REGION:
                    continue
                idx = cand & _MASK
                short = self.index.regions[idx]["short_name"]
                is_adj = _is_adjective_name(short)
                if m.region_context:
                    score = W_MUNI_TYPE
                elif is_adj or m.muni_context or m.type_before or level == 2:
                    continue
                else:
                    score = 2.5 if last.capitalized or level == 0 else 1.0
                m.scores[cand] = score
                if score >= REGION_MIN:
                    named.add(idx)
        return named

    def _score_munis(
        self, mentions: list[_Mention], tokens: list[_Token], hint: int | None, regions: set[int]
    ) -> set[int]:
        ix = self.index
        named: set[int] = set()
        for m in mentions:
            level = _span_common_level(tokens, m)
            last = tokens[m.j - 1]
            ending = remainder(last.surface)
            for cand in m.candidates:
                if cand >> _SHIFT != MUNI:
                    continue
                idx = cand & _MASK
                muni = ix.munis[idx]
                is_adj = _is_adjective_name(muni["short_name"])
                if is_adj and ending not in ADJECTIVE_ENDINGS:
                    continue
                if not is_adj and ending in ADJECTIVE_ONLY_ENDINGS:
                    continue
                if m.region_context:
                    continue
                if m.muni_context:
                    score = W_MUNI_TYPE
                elif m.type_before is not None:
                    if m.type_before is not _CITY or muni["kind"] != "city_okrug":
                        continue
                    score = W_TYPE
                elif not last.capitalized and level >= 1:
                    continue
                elif level == 2 and not (
                    is_adj and ix.muni_region[idx] == hint and idx in ix.distinct_adjective
                ):
                    # A capitalized adjective mid-sentence ("начальник Льговского РЭС")
                    # names a district only where the source's region says so.
                    continue
                elif is_adj:
                    if not last.capitalized:
                        continue
                    score = 1.0
                else:
                    if muni["kind"] != "city_okrug":
                        continue
                    score = 1.0 + (W_CAPITAL if last.capitalized else 0.0)
                score += 0.3 * math.log10(muni["population"] + 10)
                score += self._region_terms(ix.muni_region[idx], hint, regions)
                m.scores[cand] = score
                if score >= MUNI_MIN:
                    named.add(idx)
        return named

    def _score_settlements(
        self,
        mentions: list[_Mention],
        tokens: list[_Token],
        hint: int | None,
        regions: set[int],
        munis: set[int],
        urban: bool,
    ) -> None:
        ix = self.index
        for m in mentions:
            if m.muni_context or m.region_context:
                continue
            level = _span_common_level(tokens, m)
            last = tokens[m.j - 1]
            ending = remainder(last.surface)
            multiword = m.j - m.i > 1
            # An ordinary lowercase word with no type word before it ("дороге", "уже") can
            # only name a settlement of a district the text names: the per-candidate rules
            # below reject every other candidate, so skip them without looking.
            named_only = (
                m.type_before is None and level >= 1 and not last.capitalized
                and (multiword or ending not in ADJECTIVE_ONLY_ENDINGS)
            )
            if named_only and not munis:
                continue
            type_before = m.type_before
            capitalized = last.capitalized
            prev_dotted = tokens[m.i - 1].dotted if m.i > 0 else False
            for info in ix.settlement_info(m.entry):
                muni = info.muni
                in_named_muni = muni in munis
                if named_only and not in_named_muni:
                    continue
                pop = info.pop
                stype = info.stype
                is_adj = info.is_adj
                score = 0.0
                if is_adj and ending not in ADJECTIVE_ENDINGS:
                    continue
                cand_level = level
                if not is_adj and ending in ADJECTIVE_ONLY_ENDINGS and not multiword:
                    # "мичуринские дороги": an adjective made from a town's name; the
                    # adjective is a dictionary word, so judge the town's name instead.
                    if type_before is not None or (stype != "г" and pop < 10_000):
                        continue
                    score += W_ADJ_REFERENCE
                    cand_level = common_level(info.name)
                if type_before is not None:
                    # "видеть город красивым": a full type word before an ordinary word.
                    if (cand_level == 2 and not multiword and not capitalized
                            and not prev_dotted):
                        continue
                    score += W_TYPE if stype in type_before else W_TYPE_LOOSE
                else:
                    if pop < 1000 and not in_named_muni:
                        # Small places named without a type word are mostly streets
                        # ("до Бурцевки"), parks or people; adjective names even more so.
                        if is_adj:
                            continue
                        score += W_SMALL_WITHOUT_TYPE
                    if urban and stype != "г" and not in_named_muni:
                        score += W_URBAN_WITHOUT_TYPE
                if type_before is not None:
                    pass  # the type word is the evidence common names need
                elif cand_level == 2 and not in_named_muni:
                    if not (capitalized and info.region == hint and pop >= 3000):
                        continue
                elif cand_level == 1 and not (capitalized or in_named_muni):
                    continue
                score += info.pop_term
                if stype == "г":
                    score += W_CITY
                if capitalized:
                    score += W_CAPITAL
                if multiword:
                    score += W_MULTIWORD
                if in_named_muni:
                    score += W_MUNI_MENTIONED
                score += self._region_terms(info.region, hint, regions)
                m.scores[info.cand] = score

    def _confidence(
        self,
        mentions: list[_Mention],
        decisive: tuple[float, int] | None,
        value: dict[str, Any],
    ) -> float:
        if decisive is None:
            return 0.05 if value.get("street") else 0.0
        score, cand = decisive
        ix = self.index
        level = cand >> _SHIFT

        def area(c: int) -> int:
            lvl, i = c >> _SHIFT, c & _MASK
            if lvl == SETTLEMENT:
                return ix.s_muni[i]
            return i if lvl == MUNI else -1 - i

        own = area(cand)
        rival: float | None = None
        for m in mentions:
            for c, s in m.scores.items():
                if c >> _SHIFT == level and (rival is None or s > rival) and area(c) != own:
                    rival = s
        conf = 1.0 / (1.0 + math.exp(-(score - 2.0) / 1.5))
        if rival is not None:
            margin = score - rival
            conf *= 0.5 + 0.5 * min(1.0, max(0.0, margin) / 2.0)
        return round(min(0.98, max(0.05, conf)), 3)

    def _explain_mention(self, m: _Mention, tokens: list[_Token], text: str) -> dict[str, Any]:
        ix = self.index
        top = sorted(m.scores.items(), key=lambda kv: -kv[1])[:3]
        return {
            "span": text[tokens[m.i].start : tokens[m.j - 1].end],
            "start": tokens[m.i].start,
            "end": tokens[m.j - 1].end,
            "candidates": len(m.candidates),
            "context": {
                "type_word": sorted(m.type_before) if m.type_before else None,
                "municipal_word": m.muni_context,
                "region_word": m.region_context,
            },
            "top": [
                {
                    "level": ("region", "municipality", "settlement")[c >> _SHIFT],
                    "name": ix.candidate_name(c),
                    "key": _candidate_key(ix, c),
                    "region": ix.regions[ix.region_of(c)]["code"],
                    "score": round(s, 2),
                }
                for c, s in top
            ],
        }


_MASK = (1 << _SHIFT) - 1
_ADJ_NAME_ENDINGS = ADJECTIVE_ONLY_ENDINGS | {"ой"}


@lru_cache(maxsize=100_000)
def _is_adjective_name(name: str) -> bool:
    words = WORD_RE.findall(_PAREN_RE.sub(" ", name))
    return bool(words) and remainder(words[-1]) in _ADJ_NAME_ENDINGS


def _not_a_place(tokens: list[_Token], i: int, j: int, text: str) -> bool:
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


def _span_common_level(tokens: list[_Token], m: _Mention) -> int:
    if m.level < 0:
        m.level = _span_level(tokens, m)
    return m.level


def _span_level(tokens: list[_Token], m: _Mention) -> int:
    span = tokens[m.i : m.j]
    surface = " ".join(t.surface for t in span)
    # Two-letter names and short all-caps tokens ("ЖКХ", "МКД") are not evidence of a place.
    if len(surface) <= 2 or (len(surface) <= 4 and surface.isupper()):
        return 2
    return min(common_level(t.surface) for t in span)


def _candidate_key(ix: TerritoryIndex, cand: int) -> str:
    level, idx = cand >> _SHIFT, cand & _MASK
    if level == REGION:
        return str(ix.regions[idx]["code"])
    if level == MUNI:
        return str(ix.munis[idx]["key"])
    return ix.settlement_key(idx)


def _quiet(tokens: list[_Token], i: int) -> bool:
    """A one-word span that only a named district could make a settlement of: lowercase,
    no type word before it, a dictionary word, not an adjective form (the rules of
    :meth:`TerritoryStage._score_settlements` reject every other candidate of it)."""
    tok = tokens[i]
    if tok.capitalized or _type_before(tokens, i) is not None:
        return False
    if remainder(tok.surface) in ADJECTIVE_ONLY_ENDINGS:
        return False
    surface = tok.surface
    if len(surface) <= 2 or (len(surface) <= 4 and surface.isupper()):
        return True  # level 2, as in _span_level
    return common_level(surface) >= 1


def _bests(
    mentions: list[_Mention],
) -> tuple[tuple[float, int] | None, tuple[float, int] | None, tuple[float, int] | None]:
    """:func:`_best` of regions, municipalities and settlements in one pass."""
    minimum = (REGION_MIN, MUNI_MIN, SETTLEMENT_MIN)
    best: list[tuple[float, int] | None] = [None, None, None]
    for m in mentions:
        for cand, score in m.scores.items():
            level = cand >> _SHIFT
            if score < minimum[level]:
                continue
            current = best[level]
            if current is None or score > current[0]:
                best[level] = (score, cand)
    return best[0], best[1], best[2]


def _support_by_muni(mentions: list[_Mention], ix: TerritoryIndex) -> dict[int, float]:
    """Per municipality: the sum over mentions of the best settlement score inside it."""
    support: dict[int, float] = {}
    for m in mentions:
        best_here: dict[int, float] = {}
        for cand, score in m.scores.items():
            if cand >> _SHIFT == SETTLEMENT and score >= SETTLEMENT_MIN:
                muni = ix.s_muni[cand & _MASK]
                best_here[muni] = max(best_here.get(muni, 0.0), score)
        for muni, score in best_here.items():
            support[muni] = support.get(muni, 0.0) + score
    return support


def _best(
    mentions: list[_Mention],
    level: int,
    minimum: float,
    muni: int | None = None,
    ix: TerritoryIndex | None = None,
) -> tuple[float, int] | None:
    best: tuple[float, int] | None = None
    for m in mentions:
        for cand, score in m.scores.items():
            if cand >> _SHIFT != level or score < minimum:
                continue
            if muni is not None and ix is not None and ix.s_muni[cand & _MASK] != muni:
                continue
            if best is None or score > best[0]:
                best = (score, cand)
    return best
