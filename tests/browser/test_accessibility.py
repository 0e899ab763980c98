"""Accessibility of every screen, checked in the browser by axe-core (WCAG 2 A and AA).

axe-core runs inside Chromium on the rendered page (labels, contrast, names of buttons and
links, landmarks, ARIA use); a serious or critical violation fails the test and names the
element. Screens are also checked for horizontal scrolling at 1366×768 and, for what an
executor uses, on a phone-sized screen (375×812).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session

from otklik.accounts.schemas import UserCreate
from otklik.accounts.service import create_user
from otklik.audit.actor import Actor
from otklik.db.session import make_engine
from otklik.models.account import Role

from .conftest import PASSWORD, World, log_in

WCAG = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]},
        "resultTypes": ["violations"]}
PHONE = {"width": 375, "height": 812}


def _admin(world: World) -> None:
    if "admin" in world.users:
        return
    engine = make_engine(world.database_url)
    with Session(engine) as session:
        user = create_user(session, Actor.system("browser-tests"), UserCreate(
            username="b_admin", password=PASSWORD, role=Role.admin, region_codes=["68"],
            full_name="Тест admin"))
        session.commit()
        world.users["admin"] = user.username
    engine.dispose()


def _violations(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options=WCAG)
    found = []
    for violation in results.response["violations"]:
        if violation.get("impact") not in ("serious", "critical"):
            continue
        targets = [" ".join(node["target"]) for node in violation["nodes"][:3]]
        found.append(f"{violation['id']} ({violation['impact']}): {violation['help']} — "
                     + "; ".join(targets))
    return found


def _fits(page: Any) -> bool:
    """No horizontal scrolling: the page is as wide as the window."""
    return bool(page.evaluate(
        "document.scrollingElement.scrollWidth <= window.innerWidth + 1"))


def _check(page: Any, path: str, problems: dict[str, list[str]]) -> None:
    page.goto(path)
    page.wait_for_load_state("networkidle")
    found = _violations(page)
    if not _fits(page):
        found.append(f"scrolls sideways at {page.viewport_size['width']} px")
    if found:
        problems[path] = found


@pytest.mark.parametrize("who, paths", [
    (None, ["/login", "/form"]),
    ("operator", ["/cases", "/cases/{road}", "/triage", "/moderation", "/problems"]),
    ("executor", ["/my", "/cases/{road}"]),
    ("admin", ["/admin", "/admin/rules", "/admin/policies", "/admin/calendar",
               "/admin/connectors", "/admin/channels", "/admin/models", "/admin/users",
               "/admin/taxonomy", "/analytics", "/analytics/decisions", "/fakes",
               "/fakes/suspects", "/fakes/analytics", "/myths"]),
])
def test_screens_have_no_serious_accessibility_violations(
        page: Any, world: World, who: str | None, paths: list[str]) -> None:
    if who == "admin":
        _admin(world)
    if who:
        log_in(page, world, who)
    problems: dict[str, list[str]] = {}
    for path in paths:
        _check(page, path.format(**world.cases), problems)
    assert not problems, "\n".join(f"{p}: {v}" for p, v in problems.items())


def test_the_executor_works_on_a_phone(browser: Any, world: World) -> None:
    context = browser.new_context(viewport=PHONE, locale="ru-RU", base_url=world.base_url,
                                  is_mobile=True, has_touch=True)
    context.set_default_timeout(10_000)
    phone = context.new_page()
    try:
        log_in(phone, world, "executor")
        problems: dict[str, list[str]] = {}
        for path in ("/my", f"/cases/{world.cases['road']}"):
            _check(phone, path, problems)
        assert not problems, "\n".join(f"{p}: {v}" for p, v in problems.items())
    finally:
        context.close()
