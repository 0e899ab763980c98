"""Population by OKTMO code or municipality name, looked up when asked: the same answers as
a table of every municipality's and settlement's code (the first settlement of a code that
several share; a municipality's code before a settlement's)."""

from __future__ import annotations

from otklik.incidents import population
from otklik.nlp.territory_index import get_index


def _table() -> dict[str, int]:
    ix = get_index()
    by_code = {str(m["oktmo"]): int(m.get("population") or 0) for m in ix.munis if m.get("oktmo")}
    for idx in range(len(ix.s_pop)):
        code = ix.s_oktmo[idx]
        if code:
            by_code.setdefault(code, int(ix.s_pop[idx]))
    return by_code


def test_codes_give_what_the_whole_table_gives() -> None:
    ix = get_index()
    table = _table()
    seen: dict[str, int] = {}
    shared = []  # codes several settlements share (the first one counts)
    for idx in range(0, len(ix.s_pop), 37):
        code = ix.s_oktmo[idx]
        if code and seen.setdefault(code, idx) != idx:
            shared.append(code)
    munis = [str(m["oktmo"]) for m in ix.munis[:200] if m.get("oktmo")]
    codes = [*list(seen)[:2000], *shared[:200], *munis]
    for code in codes:
        assert population.population(code) == (table[code] or None), code
    # not a code: a piece of one, two codes run together, nothing like one
    first = next(iter(seen))
    for code in (first[:5], first[2:], first + first, "00000000000"):
        if code not in table:
            assert population.population(code) is None, code


def test_a_name_answers_when_the_code_is_unknown() -> None:
    muni = next(m for m in get_index().munis if int(m.get("population") or 0) > 0)
    region, name = str(muni.get("region") or ""), str(muni["name"])
    assert population.population("0", name, region) == int(muni["population"])
    assert population.population(None, name, region) == int(muni["population"])
    assert population.population(None, name, "no such region") is None
