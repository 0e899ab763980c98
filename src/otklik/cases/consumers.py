"""What cases do when other domains announce something (see :mod:`otklik.events`)."""

from __future__ import annotations

from otklik.audit.actor import Actor
from otklik.cases import builder, reclassify
from otklik.cases.problems import queue_problem_assignment, retitle_problems
from otklik.cases.repository import CaseRepository
from otklik.db.session import session_scope
from otklik.events import MessagesEnriched, MessagesReenriched, TaxonomyActivated, consumer


@consumer(MessagesEnriched, queue_name="cases")
def build_cases_after_enrichment(event: MessagesEnriched) -> None:
    """Make or update cases for newly enriched messages (a bulk load's only where an original
    was seen after its copies); idempotent: a message already in a case is skipped.

    An original comes first, whichever job runs first: the originals seen late, and the
    originals of these messages whose own job still waits, get (or join) their case before
    the copies are placed, so the copies join it and the original stays the primary."""
    with session_scope() as session:
        actor = Actor.system("intake")
        # one builder at a time per region: concurrent batches would place the same thread's
        # or original's messages twice (one fails and is retried)
        CaseRepository(session).lock_building(
            [*event.message_ids, *event.originals_seen_late,
             *(i for copies in event.originals_seen_late.values() for i in copies)])
        late = dict(event.originals_seen_late)
        # the batch's enrichments, read once for both steps (building the originals seen
        # late changes none of them)
        enrichments = (CaseRepository(session).enrichments(event.message_ids) if event.live
                       else None)
        if event.live:
            for original, copies in builder.originals_without_case(
                    session, event.message_ids, enrichments).items():
                late.setdefault(original, copies)
        touched = builder.originals_seen_late(
            session, actor, late, event.message_ids if event.live else (), enrichments)
        if touched:
            queue_problem_assignment(session, list(dict.fromkeys(touched)))


@consumer(TaxonomyActivated, queue_name="cases")
def retitle_problems_after_activation(event: TaxonomyActivated) -> None:
    """Re-title the problems still in play with the rubricator now in use; idempotent."""
    with session_scope() as session:
        retitle_problems(session)


@consumer(MessagesReenriched, queue_name="cases")
def follow_reenrichment(event: MessagesReenriched) -> None:
    """Cases follow their re-enriched messages (topic, place, routing; newly relevant ones
    get a case); idempotent per batch of a run (see :mod:`otklik.cases.reclassify`)."""
    with session_scope() as session:
        # the builders' turn of the messages' and their cases' regions, before anything is
        # read: a follow-up builds cases for newly relevant messages and changes cases a
        # builder may be joining a message to at the same moment
        CaseRepository(session).lock_building(event.seen, their_cases=True)
        reclassify.follow_once(session, event)
