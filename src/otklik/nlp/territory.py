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

import math
from collections.abc import Sequence
from operator import itemgetter
from typing import Any, ClassVar

import numpy as np

from otklik.nlp.address import ADJECTIVE_ENDINGS, ADJECTIVE_ONLY_ENDINGS, find_streets, remainder
from otklik.nlp.base import Doc, Stage, StageResult
from otklik.nlp.territory_index import (
    _MASK,
    _SHIFT,
    MANY_SETTLEMENTS,
    MUNI,
    REGION,
    SETTLEMENT,
    TerritoryIndex,
    _is_adjective_name,
    get_index,
)
from otklik.nlp.territory_text import (
    _CITY,
    _Mention,
    _muni_context,
    _not_a_place,
    _quiet,
    _quiet_word,
    _region_context,
    _span_common_level,
    _Token,
    _tokens,
    _type_before,
    bare_street,
    common_level,
)

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
# A one-word name written in lowercase with no type word before it names a village only
# when the text names the village's district: «на мусорке опять свалка» is a bin, not the
# village Мусорка. Towns and large villages keep their lowercase mentions («в мичуринске»).
LOWERCASE_VILLAGE_POPULATION = 10_000
SETTLEMENT_MIN = 2.0
MUNI_MIN = 2.5
REGION_MIN = 2.0


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

        street_spans = [(s.start, s.end) for s in streets]
        span = tokens.span

        def in_street(i: int, j: int) -> bool:
            for t in range(i, j):
                start, end = span(t)
                for s_start, s_end in street_spans:
                    if start >= s_start and end <= s_end:
                        return True
            return False

        # Spans in text order; a "quiet" one (see _quiet) stays a bare (i, j, entry) unless
        # the text names a district, because only a settlement of a named district could
        # come of it; most ordinary words found in the gazetteer ("уже", "раз") are such.
        spans: list[_Mention | tuple[int, int, int]] = []
        quiet = False
        entries = ix.entries
        surface = tokens.surface
        for i, j, entry in ix.find_entries(tokens.stems):
            if street_spans and in_street(i, j):
                continue
            if j - i == 1 and entries[entry][0] >> _SHIFT == SETTLEMENT:
                # _quiet(tokens, i), with its commonest case (a lowercase word) inline.
                word = surface(i)
                if word[:1].isupper():
                    is_quiet = _quiet(tokens, i)
                else:
                    is_quiet = _quiet_word(word) and (i == 0 or tokens.type_word_at(i - 1) is None)
                if is_quiet:
                    spans.append((i, j, entry))
                    quiet = True
                    continue
            if not _not_a_place(tokens, i, j, text):
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
        if (best_m and best_s and muni_idx is not None and settle_idx is not None
                and ix.s_muni[settle_idx] != muni_idx):
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
        if not streets:
            # «дорога на Красной вся в ямах»: a street without its type word, unless the
            # word is the place the stage chose (that is intake's to settle, see
            # otklik.intake.place_context.street_over_village).
            decided = {best[1] for best in (best_s, best_m) if best}
            taken = [(span(m.i)[0], span(m.j - 1)[1]) for m in mentions
                     if decided.intersection(m.scores)]
            bare = bare_street(text, taken)
            if bare is not None:
                value["street"] = bare[0]
                why.append(f"«{text[bare[1]:bare[2]]}» reads as a street: {bare[0]}")
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

    def _mention(self, tokens: Sequence[_Token], i: int, j: int, entry: int) -> _Mention:
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

    def _score_regions(self, mentions: list[_Mention], tokens: Sequence[_Token]) -> set[int]:
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
        self,
        mentions: list[_Mention],
        tokens: Sequence[_Token],
        hint: int | None,
        regions: set[int],
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
        tokens: Sequence[_Token],
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
            lowercase = not multiword and last.surface[:1].islower()
            adjective_reference = not multiword and ending in ADJECTIVE_ONLY_ENDINGS
            if not adjective_reference and len(ix.entries[m.entry]) >= MANY_SETTLEMENTS:
                if type_before is not None and (level == 2 and not multiword
                                                and not capitalized and not prev_dotted):
                    continue  # the rule below that rejects every candidate of the span
                self._score_many(m, level, ending, type_before, capitalized, multiword,
                                 named_only, hint, regions, munis, urban, lowercase)
                continue
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
                    if (lowercase and stype != "г" and pop < LOWERCASE_VILLAGE_POPULATION
                            and not in_named_muni):
                        continue
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

    def _score_many(
        self,
        m: _Mention,
        level: int,
        ending: str,
        type_before: frozenset[str] | None,
        capitalized: bool,
        multiword: bool,
        named_only: bool,
        hint: int | None,
        regions: set[int],
        munis: set[int],
        urban: bool,
        lowercase: bool,
    ) -> None:
        """The loop of :meth:`_score_settlements` over an entry's settlements as array
        operations: the same scores (the terms are added in the same order) for the same
        candidates, in the same order. Not for a one-word adjective form ("мичуринские"),
        whose rules look at each settlement's name."""
        a = self.index.settlement_arrays(m.entry)
        n = len(a.cand)
        in_named = _any_equal(a.muni, munis, n)
        skip = ~in_named if named_only else np.zeros(n, dtype=bool)
        if ending not in ADJECTIVE_ENDINGS:
            skip |= a.is_adj
        score = np.zeros(n)
        if type_before is not None:
            codes = self.index.stype_codes
            typed = _any_equal(a.stype, {codes[t] for t in type_before if t in codes}, n)
            score += np.where(typed, W_TYPE, W_TYPE_LOOSE)
        else:
            small = (a.pop < 1000) & ~in_named
            if lowercase:
                skip |= ~a.is_city & (a.pop < LOWERCASE_VILLAGE_POPULATION) & ~in_named
            skip |= small & a.is_adj
            score += np.where(small, W_SMALL_WITHOUT_TYPE, 0.0)
            if urban:
                score += np.where(~a.is_city & ~in_named, W_URBAN_WITHOUT_TYPE, 0.0)
            if level == 2:
                strong = (a.region == hint) & (a.pop >= 3000) if (
                    capitalized and hint is not None) else np.zeros(n, dtype=bool)
                skip |= ~in_named & ~strong
            elif level == 1 and not capitalized:
                skip |= ~in_named
        score += a.pop_term
        score += np.where(a.is_city, W_CITY, 0.0)
        if capitalized:
            score += W_CAPITAL
        if multiword:
            score += W_MULTIWORD
        score += np.where(in_named, W_MUNI_MENTIONED, 0.0)
        terms = np.full(n, 0.0 if hint is None else W_OUT_OF_HINT)
        if hint is not None:
            terms[a.region == hint] = W_HINT
        for region in regions:
            terms[a.region == region] = self._region_terms(region, hint, regions)
        score += terms
        keep = ~skip
        m.scores.update(zip(a.cand[keep].tolist(), score[keep].tolist(), strict=True))

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

    def _explain_mention(self, m: _Mention, tokens: Sequence[_Token], text: str) -> dict[str, Any]:
        ix = self.index
        # Highest first, ties in insertion order (a stable sort, reversed or not).
        top = sorted(m.scores.items(), key=itemgetter(1), reverse=True)[:3]
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


def _any_equal(column: np.ndarray, values: set[int], n: int) -> np.ndarray:
    """``np.isin(column, values)`` for the few values a mention has (isin costs more)."""
    out = np.zeros(n, dtype=bool)
    for value in values:
        out |= column == value
    return out


def _candidate_key(ix: TerritoryIndex, cand: int) -> str:
    level, idx = cand >> _SHIFT, cand & _MASK
    if level == REGION:
        return str(ix.regions[idx]["code"])
    if level == MUNI:
        return str(ix.munis[idx]["key"])
    return ix.settlement_key(idx)



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
