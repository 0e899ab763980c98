"""Journeys of issue 6 in a real browser: a saved view, assigning a case to a person,
splitting a case. Each saves a screenshot of its last step in test-artifacts/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session
from tests.browser.conftest import World, _message, log_in

from otklik.audit.actor import Actor
from otklik.cases import service
from otklik.db.session import make_engine
from otklik.territories.repository import TerritoryRepository

pytestmark = pytest.mark.browser
STRAY = "Отдельно: у школы № 5 на ул. Лаврова третий день не убирают снег с тротуара"


@pytest.fixture(scope="module")
def two_matters(world: World) -> int:
    """A case holding a message about another matter (committed: the server reads it)."""
    engine = make_engine(world.database_url)
    with Session(engine) as session:
        municipality = TerritoryRepository(session).by_key("68715")
        assert municipality is not None
        case = _message(session, "wall-68_950", "Ул. Лаврова: снова провал асфальта у "
                        "путепровода, ограждения нет", topic="roads", subtopic=None,
                        municipality_id=municipality.id, hours_ago=2)
        stray = _message(session, "wall-68_951", STRAY, topic="roads", subtopic=None,
                         municipality_id=municipality.id, hours_ago=1)
        # The stray message first got a case of its own; merge it in, as a hasty operator
        # might, so that the card holds two matters.
        service.merge(session, Actor.system("browser-tests"), case, [stray])
        session.commit()
        case_id = case.id
    engine.dispose()
    return case_id


def test_operator_saves_a_view_and_reopens_it(page: Any, world: World,
                                              artifacts_dir: Path) -> None:
    log_in(page, world, "operator")
    page.goto("/cases")
    page.get_by_label("Тема").select_option("housing")
    page.get_by_role("button", name="Применить").click()
    page.wait_for_url(re.compile(r"topic=housing"))
    page.get_by_label("Название вида").fill("ЖКХ: освещение")
    page.get_by_role("button", name="Сохранить фильтры как вид").click()
    page.wait_for_selector(".flash-ok")
    page.goto("/cases")
    assert page.locator("[data-case-id]").count() > 1
    page.get_by_test_id("saved-view").filter(has_text="ЖКХ: освещение").click()
    page.wait_for_url(re.compile(r"topic=housing"))
    ids = page.locator("[data-case-id]").evaluate_all("els => els.map(e => e.dataset.caseId)")
    assert ids == [str(world.cases["other"])]
    assert page.locator('[data-testid="saved-view"][aria-current="true"]').inner_text() \
        == "ЖКХ: освещение"
    page.screenshot(path=str(artifacts_dir / "journey-5-saved-view.png"), full_page=True)


def test_operator_assigns_a_case_to_a_person(page: Any, world: World,
                                             artifacts_dir: Path) -> None:
    log_in(page, world, "operator")
    page.goto(f"/cases/{world.cases['road']}")
    page.locator("main").click(position={"x": 5, "y": 5})
    page.keyboard.press("a")  # "a" opens the assignment
    assert page.evaluate("document.activeElement.id") == "assign-user"
    page.locator("#assign-user").select_option(label="Тест operator")
    page.locator('button[data-action="assign"]').click()
    page.wait_for_selector(".flash-ok")
    assert page.get_by_test_id("case-assignee").inner_text() == "Тест operator"
    page.goto("/cases")
    page.get_by_label("Мои (назначенные мне)").check()
    page.get_by_role("button", name="Применить").click()
    page.wait_for_url(re.compile(r"mine=1"))
    ids = page.locator("[data-case-id]").evaluate_all("els => els.map(e => e.dataset.caseId)")
    assert ids == [str(world.cases["road"])]
    assert page.get_by_test_id("row-assignee").first.inner_text() == "Тест operator"
    page.screenshot(path=str(artifacts_dir / "journey-6-assigned.png"), full_page=True)


def test_operator_splits_a_case(page: Any, world: World, two_matters: int,
                                artifacts_dir: Path) -> None:
    log_in(page, world, "operator")
    page.goto(f"/cases/{two_matters}")
    assert page.get_by_test_id("message").count() == 2
    stray = page.get_by_test_id("message").filter(has_text="у школы № 5")
    stray.get_by_label("выделить").check()
    page.get_by_test_id("split").click()
    page.wait_for_selector(".flash-ok")
    new_id = int(page.url.rstrip("/").rsplit("/", 1)[1])
    assert new_id != two_matters
    assert page.get_by_test_id("message").count() == 1
    assert "у школы № 5" in page.get_by_test_id("message-text").inner_text()
    page.goto(f"/cases/{two_matters}")
    assert page.get_by_test_id("message").count() == 1
    assert "провал асфальта" in page.get_by_test_id("message-text").inner_text()
    page.goto(f"/cases/{new_id}")
    page.screenshot(path=str(artifacts_dir / "journey-7-split.png"), full_page=True)
