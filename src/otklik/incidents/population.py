"""Population of a municipality or settlement, from the gazetteer the territory stage uses
(:func:`otklik.nlp.territory_index.get_index`: already in memory when the pipeline ran)."""

from __future__ import annotations

from functools import cache


@cache
def _tables() -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    from otklik.nlp.territory_index import get_index

    ix = get_index()
    by_code: dict[str, int] = {}
    by_name: dict[tuple[str, str], int] = {}
    for muni in ix.munis:
        people = int(muni.get("population") or 0)
        if muni.get("oktmo"):
            by_code[str(muni["oktmo"])] = people
        by_name.setdefault((str(muni.get("region") or ""), str(muni["name"])), people)
    for idx in range(len(ix.s_pop)):
        code = ix.s_oktmo[idx]
        if code:
            by_code.setdefault(code, int(ix.s_pop[idx]))
    return by_code, by_name


def population(oktmo: str | None, name: str | None = None, region: str | None = None
               ) -> int | None:
    """Residents of the place with this OKTMO code (or, without one, this municipality
    name in this region); None when the reference does not know."""
    by_code, by_name = _tables()
    if oktmo and oktmo in by_code:
        return by_code[oktmo] or None
    if name:
        return by_name.get((region or "", name)) or None
    return None
