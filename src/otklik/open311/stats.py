"""Open311's counts for ``otklik stats``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from otklik.open311.repository import Open311Repository
from otklik.ops.stats import stat_provider


@stat_provider
def open311_counts(session: Session) -> dict[str, Any]:
    """Service requests filed through POST requests."""
    return {"open311_requests": Open311Repository(session).count_filed()}
