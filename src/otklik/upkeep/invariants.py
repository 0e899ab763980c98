"""The invariants of the stored work, as counts that must be zero (``otklik check --json``).

Each count is one SQL aggregate over the tables. The check is always whole: on a country's
database ``relevant_without_case`` is an anti-join of three large tables, seconds of database
work (the scheduler's frequent reconcile asks the same question over a window of recent
enrichments instead). ``messages`` and ``enriched`` are totals, not invariants.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, func, select
from sqlalchemy.orm import Session

from otklik.db.base import utcnow
from otklik.models.case import Answer, CaseMessage, Publication
from otklik.models.message import Message, MessageEnrichment

#: Work younger than this is in flight, not late (the queue is allowed its minute).
DEFAULT_GRACE = timedelta(minutes=1)

#: The invariant counts, in the order they are printed; each must be zero.
INVARIANTS = ("messages_not_enriched", "relevant_without_case", "messages_in_several_cases",
              "duplicate_messages", "answers_published_twice", "publications_pending")


@dataclass(frozen=True)
class Report:
    """The counts of one check."""

    counts: dict[str, int]

    @property
    def broken(self) -> dict[str, int]:
        """The invariants that do not hold, with how many rows break each."""
        return {name: self.counts[name] for name in INVARIANTS if self.counts[name]}

    @property
    def ok(self) -> bool:
        return not self.broken

    def as_dict(self) -> dict[str, Any]:
        return {**self.counts, "ok": self.ok}


def not_enriched_query(before: datetime) -> Any:
    """Messages stored before ``before`` without a finished enrichment (pending or failed),
    read through the partial index ``ix_message_unfinished`` (the few unfinished rows, not
    the table)."""
    return select(Message.id).where(Message.enrich_status != "done",
                                    Message.received_at < before)


def relevant_without_case_query(before: datetime, since: datetime | None = None) -> Any:
    """Relevant, live (not archived), not deleted messages enriched before ``before`` that
    are in no case.

    Without ``since`` every enrichment is looked at (``otklik check``, the daily full sweep):
    an anti-join of the three tables, seconds at a country's size. With ``since`` only those
    enriched at or after it (the frequent reconcile's window): a range of
    ``ix_message_enrichment_enriched_at``, each row's message and case link looked up by
    key."""
    in_case = exists().where(CaseMessage.message_id == Message.id)
    query = (select(Message.id)
             .join(MessageEnrichment, MessageEnrichment.message_id == Message.id)
             .where(MessageEnrichment.relevant.is_(True), Message.archived.is_(False),
                    Message.deleted_at.is_(None), Message.enrich_status == "done",
                    MessageEnrichment.enriched_at < before, ~in_case))
    if since is not None:
        query = query.where(MessageEnrichment.enriched_at >= since)
    return query


def unpublished_answers_query(before: datetime) -> Any:
    """Answers approved before ``before`` and still not published."""
    return select(Answer.id).where(Answer.status == "approved", Answer.published_at.is_(None),
                                   Answer.approved_at < before)


def _count(session: Session, query: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(query.subquery())) or 0)


def check(session: Session, *, now: datetime | None = None,
          grace: timedelta = DEFAULT_GRACE) -> Report:
    """Count every invariant (read only)."""
    before = (now or utcnow()) - grace
    several = (select(CaseMessage.message_id).group_by(CaseMessage.message_id)
               .having(func.count(func.distinct(CaseMessage.case_id)) > 1))
    duplicates = (select(Message.source, Message.source_id)
                  .group_by(Message.source, Message.source_id).having(func.count() > 1))
    twice = (select(Publication.answer_id, Publication.message_id)
             .where(Publication.status == "published")
             .group_by(Publication.answer_id, Publication.message_id)
             .having(func.count() > 1))
    counts = {
        "messages_not_enriched": _count(session, not_enriched_query(before)),
        "relevant_without_case": _count(session, relevant_without_case_query(before)),
        "messages_in_several_cases": _count(session, several),
        "duplicate_messages": _count(session, duplicates),
        "answers_published_twice": _count(session, twice),
        "publications_pending": _count(session, unpublished_answers_query(before)),
        "messages": int(session.scalar(select(func.count(Message.id))) or 0),
        "enriched": int(session.scalar(
            select(func.count(Message.id)).where(Message.enrich_status == "done")) or 0),
    }
    return Report(counts)
