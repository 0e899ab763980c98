"""The analytics dashboard in a real browser: the charts are drawn (ECharts canvases), the
map loads the packaged region outlines, a number opens the rows behind it. A screenshot is
saved in test-artifacts/."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from tests.browser.conftest import PASSWORD, World, log_in

from otklik.accounts.schemas import UserCreate
from otklik.accounts.service import create_user
from otklik.audit.actor import Actor
from otklik.db.session import make_engine
from otklik.models.account import Role

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def head(world: World) -> str:
    """A read-only head of the region (руководитель) in the live database."""
    import os

    engine = make_engine(os.environ["OTKLIK_DATABASE_URL"])
    with Session(engine) as session:
        create_user(session, Actor.system("browser-tests"), UserCreate(
            username="b_head", password=PASSWORD, role=Role.head, region_codes=["68"],
            full_name="Тест руководитель"))
        session.commit()
    engine.dispose()
    world.users["head"] = "b_head"
    return "b_head"


def test_head_sees_the_dashboard_drawn(page: Any, world: World, head: str,
                                       artifacts_dir: Path) -> None:
    errors: list[str] = []  # script errors; htmx's own inline indicator style is blocked by
    page.on("pageerror", lambda exc: errors.append(str(exc)))  # the CSP on every page
    log_in(page, world, "head")
    page.get_by_role("link", name="Аналитика").first.click()
    page.wait_for_url("**/analytics")
    for chart in ("volume", "sentiment", "topics", "executors", "map"):
        page.wait_for_selector(f'#chart-{chart}[data-drawn="1"]', timeout=15_000)
        assert page.locator(f"#chart-{chart} canvas").count() >= 1, chart
    assert page.get_by_test_id("total-messages").inner_text() == "3"
    assert "Балл = 100" in page.get_by_test_id("an-rating-executors-formula").inner_text()
    page.screenshot(path=str(artifacts_dir / "dashboard-head.png"), full_page=True)
    page.get_by_test_id("total-messages").click()
    page.wait_for_url("**/analytics/drill?**")
    assert "3" in page.get_by_test_id("drill-total").inner_text()
    assert page.locator('[data-testid="drill-rows"] tbody tr').count() == 3
    assert "<script>" not in page.locator("main").inner_html().replace(
        '<script type="application/json"', "")
    assert not errors, errors
