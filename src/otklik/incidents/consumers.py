"""What incidents do when other domains announce something (see :mod:`otklik.events`)."""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError

from otklik.db.session import session_scope
from otklik.events import AlertAcknowledged, MessagesEnriched, consumer
from otklik.incidents import live, service


@consumer(MessagesEnriched, queue_name="incidents")
def detect_after_enrichment(event: MessagesEnriched) -> None:
    """Run the detector over the live batch's regions: open incidents from signals, feed the
    open ones (a bulk load's batch is history: left alone). Idempotent: a signal opens one
    incident, a message is linked once."""
    if not event.live or not event.message_ids:
        return
    for attempt in range(3):
        try:
            with session_scope() as session:
                live.detect(session, event.message_ids)
            return
        except IntegrityError:  # another worker linked or opened the same thing first:
            if attempt == 2:    # run again at once, it now finds what that one stored
                raise


@consumer(AlertAcknowledged, queue_name="incidents")
def acknowledged(event: AlertAcknowledged) -> None:
    """Someone on duty acknowledged an incident's alert: on the timeline, once."""
    if event.subject != "incident":
        return
    with session_scope() as session:
        service.acknowledge(session, event)
