"""Counts of everything the system holds (``otklik stats --json``).

Each domain contributes its counts through :func:`stat_provider`, so later domains add
their own keys without touching this module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from otklik.accounts.repository import AccountRepository
from otklik.organizations.repository import OrganizationRepository
from otklik.territories.repository import TerritoryRepository

StatProvider = Callable[[Session], dict[str, Any]]
_PROVIDERS: list[StatProvider] = []


def stat_provider(func: StatProvider) -> StatProvider:
    """Register a function returning some of the counts."""
    _PROVIDERS.append(func)
    return func


@stat_provider
def _foundation(session: Session) -> dict[str, Any]:
    levels = TerritoryRepository(session).count_by_level()
    return {
        "regions": levels.get("region", 0),
        "territories": sum(levels.values()),
        "territories_by_level": levels,
        "organizations": OrganizationRepository(session).count(),
        "users": AccountRepository(session).count(),
    }


def collect(session: Session) -> dict[str, Any]:
    """All counts from every registered provider (domains imported by the caller)."""
    result: dict[str, Any] = {"messages": 0, "cases": 0}
    for provider in _PROVIDERS:
        result.update(provider(session))
    return result
