"""Cases' counts for ``otklik stats``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from otklik.cases.repository import CaseRepository
from otklik.db.base import utcnow
from otklik.ops.stats import stat_provider


@stat_provider
def case_counts(session: Session) -> dict[str, Any]:
    """Cases in total and by status, open cases past a deadline, problems."""
    repo = CaseRepository(session)
    by_status = repo.count_by_status()
    return {
        "cases": sum(by_status.values()),
        "cases_by_status": by_status,
        "overdue": repo.count_overdue(utcnow()),
        "problems": repo.count_problems(),
    }
