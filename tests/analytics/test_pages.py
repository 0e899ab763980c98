"""The analytics pages: every role that reads analytics gets the dashboard with the numbers a
direct count of the fixture gives; numbers link to drill-downs with the right filters;
resident text (a problem title) renders inert; decisions pages; scoping of a deputy."""

from __future__ import annotations

import html
import json
import re
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy.orm import Session
from tests.analytics.conftest import World
from tests.analytics.test_dashboard_counts import NOVEMBER, _cases, _messages
from tests.builders import PASSWORD, make_user
from tests.conftest import login

from otklik.models.account import Role, UserTerritory
from otklik.models.case import Problem
from otklik.models.territory import Territory

XSS = "Путепровод <script>alert('xss')</script><img src=x onerror=alert(1)>"


def _testid_number(page: str, testid: str) -> int:
    match = re.search(rf'data-testid="{testid}">(\d+)<', page)
    assert match, f"{testid} not on the page"
    return int(match.group(1))


def _links(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="(/analytics/drill\?[^"]+)"', page)]


@pytest.mark.parametrize("role", [Role.analyst, Role.head, Role.admin])
def test_dashboard_numbers_match_direct_counts(client: object, session: Session, world: World,
                                               role: Role) -> None:
    user = make_user(session, role, ["68"])
    login(client, user.username, PASSWORD)
    response = client.get("/analytics?period=2026-11&region_code=68")  # type: ignore[attr-defined]
    assert response.status_code == 200, response.text
    page = response.text
    assert _testid_number(page, "total-messages") == len(_messages(world, NOVEMBER))
    assert _testid_number(page, "total-cases") == len(_cases(world, NOVEMBER))
    data = json.loads(html.unescape(re.search(
        r'<script type="application/json" id="an-data">(.*?)</script>', page, re.S).group(1)))
    volume = data["volume"][0]
    assert sum(volume["values"]) == len(_messages(world, NOVEMBER))
    assert len(data["days"]) == 30 and data["map"]["level"] == "region"
    roads = [m for m in _messages(world, NOVEMBER) if m.topic == "roads"]
    row = re.search(r'<tr data-topic="roads">.*?class="an-num"\s*>(\d+)<', page, re.S)
    assert row and int(row.group(1)) == len(roads)
    assert "Балл = 100" in page  # the rating formula is shown


def test_drill_links_carry_filters_and_lists_equal_numbers(client: object, session: Session,
                                                           world: World) -> None:
    analyst = make_user(session, Role.analyst, ["68"])
    login(client, analyst.username, PASSWORD)
    get = client.get  # type: ignore[attr-defined]
    page = get("/analytics?period=2026-11&region_code=68&topic=roads").text
    links = _links(page)
    assert links
    for link in links:
        query = parse_qs(urlsplit(link).query)
        assert query["region_code"] == ["68"] and query["topic"] == ["roads"]
        assert query["kind"][0] in ("messages", "cases")
    total = _links(page)[0]
    expected = len(_messages(world, NOVEMBER.narrowed(topic="roads")))
    drilled = get(total).text
    assert f"data-testid=\"drill-total\">Всего: {expected}<" in drilled or \
        re.search(rf'drill-total">[^<]*{expected}<', drilled)
    cases_link = next(link for link in links if "kind=cases" in link and "metric=overdue" in link)
    cases_page = get(cases_link).text
    queue = html.unescape(re.search(r'href="(/cases\?[^"]+)" data-testid="drill-queue"',
                                    cases_page).group(1))
    assert parse_qs(urlsplit(queue).query) == {
        "from": ["2026-11-01"], "to": ["2026-11-30"], "topic": ["roads"],
        "executor": parse_qs(urlsplit(cases_link).query)["executor_id"], "overdue": ["1"]}


def test_problem_title_renders_inert(client: object, session: Session, world: World) -> None:
    problem = session.get(Problem, world.problems[0])
    assert problem is not None
    problem.title = XSS
    session.flush()
    analyst = make_user(session, Role.analyst, ["68"])
    login(client, analyst.username, PASSWORD)
    page = client.get("/analytics?period=2026-11&region_code=68").text  # type: ignore[attr-defined]
    assert "<script>alert" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(" in page
    assert page.count("<script") == page.count("<script src=") + 1  # only the JSON block


def test_deputy_sees_only_their_district(client: object, session: Session, world: World
                                         ) -> None:
    municipality = world.municipalities["68"][0]
    deputy = make_user(session, Role.deputy, ["68"])
    session.add(UserTerritory(user_id=deputy.id, territory_id=municipality))
    session.flush()
    login(client, deputy.username, PASSWORD)
    page = client.get("/analytics?period=2026-11&region_code=68").text  # type: ignore[attr-defined]
    expected = len(_messages(world, NOVEMBER, {municipality}))
    assert _testid_number(page, "total-messages") == expected
    name = session.get(Territory, world.municipalities["68"][1]).name  # type: ignore[union-attr]
    assert f'<option value="{world.municipalities["68"][1]}"' not in page, name


def test_compare_and_decision_pages(client: object, session: Session, world: World) -> None:
    federal = make_user(session, Role.analyst, all_regions=True)
    login(client, federal.username, PASSWORD)
    get = client.get  # type: ignore[attr-defined]
    page = get("/analytics/compare?period=2026-11&regions=68&regions=07").text
    assert 'data-region="68"' in page and 'data-region="07"' in page
    messages_68 = len(_messages(world, NOVEMBER))
    assert re.search(rf'data-region="68">.*?class="an-num"[^>]*>{messages_68}<', page, re.S)
    form = get("/analytics/decisions/new?region_code=68").text
    token = re.search(r'name="csrf" value="([^"]+)"', form).group(1)
    created = client.post("/analytics/decisions/new", data={  # type: ignore[attr-defined]
        "csrf": token, "region_code": "68", "title": "Капремонт путепровода на ул. Лаврова",
        "decided_on": "2026-11-10", "decided_by": "Губернатор Тамбовской области",
        "budget_rub": "278 000 000", "topics": ["roads"],
        "problem_ids": [str(world.problems[0])]}, follow_redirects=False)
    assert created.status_code == 303, created.text
    detail = get(created.headers["location"]).text
    assert "278 000 000 ₽" in detail and 'data-testid="decision-effect"' in detail
    listing = get("/analytics/decisions?period=2026").text
    assert "Капремонт путепровода" in listing
    head = make_user(session, Role.head, ["68"])
    login(client, head.username, PASSWORD)
    assert 'data-testid="decision-edit"' not in get(created.headers["location"]).text
    assert get("/analytics/decisions/new?region_code=68").status_code == 403


def test_english_switch_and_schedule_page(client: object, session: Session, world: World
                                          ) -> None:
    admin = make_user(session, Role.admin, ["68"])
    login(client, admin.username, PASSWORD)
    get = client.get  # type: ignore[attr-defined]
    client.cookies.set("lang", "en")  # type: ignore[attr-defined]
    page = get("/analytics?period=2026-11&region_code=68").text
    assert "Analytics of messages" in page and "Deadline compliance" in page
    client.cookies.set("lang", "ru")  # type: ignore[attr-defined]
    reports = get("/analytics/reports").text
    token = re.search(r'name="csrf" value="([^"]+)"', reports).group(1)  # type: ignore[union-attr]
    added = client.post("/analytics/reports/schedules", data={  # type: ignore[attr-defined]
        "csrf": token, "region_code": "68", "period_kind": "monthly",
        "formats": ["xlsx"], "recipients": "head@example.ru"}, follow_redirects=False)
    assert added.status_code == 303
    listing = get("/analytics/reports").text
    schedule_id = re.search(r'data-schedule-id="(\d+)"', listing).group(1)  # type: ignore[union-attr]
    ran = client.post(f"/analytics/reports/schedules/{schedule_id}/run",  # type: ignore[attr-defined]
                      data={"csrf": token}, follow_redirects=False)
    assert ran.status_code == 303
    files = get("/analytics/reports").text
    file_id = re.search(r'href="/analytics/reports/files/(\d+)"', files).group(1)  # type: ignore[union-attr]
    download = get(f"/analytics/reports/files/{file_id}")
    assert download.status_code == 200 and download.content[:2] == b"PK"
    assert "attachment" in download.headers["content-disposition"]
