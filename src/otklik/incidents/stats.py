"""Incidents' counts for ``otklik stats``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from otklik.incidents.repository import IncidentRepository
from otklik.ops.stats import stat_provider


@stat_provider
def incident_counts(session: Session) -> dict[str, Any]:
    """Incidents in total and per status."""
    by_status = IncidentRepository(session).count_by_status()
    return {"incidents": sum(by_status.values()), "incidents_by_status": by_status}
