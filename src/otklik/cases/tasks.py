"""Background jobs of cases. Jobs take ids, reload, and are idempotent. (What cases do on
other domains' events is :mod:`otklik.cases.consumers`.)"""

from __future__ import annotations

import dramatiq

from otklik.analytics.tasks import rollups_changed
from otklik.audit.actor import Actor
from otklik.cases import publishing, service
from otklik.cases.repository import CaseRepository
from otklik.db.session import session_scope
from otklik.queue import broker


@dramatiq.actor(broker=broker, queue_name="publish", max_retries=8, min_backoff=5_000,
                time_limit=300_000)
def publish_answer(answer_id: int) -> None:
    """Publish an answer where its messages came from; raise to retry failed channels.
    (Nothing queues it now — :func:`publish_answers` does, in batches; it stays for jobs
    already waiting on a broker under this name.)"""
    with session_scope() as session:
        summary = publishing.publish(session, answer_id)
    if summary.failed:
        raise RuntimeError(f"{summary.failed} publications of answer {answer_id} failed; "
                           "the job retries with back-off")


@dramatiq.actor(broker=broker, queue_name="publish", max_retries=8, min_backoff=5_000,
                time_limit=600_000)
def publish_answers(answer_ids: list[int]) -> None:
    """Publish the answers one unit of work approved (a batch's interim answers: one job,
    not one each); raise to retry failed channels (what was published is not again)."""
    with session_scope() as session:
        summary = publishing.publish_many(session, answer_ids)
    if summary.failed:
        raise RuntimeError(f"{summary.failed} publications of answers {answer_ids} failed; "
                           "the job retries with back-off")


@dramatiq.actor(broker=broker, queue_name="cases", max_retries=0, time_limit=600_000)
def tick() -> None:
    """Escalate cases near or past their deadlines; close expired clarifications."""
    with session_scope() as session:
        service.escalate_due(session, Actor.system("sla"))


@dramatiq.actor(broker=broker, queue_name="cases", max_retries=5, time_limit=600_000)
def assign_problems_job(case_ids: list[int]) -> None:
    """Cluster cases into problems (after the case builders of their regions: see
    CaseRepository.lock_cases_regions)."""
    from otklik.cases.problems import assign_problems

    with session_scope() as session:
        CaseRepository(session).lock_cases_regions(case_ids)
        if assign_problems(session, case_ids):
            rollups_changed(session, "cases")  # problems' message counts in the rollup

