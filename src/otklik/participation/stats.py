"""Participation's counts for ``otklik stats``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from otklik.ops.stats import stat_provider
from otklik.participation.repository import ParticipationRepository


@stat_provider
def participation_counts(session: Session) -> dict[str, Any]:
    """Direct lines, their questions and promises, and proposals."""
    return ParticipationRepository(session).counts()
