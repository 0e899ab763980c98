"""Intake's counts for ``otklik stats``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from otklik.intake.repository import MessageRepository
from otklik.ops.stats import stat_provider


@stat_provider
def intake_counts(session: Session) -> dict[str, Any]:
    """Messages in total, by source and by enrichment status."""
    repo = MessageRepository(session)
    by_source = repo.count_by_source()
    return {
        "messages": sum(by_source.values()),
        "messages_by_source": by_source,
        "messages_by_enrich_status": repo.count_by_status(),
    }
