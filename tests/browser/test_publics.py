"""The official pages screens in a real browser: a page's card draws its score history and
its subscribers (ECharts canvases) with the breakdown and advice beside them, without
script errors. A screenshot is saved in test-artifacts/."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from tests.browser.conftest import PASSWORD, World, log_in
from tests.publics.builders import a_page, msk, municipality, post, snapshot

from otklik.accounts.schemas import UserCreate
from otklik.accounts.service import create_user
from otklik.audit.actor import Actor
from otklik.db.session import make_engine
from otklik.models.account import Role
from otklik.publics import service
from otklik.publics.weeks import Week

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def rated_page(world: World) -> int:
    """An analyst and a page rated over three weeks, in the live database."""
    engine = make_engine(os.environ["OTKLIK_DATABASE_URL"])
    actor = Actor.system("browser-tests")
    with Session(engine) as session:
        create_user(session, actor, UserCreate(
            username="b_pages_analyst", password=PASSWORD, role=Role.analyst,
            region_codes=["68"], full_name="Тест аналитик госпабликов"))
        page = a_page(session, municipality_id=municipality(session).id,
                      name="МБОУ СОШ №9 (браузер)")
        first = Week.parse("2026-W46")
        for k in range(3):
            week = Week(first.monday + timedelta(days=7 * k))
            for n in range(k + 1):
                day = week.monday + timedelta(days=n)
                post(session, page, msk(day.year, day.month, day.day, 10), views=200,
                     likes=3 + k)
            snapshot(session, page, week.monday + timedelta(days=6), 800 + 25 * k,
                     {"avatar": True, "cover": False, "pinned_post": False})
            service.compute_week(session, actor, week, "68")
        session.commit()
        page_id = page.id
    engine.dispose()
    world.users["pages_analyst"] = "b_pages_analyst"
    return page_id


def test_a_pages_card_draws_its_history(page: Any, world: World, rated_page: int,
                                        artifacts_dir: Path) -> None:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    log_in(page, world, "pages_analyst")
    page.goto(f"/publics/pages/{rated_page}")
    for chart in ("pb-history", "pb-subscribers"):
        page.wait_for_selector(f"#{chart} canvas", timeout=15_000)
    assert "2026-W48" in page.get_by_test_id("page-name").locator("xpath=..").inner_text()
    assert page.locator('[data-testid="breakdown"] tr[data-criterion]').count() >= 3
    advice = page.get_by_test_id("advice").inner_text()
    assert "закрепите пост с контактами" in advice and "добавьте обложку" in advice
    assert "подключите отметку" not in advice  # a fact the snapshot does not report
    page.wait_for_timeout(1500)  # the charts' drawing animation, for the screenshot
    page.screenshot(path=str(artifacts_dir / "publics-page-card.png"), full_page=True)
    assert not errors, errors
