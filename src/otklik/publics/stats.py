"""Official pages' counts for ``otklik stats``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from otklik.ops.stats import stat_provider
from otklik.publics.repository import PublicsRepository


@stat_provider
def publics_counts(session: Session) -> dict[str, Any]:
    """Pages in the registry and weekly rating rows."""
    repo = PublicsRepository(session)
    return {"pages": repo.count(), "page_ratings": repo.count_ratings()}
