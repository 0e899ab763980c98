"""Photos' counts for ``otklik stats``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from otklik.media import service
from otklik.ops.stats import stat_provider


@stat_provider
def photo_counts(session: Session) -> dict[str, Any]:
    """Residents' photos stored by the project."""
    return {"photos": service.count(session)}
