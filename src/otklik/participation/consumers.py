"""What participation does when other domains announce something (see :mod:`otklik.events`)."""

from __future__ import annotations

from otklik.db.session import session_scope
from otklik.events import CaseAnswered, CaseClosed, MessagesEnriched, consumer
from otklik.participation import campaigns, promises, proposals


@consumer(MessagesEnriched, queue_name="participation")
def collect_after_enrichment(event: MessagesEnriched) -> None:
    """New messages become questions of the open direct lines and proposals (with their
    supporters); a bulk load of history is left to the demo. Idempotent: a message becomes
    at most one question per line and one proposal, a person supports once."""
    if not event.live:
        return
    with session_scope() as session:
        campaigns.collect_messages(session, event.message_ids)
        proposals.collect_messages(session, event.message_ids)


@consumer(CaseAnswered, queue_name="participation")
def promise_answered(event: CaseAnswered) -> None:
    """A promise whose case на контроле was answered is done (idempotent)."""
    with session_scope() as session:
        promises.done_by_case(session, event.case_id)


@consumer(CaseClosed, queue_name="participation")
def promise_closed(event: CaseClosed) -> None:
    """A promise whose case на контроле was closed is done, unless it was closed as a
    merge into another case (idempotent)."""
    if event.reason == "merge":
        return
    with session_scope() as session:
        promises.done_by_case(session, event.case_id)
