"""A small contest to test with: two tracks, two criteria, experts, applications."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session
from tests.builders import make_user

from otklik.accounts.service import actor_for
from otklik.audit.actor import Actor
from otklik.contests import service
from otklik.contests.schemas import (
    ApplicationCreate,
    ContestCreate,
    CriterionCreate,
    ExpertAssign,
    ReviewSubmit,
    ScoreIn,
    TrackCreate,
)
from otklik.models.account import Role, User
from otklik.models.contests import Contest, ContestApplication

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class Panel:
    """The contest, its manager and experts, and the ids the tests need."""

    contest: Contest
    manager: Actor
    experts: list[User]
    tracks: list[int]
    criteria: list[int]

    def expert(self, session: Session, index: int) -> Actor:
        """The actor of one expert."""
        return actor_for(session, self.experts[index])

    def score(self, session: Session, index: int, application_id: int, *values: int) -> None:
        """Expert ``index`` scores an application (one value per criterion)."""
        service.submit_review(session, self.expert(session, index), application_id,
                              ReviewSubmit(scores=[ScoreIn(criterion_id=c, value=v)
                                                   for c, v in zip(self.criteria, values,
                                                                   strict=True)]))


def a_panel(session: Session, experts: int = 4, *, aggregation: str = "mean",
            budget: int = 1_000_000, winners: int = 2) -> Panel:
    """A contest in Tambov: track 1 «Видео» (the experts), track 2 «Тексты» (nobody);
    criteria «Значимость» (scale 10, weight 2) and «Охват» (scale 5, weight 1)."""
    manager = actor_for(session, make_user(session, Role.curator, ["68"]))
    contest = service.create_contest(session, manager, ContestCreate(
        region_code="68", title="Грант для блогеров", aggregation=aggregation,  # type: ignore[arg-type]
        tracks=[TrackCreate(title="Видео", budget_rub=budget, grant_min_rub=150_000,
                            grant_max_rub=350_000, winners=winners),
                TrackCreate(title="Тексты", budget_rub=500_000, grant_min_rub=150_000,
                            grant_max_rub=350_000, winners=2)],
        criteria=[CriterionCreate(title="Значимость", scale_max=10, weight=2),
                  CriterionCreate(title="Охват", scale_max=5, weight=1)]))
    read = service.read_contest(session, contest)
    users = [make_user(session, Role.expert, ["68"]) for _ in range(experts)]
    for user in users:
        service.assign_expert(session, manager, contest.id,
                              ExpertAssign(user_id=user.id, track_id=read.tracks[0].id))
    contest.status = "open"
    session.flush()
    return Panel(contest, manager, users, [t.id for t in read.tracks],
                 [c.id for c in read.criteria])


def an_application(session: Session, panel: Panel, *, track: int = 0, requested: int = 300_000,
                   title: str = "Канал о Мичуринске", minutes: int = 0) -> ContestApplication:
    """An application entered by the manager."""
    application, _ = service.add_application(
        session, panel.manager, panel.contest.id,
        ApplicationCreate(track_id=panel.tracks[track], applicant="Иван Петров",
                          contact="ivan@example.org", title=title, requested_rub=requested),
        source="manual", submitted_at=START + timedelta(minutes=minutes))
    return application
