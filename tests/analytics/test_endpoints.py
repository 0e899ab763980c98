"""Analytics API: dashboard, drill, ratings, comparison and the map, in the caller's scope."""

from __future__ import annotations

from sqlalchemy.orm import Session
from tests.analytics.conftest import World
from tests.builders import PASSWORD, make_user
from tests.conftest import login

from otklik.models.account import Role


def test_dashboard_and_drill_over_http(client: object, session: Session, world: World
                                       ) -> None:
    analyst = make_user(session, Role.analyst, ["68"])
    login(client, analyst.username, PASSWORD)
    get = client.get  # type: ignore[attr-defined]
    board = get("/api/v1/analytics/dashboard?period=2026-11").json()
    assert board["level"] == "region" and board["filter"]["date_from"] == "2026-11-01"
    params = dict(board["totals"]["drill_messages"])
    drilled = get("/api/v1/analytics/drill", params=params).json()
    assert drilled["total"] == board["totals"]["messages"]
    assert get("/api/v1/analytics/dashboard?period=2026-11&region_code=07").status_code == 404
    ratings = get("/api/v1/analytics/ratings/executor?period=2026-11").json()
    assert ratings["formula"].startswith("Балл")
    assert [r["rank"] for r in ratings["items"]] == list(range(1, len(ratings["items"]) + 1))
    findings = get("/api/v1/analytics/findings?period=2026-11").json()
    assert findings["total"] == len(findings["items"]) > 0 and findings["limit"] == 50
    assert all(f["drill"]["kind"] in ("messages", "cases") for f in findings["items"])
    first = get("/api/v1/analytics/findings?period=2026-11&limit=1&offset=1").json()
    assert first["items"] == findings["items"][1:2] and first["total"] == findings["total"]
    assert get("/api/v1/analytics/dashboard?period=2026-13").status_code == 400


def test_federal_compare_and_map(client: object, session: Session, world: World) -> None:
    federal = make_user(session, Role.analyst, all_regions=True)
    login(client, federal.username, PASSWORD)
    get = client.get  # type: ignore[attr-defined]
    page = get("/api/v1/analytics/compare?period=2026-11&regions=68&regions=07").json()
    rows = page["items"]
    assert {r["region_code"] for r in rows} == {"68", "07"} and page["total"] == 2
    board = get("/api/v1/analytics/dashboard?period=2026-11").json()
    by_region = {a["key"]: a["messages"] for a in board["areas"] if a["level"] == "region"}
    assert {r["region_code"]: r["messages"] for r in rows} == {
        "68": by_region["68"], "07": by_region["07"]}
    geo = get("/api/v1/analytics/map/regions?period=2026-11").json()
    tambov = next(f for f in geo["features"] if f["properties"]["code"] == "68")
    assert tambov["properties"]["messages"] == by_region["68"]


def test_executors_and_anonymous_are_refused(client: object, session: Session) -> None:
    get = client.get  # type: ignore[attr-defined]
    assert get("/api/v1/analytics/dashboard").status_code == 401
    operator = make_user(session, Role.operator, ["68"])
    login(client, operator.username, PASSWORD)
    assert get("/api/v1/analytics/dashboard").status_code == 403
