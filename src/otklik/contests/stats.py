"""Contests' counts for ``otklik stats``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from otklik.contests.repository import ContestRepository
from otklik.ops.stats import stat_provider


@stat_provider
def contest_counts(session: Session) -> dict[str, Any]:
    """Contests and their applications in total."""
    contests, applications = ContestRepository(session).counts()
    return {"contests": contests, "applications": applications}
