"""What fakes do when other domains announce something (see :mod:`otklik.events`)."""

from __future__ import annotations

from otklik.db.session import session_scope
from otklik.events import MessagesEnriched, consumer
from otklik.fakes import live


@consumer(MessagesEnriched, queue_name="fakes", time_limit=300_000)
def match_after_enrichment(event: MessagesEnriched) -> None:
    """Compare the enriched messages with the registry of fakes and link the copies (a bulk
    load's too: spread is counted over history); suspects only among live messages.
    Idempotent: a message already linked is not linked again."""
    with session_scope() as session:
        live.match_messages(session, event.message_ids, suspects=event.live)
