"""The demo's official pages: a few hundred across the five regions, mostly schools and
kindergartens, weekly ratings that move, a few comments in the stream, an owner account;
the rating screen, a page's breakdown and advice rendered from the demo's data."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.conftest import login

from otklik.accounts.repository import AccountRepository
from otklik.audit.actor import Actor
from otklik.demo.organizations import DEMO_REGIONS
from otklik.demo.publics import PAGES_PER_REGION, WEEKS, load_demo_publics, owner_login
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


def test_the_demo_rating_renders_breakdowns_and_advice(client, session: Session
                                                       ) -> None:  # type: ignore[no-untyped-def]
    end = datetime(2026, 12, 6, 9, tzinfo=UTC)
    load_demo_publics(session, Actor.system("demo"), end)
    per_region = Counter(session.scalars(select(PublicPage.region_code)))
    assert set(per_region) == set(DEMO_REGIONS)
    assert all(n >= PAGES_PER_REGION for n in per_region.values())
    flagships = session.scalars(select(PublicPage.page_type).where(
        PublicPage.page_class == "flagship")).all()
    assert "government" in flagships and len(flagships) < 20

    analyst = make_user(session, Role.analyst, list(DEMO_REGIONS))
    login(client, analyst.username, PASSWORD)
    week = "2026-W48"
    rating = client.get("/publics", params={"week": week, "region_code": "68"})
    assert rating.status_code == 200
    assert rating.text.count("data-page-id=") >= 50  # a full first screen of 50
    assert 'data-testid="by-municipality"' in rating.text
    assert 'data-testid="by-type"' in rating.text

    # The lowest-scored page with data: its card has the breakdown and concrete advice.
    worst = session.scalars(select(PageRating).where(
        PageRating.week == week, PageRating.region_code == "68",
        PageRating.score.is_not(None)).order_by(PageRating.score)).first()
    assert worst is not None and worst.score is not None and worst.score < 100
    card = client.get(f"/publics/pages/{worst.page_id}", params={"week": week})
    assert card.status_code == 200
    assert 'data-testid="breakdown"' in card.text and card.text.count("data-criterion=") >= 5
    advice = card.text.split('<ul class="advice" data-testid="advice">')[1].split("</ul>")[0]
    assert advice.count("<li>") >= 1
    api = client.get(f"/api/v1/publics/pages/{worst.page_id}", params={"week": week}).json()
    assert api["score"] == worst.score
    assert any(c["advice"] for c in api["criteria"])

    login(client, "owner", "demo")
    mine = client.get("/publics/mine")
    assert mine.status_code == 200 and mine.text.count('class="pb-card"') == 2
