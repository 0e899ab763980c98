"""Put stored-but-unfinished work back on the queue (``otklik reconcile``; the scheduler
runs it every few minutes over a window, and once a day over everything).

The database is the source of truth; a job lost with a killed worker, a restarted broker or
a refused connection left its trace there: a message still pending, a relevant message in no
case, an approved answer not published, a brief not sent. Each is queued again. Every job
it queues is idempotent, so reconciling any number of times, at any moment, even while the
original job is still on its way, changes nothing twice.

At a country's size (≈ 15 M messages a year) the look for relevant messages in no case is the
one read that grows with the tables: over everything it is an anti-join of ``message``,
``message_enrichment`` and ``case_message``, seconds of database work. The frequent pass
therefore takes a ``window``: only messages enriched in its last hours (a range of
``ix_message_enrichment_enriched_at``, each message and case link looked up by key), while the
daily full sweep and ``otklik reconcile`` by hand look at everything. The other reads are
small by nature and always whole: unfinished enrichments (``ix_message_unfinished``), approved
answers (``ix_answer_status``), pending deliveries (``ix_report_delivery_pending``).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from otklik.db.base import utcnow
from otklik.events import MessagesEnriched
from otklik.models.report_delivery import ReportDelivery
from otklik.upkeep.invariants import (
    DEFAULT_GRACE,
    not_enriched_query,
    relevant_without_case_query,
    unpublished_answers_query,
)

#: Ids per queued job.
CHUNK = 500


@dataclass
class Requeued:
    """How many of each kind of work were queued again."""

    counts: dict[str, int] = field(default_factory=dict)

    def add(self, kind: str, n: int) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + n

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def _chunks(ids: Sequence[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield list(ids[start:start + CHUNK])


def pending_deliveries_query(before: datetime) -> Any:
    """Deliveries of briefs still pending since before ``before``, read through the partial
    index ``ix_report_delivery_pending`` (the few pending rows, not every brief sent)."""
    return select(ReportDelivery.id).where(ReportDelivery.status == "pending",
                                           ReportDelivery.updated_at < before)


def reconcile(session: Session, *, grace: timedelta = DEFAULT_GRACE,
              window: timedelta | None = None) -> Requeued:
    """Queue again what is stored but unfinished (the session only reads). ``window``: look
    for relevant messages without a case only among those enriched in that time before now
    (the frequent pass); ``None`` looks at all of them (the full sweep)."""
    from otklik.cases.consumers import build_cases_after_enrichment
    from otklik.cases.tasks import publish_answers
    from otklik.intake.tasks import enrich_messages
    from otklik.reports.tasks import deliver_report

    now = utcnow()
    before = now - grace
    since = None if window is None else now - window
    done = Requeued()
    pending = list(session.scalars(not_enriched_query(before).order_by("id")))
    for ids in _chunks(pending):
        enrich_messages.send(ids)
        done.add("enrichment", len(ids))
    caseless = list(session.scalars(relevant_without_case_query(before, since).order_by("id")))
    for ids in _chunks(caseless):
        # Only the cases' consumer: the others (counts, alerts) saw these messages already.
        build_cases_after_enrichment.send(
            MessagesEnriched(message_ids=ids, live=True).model_dump(mode="json"))
        done.add("cases", len(ids))
    unpublished = list(session.scalars(unpublished_answers_query(before).order_by("id")))
    for ids in _chunks(unpublished):
        publish_answers.send(ids)  # one job a chunk; what is published already is skipped
        done.add("publishing", len(ids))
    for delivery_id in session.scalars(pending_deliveries_query(before)):
        deliver_report.send(delivery_id)
        done.add("report_deliveries", 1)
    return done
