"""Decisions' counts for ``otklik stats``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from otklik.decisions.repository import DecisionRepository
from otklik.ops.stats import stat_provider


@stat_provider
def decision_counts(session: Session) -> dict[str, Any]:
    """Decisions in total."""
    return {"decisions": DecisionRepository(session).count()}
