"""What participation does when other domains announce something (see :mod:`otklik.events`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy.orm import Session

from otklik.cases import control
from otklik.db.session import session_scope
from otklik.events import CaseAnswered, CaseClosed, MessagesEnriched, consumer
from otklik.participation import campaigns, promises, proposals
from otklik.participation.repository import ParticipationRepository


@consumer(MessagesEnriched, queue_name="participation")
def collect_after_enrichment(event: MessagesEnriched) -> None:
    """New messages become questions of the open direct lines and proposals (with their
    supporters); a bulk load of history is left to the demo. Idempotent: a message becomes
    at most one question per line and one proposal, a person supports once. A few columns
    of the batch are read first (and the open lines of its regions, one query): a batch with
    no open line in its regions, no proposal and no support comment reads nothing more; the
    others' messages are read whole once, for both."""
    if not event.live:
        return
    with session_scope() as session:
        collect(session, event.message_ids)


def collect(session: Session, message_ids: Sequence[int]) -> tuple[int, int]:
    """The batch's questions of open direct lines and its proposals (with support):
    (questions added, proposals made)."""
    repo = ParticipationRepository(session)
    heads = repo.message_heads(message_ids)
    lines = repo.open_campaigns([h.region_code for h in heads if h.region_code])
    asked = {c.region_code for c in lines}
    wanted = [h.id for h in heads if h.region_code in asked or proposals.may_matter(
        h.kind, h.relevant, h.authored, h.parent_id, h.text)]
    if not wanted:  # no open line in these regions, no proposal, no support: done
        return 0, 0
    # a proposal opens its message's case unless the case builder did: its turn in the
    # batch's regions taken at once, before the first (see control.lock_building)
    control.lock_building(session, wanted)
    views = repo.message_views(wanted)  # read once for both
    return campaigns.collect_views(session, views, lines), proposals.collect_views(session, views)


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
