"""Decisions API and the decisions count in ``otklik stats``."""

from __future__ import annotations

from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.conftest import login

from otklik.models.account import Role
from otklik.ops import stats


def test_create_list_effect_over_http(client: object, session: Session) -> None:
    analyst = make_user(session, Role.analyst, ["68"])
    csrf = login(client, analyst.username, PASSWORD)
    response = client.post("/api/v1/decisions", headers={"x-csrf-token": csrf},  # type: ignore[attr-defined]
                           json={"region_code": "68", "title": "Ремонт дороги на Лаврова",
                                 "decided_on": "2026-10-01", "decided_by": "Губернатор",
                                 "budget_rub": 1000000, "topics": ["roads"]})
    assert response.status_code == 201, response.text
    decision_id = response.json()["id"]
    listed = client.get("/api/v1/decisions?period=2026").json()  # type: ignore[attr-defined]
    assert listed["total"] == 1 and listed["items"][0]["topics"] == ["roads"]
    effect = client.get(f"/api/v1/decisions/{decision_id}/effect?window=10")  # type: ignore[attr-defined]
    assert effect.status_code == 200, effect.text
    assert effect.json()["window_days"] == 10
    page = client.get("/api/v1/decisions/counts?period=2026").json()  # type: ignore[attr-defined]
    counts = page["items"]
    assert counts == [{"region_code": "68", "name": counts[0]["name"], "decisions": 1,
                       "budget_rub": 1000000}] and page["total"] == 1
    other = client.get("/api/v1/decisions/counts?period=2026&region_code=07").json()  # type: ignore[attr-defined]
    assert (other["items"], other["total"]) == ([], 0)
    outside = client.post("/api/v1/decisions", headers={"x-csrf-token": csrf},  # type: ignore[attr-defined]
                          json={"region_code": "07", "title": "Чужой регион",
                                "decided_on": "2026-10-01", "decided_by": "Губернатор"})
    assert outside.status_code == 403


def test_stats_count_decisions(session: Session) -> None:
    import otklik.decisions.stats  # noqa: F401  (registers the provider)

    before = stats.collect(session)["decisions"]
    from datetime import date

    from otklik.audit.actor import Actor
    from otklik.decisions.schemas import DecisionCreate
    from otklik.decisions.service import create_decision

    create_decision(session, Actor.system("tests"), DecisionCreate(
        region_code="86", title="Ремонт кровли школы в Кондопоге", decided_on=date(2026, 11, 2),
        decided_by="Министерство образования Республики Карелия", topics=["education"]))
    assert stats.collect(session)["decisions"] == before + 1
