"""What analytics does when other domains announce something (see :mod:`otklik.events`)."""

from __future__ import annotations

from otklik.analytics.tasks import request_refresh
from otklik.events import MessagesEnriched, MessagesReenriched, consumer


@consumer(MessagesEnriched, queue_name="analytics", time_limit=60_000)
def rollups_after_enrichment(event: MessagesEnriched) -> None:
    """Newly enriched messages change what the message rollups count: ask for a refresh
    (one per burst of batches, see :mod:`otklik.analytics.tasks`); idempotent."""
    request_refresh.fn("messages")


@consumer(MessagesReenriched, queue_name="analytics", time_limit=60_000)
def rollups_after_reenrichment(event: MessagesReenriched) -> None:
    """Rewritten enrichments carry a new ``enriched_at``: the next refresh rebuilds the
    reporting days of those messages; idempotent."""
    request_refresh.fn("messages")
