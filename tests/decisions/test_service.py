"""The decisions registry: recording with links, scope, counts, and the effect."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.builders import make_user

from otklik.accounts.service import actor_for
from otklik.audit.actor import Actor
from otklik.decisions import service
from otklik.decisions.schemas import DecisionCreate, DecisionUpdate
from otklik.errors import Forbidden, InvalidInput, NotFound
from otklik.models.account import Role
from otklik.models.case import Case, CaseMessage, CaseStatus, Problem
from otklik.models.message import Message, MessageEnrichment
from otklik.models.territory import Territory, TerritoryLevel

SYSTEM = Actor.system("tests")
DECIDED = date(2026, 11, 1)


def _michurinsk(session: Session) -> int:
    return session.scalars(select(Territory.id).where(
        Territory.level == TerritoryLevel.municipality, Territory.region_code == "68",
        Territory.name.contains("Мичуринск"))).first()  # type: ignore[return-value]


def _message(session: Session, n: int, at: datetime, topic: str, municipality: int | None,
             problem: int | None = None) -> None:
    text = "Путепровод на Лаврова разваливается, когда ремонт?"
    message = Message(source="vk", source_id=f"dec-{n}", region_code="68", text=text,
                      text_length=len(text), content_hash=f"d{n}", created_at=at,
                      received_at=at, attachments=[], raw={})
    session.add(message)
    session.flush()
    session.add(MessageEnrichment(message_id=message.id, relevant=True, topic=topic,
                                  region_code="68", municipality_id=municipality, result={}))
    if problem is not None:
        case = Case(region_code="68", status=CaseStatus.in_work, title=text, topic=topic,
                    received_at=at, problem_id=problem, routing={}, pauses=[])
        session.add(case)
        session.flush()
        session.add(CaseMessage(message_id=message.id, case_id=case.id, is_primary=True))


@pytest.fixture
def overpass(session: Session) -> Problem:
    """The overpass problem with 10 messages in the 30 days before the decision and 4 after,
    plus unrelated messages that must not count."""
    municipality = _michurinsk(session)
    problem = Problem(region_code="68", title="Путепровод на ул. Лаврова", topic="roads",
                      municipality_id=municipality, first_seen=datetime(2026, 9, 1, tzinfo=UTC),
                      last_seen=datetime(2026, 11, 20, tzinfo=UTC))
    session.add(problem)
    session.flush()
    start = datetime(2026, 10, 31, 21, 0, tzinfo=UTC)  # 1 Nov 00:00 Moscow time
    for i in range(10):
        _message(session, i, start - timedelta(days=2 + 2 * i), "roads", municipality, problem.id)
    for i in range(4):
        _message(session, 100 + i, start + timedelta(days=1 + 5 * i), "roads", municipality,
                 problem.id)
    _message(session, 200, start - timedelta(days=3), "health", municipality)
    _message(session, 201, start - timedelta(days=40), "roads", municipality, problem.id)
    session.flush()
    return problem


def _create(session: Session, problem: Problem, actor: Actor = SYSTEM) -> int:
    decision = service.create_decision(session, actor, DecisionCreate(
        region_code="68", title="Капитальный ремонт путепровода на ул. Лаврова",
        decided_on=DECIDED, decided_by="Губернатор Тамбовской области",
        budget_rub=278_000_000, problem_ids=[problem.id]))
    return decision.id


def test_effect_counts_linked_messages_before_and_after(session: Session,
                                                         overpass: Problem) -> None:
    decision_id = _create(session, overpass)
    effect = service.effect(session, SYSTEM, decision_id, window=30, today=date(2026, 12, 15))
    assert effect.window_days == 30
    assert (effect.messages_before, effect.messages_after) == (10, 4)
    assert effect.rate_before == pytest.approx(10 / 30, abs=1e-3)
    assert effect.change_pct == pytest.approx(-60.0)
    assert effect.verdict == "сообщений стало меньше"
    rows, total = service.effect_messages(session, SYSTEM, decision_id, "after", 30,
                                          today=date(2026, 12, 15))
    assert total == 4 and len(rows) == 4


def test_effect_window_shrinks_to_the_days_that_passed(session: Session,
                                                       overpass: Problem) -> None:
    decision_id = _create(session, overpass)
    effect = service.effect(session, SYSTEM, decision_id, window=30, today=date(2026, 11, 11))
    assert effect.window_days == 10
    assert effect.messages_before == 5  # days -2 … -10 (the window includes its first moment)
    assert effect.messages_after == 2  # days +1 and +6
    with pytest.raises(InvalidInput):
        service.effect(session, SYSTEM, decision_id, today=DECIDED)


def test_topic_and_territory_links(session: Session, overpass: Problem) -> None:
    decision = service.create_decision(session, SYSTEM, DecisionCreate(
        region_code="68", title="Обследование медицинских учреждений Мичуринска",
        decided_on=DECIDED, decided_by="Министерство здравоохранения",
        topics=["health"], territory_ids=[_michurinsk(session)]))
    effect = service.effect(session, SYSTEM, decision.id, today=date(2026, 12, 15))
    assert (effect.messages_before, effect.messages_after) == (1, 0)


def test_links_must_exist_in_the_region(session: Session, overpass: Problem) -> None:
    with pytest.raises(InvalidInput):
        service.create_decision(session, SYSTEM, DecisionCreate(
            region_code="07", title="Чужая проблема", decided_on=DECIDED,
            decided_by="Губернатор", problem_ids=[overpass.id]))
    with pytest.raises(InvalidInput):
        service.create_decision(session, SYSTEM, DecisionCreate(
            region_code="68", title="Неизвестная тема", decided_on=DECIDED,
            decided_by="Губернатор", topics=["космос"]))


def test_scope_counts_and_read_only_roles(session: Session, overpass: Problem) -> None:
    decision_id = _create(session, overpass)
    service.create_decision(session, SYSTEM, DecisionCreate(
        region_code="07", title="Увеличение дорожного фонда на 5 млрд рублей",
        decided_on=DECIDED, decided_by="Губернатор Ставропольского края",
        budget_rub=5_000_000_000, topics=["roads"]))
    analyst = actor_for(session, make_user(session, Role.analyst, ["68"]))
    head = actor_for(session, make_user(session, Role.head, ["68"]))
    items, total = service.list_decisions(session, analyst)
    assert total == 1 and items[0].id == decision_id and items[0].problem_ids == [overpass.id]
    counts = {c.region_code: c for c in service.count_by_region(
        session, SYSTEM, date(2026, 1, 1), date(2027, 1, 1))}
    assert counts["68"].decisions == 1 and counts["07"].budget_rub == 5_000_000_000
    assert service.read(session, service.get_decision(session, head, decision_id)).title
    with pytest.raises(Forbidden):
        service.update_decision(session, head, decision_id, DecisionUpdate(status="done"))
    other = [c for c in service.count_by_region(session, analyst)]
    assert [c.region_code for c in other] == ["68"]
    stavropol = service.list_decisions(session, SYSTEM, region_code="07")[0][0].id
    with pytest.raises(NotFound):
        service.get_decision(session, analyst, stavropol)


def test_update_replaces_links_and_delete(session: Session, overpass: Problem) -> None:
    decision_id = _create(session, overpass)
    updated = service.update_decision(session, SYSTEM, decision_id, DecisionUpdate(
        status="in_progress", topics=["roads"]))
    read = service.read(session, updated)
    assert read.status == "in_progress"
    assert read.topics == ["roads"] and read.problem_ids == [overpass.id]
    service.delete_decision(session, SYSTEM, decision_id)
    with pytest.raises(NotFound):
        service.get_decision(session, SYSTEM, decision_id)


def test_a_deputy_sees_the_decisions_of_their_district_and_the_regional_ones(
        session: Session) -> None:
    from otklik.accounts.scope import Scope

    municipalities = session.scalars(select(Territory.id).where(
        Territory.level == TerritoryLevel.municipality, Territory.region_code == "68")
        .order_by(Territory.id).limit(2)).all()
    district, elsewhere = municipalities[0], municipalities[1]
    ids = {}
    for key, territories in (("district", [district]), ("elsewhere", [elsewhere]),
                             ("regional", [])):
        ids[key] = service.create_decision(session, SYSTEM, DecisionCreate(
            region_code="68", title=f"Решение {key}", decided_on=DECIDED,
            decided_by="Правительство области", territory_ids=territories)).id
    deputy = Actor("deputy", Scope(region_codes=frozenset({"68"}),
                                   territory_ids=frozenset({district}),
                                   permissions=frozenset({"read", "analytics"})),
                   role=Role.deputy)
    items, total = service.list_decisions(session, deputy)
    assert {d.id for d in items} == {ids["district"], ids["regional"]} and total == 2
    assert service.get_decision(session, deputy, ids["district"]).id == ids["district"]
    with pytest.raises(NotFound):
        service.get_decision(session, deputy, ids["elsewhere"])
    assert [c.decisions for c in service.count_by_region(session, deputy)] == [2]
    everyone, _ = service.list_decisions(session, SYSTEM)
    assert set(ids.values()) <= {d.id for d in everyone}
