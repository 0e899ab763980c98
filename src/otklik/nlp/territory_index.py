"""The territory gazetteer: every region, municipality and settlement as an Aho-Corasick
automaton over word stems (package-internal; :mod:`otklik.nlp.territory` uses it).

Names are keyed on :func:`otklik.nlp.address.stem`, the same crude inflection stripper the
text goes through, so "Медвежьегорский район" and "в Медвежьегорском районе" meet. A
candidate is an int: ``level << _SHIFT | index`` (level REGION, MUNI or SETTLEMENT).
"""

from __future__ import annotations

import ctypes
import gc
import math
import re
import sys
from array import array
from collections.abc import Iterator, Sequence
from functools import cache, lru_cache
from itertools import accumulate
from typing import Any, NamedTuple

import ahocorasick
import numpy as np

from otklik.nlp.address import ADJECTIVE_ONLY_ENDINGS, WORD_RE, remainder, stem
from otklik.nlp.gazetteer_data import read_territory_data

REGION, MUNI, SETTLEMENT = 0, 1, 2
_SHIFT = 22  # candidate id = level << _SHIFT | index
_MASK = (1 << _SHIFT) - 1

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
#: Entries with at least this many settlements ("Ивановка": ~300) are also scored as arrays.
MANY_SETTLEMENTS = 32


class _SettlementArrays(NamedTuple):
    """The columns of :class:`_SettlementInfo` of one entry as numpy arrays, for the entries
    with many settlements, where scoring them one by one in Python dominates a message."""

    cand: np.ndarray
    pop: np.ndarray
    stype: np.ndarray  # codes of :attr:`TerritoryIndex.stype_codes`
    is_city: np.ndarray
    muni: np.ndarray
    region: np.ndarray
    is_adj: np.ndarray
    pop_term: np.ndarray


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
        self._settlement_arrays: dict[int, _SettlementArrays] = {}
        self.stype_codes: dict[str, int] = {t: i for i, t in enumerate(dict.fromkeys(self.s_type))}
        self.automaton = ahocorasick.Automaton()
        for stems, cands in buckets.items():
            word = " " + " ".join(stems) + " "
            self.automaton.add_word(word, (len(self.entries), len(stems), len(word)))
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
        # Offset of the space before token t -> t.
        # (len + 1 per token, summed: no Python-level function per token)
        starts = dict(zip(accumulate(map((1).__add__, map(len, stems)), initial=0),
                          range(len(stems)), strict=False))  # one offset more than tokens
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

    def settlement_arrays(self, entry: int) -> _SettlementArrays:
        """:meth:`settlement_info` of an entry as columns (same cache rules)."""
        arrays = self._settlement_arrays.get(entry)
        if arrays is None:
            if len(self._settlement_arrays) >= _INFO_CACHE:
                self._settlement_arrays.clear()
            info = self.settlement_info(entry)
            codes = self.stype_codes
            arrays = self._settlement_arrays[entry] = _SettlementArrays(
                np.array([i.cand for i in info], dtype=np.int64),
                np.array([i.pop for i in info], dtype=np.int64),
                np.array([codes[i.stype] for i in info], dtype=np.int64),
                np.array([i.stype == "г" for i in info], dtype=bool),
                np.array([i.muni for i in info], dtype=np.int64),
                np.array([i.region for i in info], dtype=np.int64),
                np.array([i.is_adj for i in info], dtype=bool),
                np.array([i.pop_term for i in info], dtype=np.float64),
            )
        return arrays


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


_ADJ_NAME_ENDINGS = ADJECTIVE_ONLY_ENDINGS | {"ой"}


@lru_cache(maxsize=100_000)
def _is_adjective_name(name: str) -> bool:
    words = WORD_RE.findall(_PAREN_RE.sub(" ", name))
    return bool(words) and remainder(words[-1]) in _ADJ_NAME_ENDINGS

