"""Journeys in a real browser: operator → executor → moderator, and an XSS message.

The tests run in order against one live server (a case moves through its life); each saves
a screenshot of its last step in test-artifacts/.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from tests.browser.conftest import World, log_in

from otklik.nlp.taxonomy import load_taxonomy
from otklik.queue import drain

pytestmark = pytest.mark.browser

ANSWER = ("Здравствуйте! Ямочный ремонт путепровода на ул. Лаврова выполнит МБУ «Дорсервис» "
          "до 20 мая 2027 г.; капитальный ремонт включён в программу 2027 года.")


def test_operator_filters_opens_corrects_topic_and_routes(page: Any, world: World,
                                                          artifacts_dir: Path) -> None:
    log_in(page, world, "operator")
    page.goto("/cases")
    assert page.locator("[data-case-id]").count() == 3
    page.keyboard.press("/")
    page.keyboard.type("путепровод")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"q=%D0%BF"))
    rows = page.locator("[data-case-id]")
    assert rows.count() == 1
    page.get_by_label("Тема").select_option("waste")
    page.get_by_role("button", name="Применить").click()
    assert page.locator(f'[data-case-id="{world.cases["road"]}"]').count() == 1
    page.locator("main").click(position={"x": 5, "y": 5})
    page.keyboard.press("j")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/cases/{world.cases['road']}")
    assert load_taxonomy().name("waste") in page.get_by_test_id("case-topic").inner_text()
    page.locator("#edit-topic").select_option("roads.bridges")
    page.get_by_test_id("save-topic").click()
    page.wait_for_selector(".flash-ok")
    assert "Мосты" in page.get_by_test_id("case-topic").inner_text()
    page.locator("#route-exec").select_option(str(world.organizations["michurinsk"]))
    page.locator('button[data-action="route"]').click()
    page.wait_for_selector(".flash-ok")
    assert "направлено" in page.locator("h1 .badge").first.inner_text()
    assert "Мичуринск" in page.get_by_test_id("case-executor").inner_text()
    page.screenshot(path=str(artifacts_dir / "journey-1-operator-routed.png"), full_page=True)


def test_executor_sees_only_their_cases_and_answers(page: Any, world: World,
                                                    artifacts_dir: Path) -> None:
    log_in(page, world, "executor")
    page.goto("/my")
    ids = {int(x) for x in page.locator("[data-case-id]").evaluate_all(
        "els => els.map(e => e.dataset.caseId)")}
    assert ids == {world.cases["road"]}
    assert page.goto(f"/cases/{world.cases['other']}").status == 404
    page.goto("/my")
    page.locator(f'[data-case-id="{world.cases["road"]}"] a.case-link').click()
    page.locator('button[data-action="accept"]').click()
    page.wait_for_selector(".flash-ok")
    page.get_by_label("Текст ответа").fill(ANSWER)
    page.get_by_role("button", name="Сохранить и проверить на отписку").click()
    page.wait_for_selector('[data-testid="quality"]')
    page.get_by_test_id("submit-answer").click()
    page.wait_for_selector(".flash-ok")
    assert "на модерации" in page.locator("h1 .badge").first.inner_text()
    page.set_viewport_size({"width": 390, "height": 844})  # the executor's phone
    page.screenshot(path=str(artifacts_dir / "journey-2-executor-answered.png"), full_page=True)


def test_operator_approves_and_the_answer_is_published(page: Any, world: World,
                                                       artifacts_dir: Path) -> None:
    log_in(page, world, "moderator")
    page.goto("/moderation")
    assert "Дорсервис" in page.get_by_test_id("moderation-answer").first.inner_text()
    page.get_by_test_id(f"approve-{world.cases['road']}").click()
    page.wait_for_selector(".flash-ok")
    drain()  # the publishing job (the test broker runs jobs when asked)
    page.goto(f"/cases/{world.cases['road']}")
    assert "отвечено" in page.locator("h1 .badge").first.inner_text()
    publications = page.get_by_test_id("publication").all_inner_texts()
    assert publications and all("опубликовано (без канала)" in p for p in publications)
    page.screenshot(path=str(artifacts_dir / "journey-3-answer-published.png"), full_page=True)


def test_an_xss_message_renders_inertly(page: Any, world: World, artifacts_dir: Path) -> None:
    log_in(page, world, "operator")
    page.goto(f"/cases/{world.cases['xss']}")
    text = page.get_by_test_id("message-text").first.inner_text()
    assert "<script>alert('xss')</script>" in text and "<img src=x onerror=alert(1)>" in text
    assert "[U+202E]" in text
    assert page.locator("main script, main img").count() == 0
    assert page.locator('a[href^="javascript:"]').count() == 0
    page.goto("/cases")
    page.wait_for_timeout(300)
    assert page.dialogs == []  # type: ignore[attr-defined]
    page.goto(f"/cases/{world.cases['xss']}")
    page.screenshot(path=str(artifacts_dir / "journey-4-xss-inert.png"), full_page=True)
    assert page.dialogs == []  # type: ignore[attr-defined]
