"""The demo's participation: a finished Tambov direct line with the Michurinsk overpass on top,
its promise turned into the 278 M-ruble decision and tracked to its stages, a late promise,
and the engineer's proposal on its path."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.participation.conftest import SYSTEM

from otklik.demo.participation import OVERPASS, TITLE, load_demo_participation
from otklik.models.decision import Decision
from otklik.models.message import Message, MessageEnrichment
from otklik.models.participation import Campaign, Promise, Proposal
from otklik.participation import promises, proposals


def test_demo_line_and_proposal(session: Session, make_message: Callable[..., Message]) -> None:
    now = datetime.now(UTC)
    idea = make_message("Меня зовут Илья, я программист. Разработал программу для общения людей "
                        "с нарушениями речи, предлагаю использовать её для реабилитации "
                        "военнослужащих.", topic="social", subtopic=None, author="ilya",
                        created_at=now - timedelta(days=40))
    enrichment = session.get(MessageEnrichment, idea.id)
    assert enrichment is not None
    enrichment.kind = "proposal"
    session.flush()
    assert load_demo_participation(session, SYSTEM, now)
    assert not load_demo_participation(session, SYSTEM, now)  # idempotent
    campaign = session.scalar(select(Campaign).where(Campaign.title == TITLE))
    assert campaign is not None and campaign.finished_at is not None
    report = promises.report(session, SYSTEM, campaign.id)
    assert report.late == 1 and report.questions > report.originals
    assert report.top_places[0].name.find("Мичуринск") >= 0
    picked = [q for q in promises.campaigns.questions(session, SYSTEM, campaign.id)
              if q.confirmed]
    top = max(picked, key=lambda q: q.supporters)
    assert top.text.startswith(OVERPASS[:40]) and top.status == "promised"
    overpass = session.scalar(select(Promise).where(Promise.question_id == top.id))
    assert overpass is not None and overpass.stages[0]["done_on"] and not overpass.stages[1][
        "done_on"]
    decision = session.get(Decision, overpass.decision_id)
    assert decision is not None and decision.budget_rub == 278_000_000
    assert report.promises == 2 and report.promises_overdue == 1 and report.to_control >= 1
    proposal = session.scalar(select(Proposal).where(Proposal.message_id == idea.id))
    assert proposal is not None and proposal.status == "in_work"
    path = [e.to_status or e.kind for e in proposals.events(session, SYSTEM, proposal.id)]
    assert path == ["received", "under_review", "meeting", "accepted", "in_work"]
