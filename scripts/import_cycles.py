"""Fail on a new import cycle between Otklik's top-level packages (``make lint``, tests).

The import-linter contracts in pyproject.toml hold the named layers; this check holds the
rest: among the top-level packages and modules of ``otklik`` (``intake``, ``cases``,
``cli`` …) no package may import, directly or through others, a package that imports it
back, except in the groups listed in :data:`KNOWN_CYCLES`. That list may only shrink:
a cycle that is gone is reported so that its line is deleted.

Run: ``python scripts/import_cycles.py`` (exit status 1 on a new cycle).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable

import grimp

PACKAGE = "otklik"

#: Cycles that existed when this check was written (docs/architecture.md, "Contracts").
#: Each entry is a strongly connected group of top-level packages; a new member or a new
#: group fails the check.
KNOWN_CYCLES: tuple[frozenset[str], ...] = (
    # deps.py checks sessions and CSRF for the accounts, audit, organizations and territories
    # endpoints, which live beside their services; the services import each other.
    frozenset({"accounts", "audit", "deps", "organizations", "territories"}),
)


def package_graph() -> dict[str, set[str]]:
    """Top-level package -> the top-level packages it imports (directly)."""
    graph = grimp.build_graph(PACKAGE, exclude_type_checking_imports=True)
    tops = sorted({m.split(".")[1] for m in graph.modules if m.count(".") >= 1})
    edges: dict[str, set[str]] = {t: set() for t in tops}
    for importer in tops:
        for imported in tops:
            if importer != imported and graph.direct_import_exists(
                    importer=f"{PACKAGE}.{importer}", imported=f"{PACKAGE}.{imported}",
                    as_packages=True):
                edges[importer].add(imported)
    return edges


def cycles(edges: dict[str, set[str]]) -> list[frozenset[str]]:
    """The strongly connected groups of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[frozenset[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            group = set()
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.add(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(frozenset(group))

    sys.setrecursionlimit(10_000)
    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def _path(edges: dict[str, set[str]], start: str, goal: str) -> list[str]:
    """A shortest import path start -> … -> goal."""
    previous: dict[str, str | None] = {start: None}
    queue = [start]
    while queue:
        node = queue.pop(0)
        if node == goal and len(previous) > 1:
            break
        for nxt in sorted(edges.get(node, ())):
            if nxt not in previous:
                previous[nxt] = node
                queue.append(nxt)
    path, node_or_none = [], goal
    while node_or_none is not None:
        path.append(node_or_none)
        node_or_none = previous.get(node_or_none)
    return path[::-1]


def describe(edges: dict[str, set[str]], group: Iterable[str]) -> str:
    """A readable cycle through the group: a -> b -> … -> a."""
    members = sorted(group)
    first = members[0]
    back = next(m for m in members[1:] if first in edges[m])  # one exists in a cycle
    there = _path(edges, first, back)
    again = _path(edges, back, first)
    return " -> ".join(there + again[1:])


def check(known: Iterable[frozenset[str]] = KNOWN_CYCLES) -> list[str]:
    """The problems found: new cycles, and known cycles that are gone."""
    edges = package_graph()
    found = cycles(edges)
    known = list(known)
    problems = [f"new import cycle between top-level packages: {describe(edges, group)}"
                for group in found if not any(group <= k for k in known)]
    problems += [f"known cycle {sorted(k)} is gone: delete it from KNOWN_CYCLES"
                 for k in known if not any(group == k for group in found)]
    return problems


def main() -> int:
    problems = check()
    for problem in problems:
        print(problem)
    if not problems:
        print("no new import cycles between top-level packages")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main())
