"""The demo's official pages: a few hundred across the five regions, mostly schools and
kindergartens, weekly ratings that move, a few comments in the stream, an owner account."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otklik.accounts.repository import AccountRepository
from otklik.audit.actor import Actor
from otklik.demo.publics import WEEKS, load_demo_publics, owner_login
from otklik.models.account import Role
from otklik.models.message import Message
from otklik.models.publics import PageRating, PublicPage


def test_the_demo_pages_and_their_moving_rating(session: Session) -> None:
    end = datetime(2026, 12, 6, 9, tzinfo=UTC)
    added = load_demo_publics(session, Actor.system("demo"), end)

    assert 250 <= added <= 400
    types = Counter(session.scalars(select(PublicPage.page_type)))
    assert (types["school"] + types["kindergarten"]) / added > 0.6
    assert types["government"] == 5
    weeks = session.scalars(select(PageRating.week).distinct()).all()
    assert len(weeks) == WEEKS and max(weeks) == "2026-W48"
    moved = session.scalar(select(func.count()).where(PageRating.movement != 0))
    assert moved and moved > added  # ranks change from week to week
    silent = session.scalar(select(func.count()).where(PageRating.score.is_(None)))
    assert silent and silent > 0  # a silent week is "нет данных", never zero
    assert session.scalar(select(func.count()).select_from(Message).where(
        Message.owner_id.in_(select(PublicPage.external_id)))) > 0

    owner = AccountRepository(session).by_username("owner")
    assert owner is not None and owner.role == Role.owner
    owned = session.scalars(select(PublicPage).where(
        PublicPage.organization_id == owner.organization_id)).all()
    assert len(owned) == 2
    login = owner_login(session)
    assert login is not None and login.username == "owner"
    assert load_demo_publics(session, Actor.system("demo"), end) == 0
