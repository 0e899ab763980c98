"""Population of a municipality or settlement, from the gazetteer the territory stage uses
(:func:`otklik.nlp.territory_index.get_index`: already in memory when the pipeline ran).

A signal needs the population of one or two places: a code is looked up when asked (the
municipalities first, then the first settlement with that code), not by building a table
of every settlement's code (155 921 of them: ≈ 0.06 s of CPU in the first batch of each
process, for the handful of places incidents are opened in)."""

from __future__ import annotations

from bisect import bisect_right
from functools import cache, lru_cache


@cache
def _municipalities() -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    from otklik.nlp.territory_index import get_index

    by_code: dict[str, int] = {}
    by_name: dict[tuple[str, str], int] = {}
    for muni in get_index().munis:
        people = int(muni.get("population") or 0)
        if muni.get("oktmo"):
            by_code[str(muni["oktmo"])] = people
        by_name.setdefault((str(muni.get("region") or ""), str(muni["name"])), people)
    return by_code, by_name


def _first_settlement(code: str) -> int | None:
    """The index of the first settlement whose OKTMO code is ``code``, else None. The codes
    are kept joined in one string with their end offsets (the index's compact column): a
    match must start and end on a code's boundaries."""
    from otklik.nlp.territory_index import get_index

    column = get_index().s_oktmo
    text, ends = column._text, column._ends  # noqa: SLF001 (the column's own layout)
    pos = text.find(code)
    while pos != -1:
        idx = bisect_right(ends, pos)  # the code that holds this position
        if (ends[idx - 1] if idx else 0) == pos and ends[idx] == pos + len(code):
            return idx
        pos = text.find(code, pos + 1)
    return None


@lru_cache(maxsize=65_536)
def _by_code(oktmo: str) -> int | None:
    """Residents under this code (0 when the reference says none), None for an unknown code:
    a municipality's code wins over a settlement's, the first settlement over later ones."""
    municipalities = _municipalities()[0]
    if oktmo in municipalities:
        return municipalities[oktmo]
    idx = _first_settlement(oktmo)
    if idx is None:
        return None
    from otklik.nlp.territory_index import get_index

    return int(get_index().s_pop[idx])


def population(oktmo: str | None, name: str | None = None, region: str | None = None
               ) -> int | None:
    """Residents of the place with this OKTMO code (or, without one, this municipality
    name in this region); None when the reference does not know."""
    if oktmo:
        people = _by_code(oktmo)
        if people is not None:
            return people or None
    if name:
        return _municipalities()[1].get((region or "", name)) or None
    return None
