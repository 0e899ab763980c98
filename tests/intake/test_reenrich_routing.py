"""Re-enrichment routes again what no person decided: a case a rule routed (or left in
triage) whose topic changed goes where the rules now say; a case an operator routed, handed
back, or already accepted by its executor keeps its executor (SQLite and PostgreSQL)."""
# ruff: noqa: F811  (fixtures imported from tests/cases/conftest.py are parameters here)

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.cases.conftest import make_message, michurinsk  # noqa: F401
from tests.conftest import BACKENDS, login, migrated_database

from otklik.accounts.scope import Scope
from otklik.accounts.service import actor_for
from otklik.audit.actor import Actor
from otklik.cases import reclassify, service
from otklik.cases.consumers import follow_reenrichment
from otklik.cases.reclassify import REROUTE_REASON, CaseFollowSummary
from otklik.cases.repository import CaseRepository
from otklik.events import MessagesReenriched
from otklik.intake.reenrich import reenrich_batch
from otklik.language import taxonomy_service
from otklik.models.account import Role
from otklik.models.case import Case, CaseEvent, CaseStatus, RoutingRule
from otklik.models.message import Message, MessageEnrichment
from otklik.models.organization import OrganizationKind
from otklik.organizations.repository import OrganizationRepository
from otklik.queue import pending_mark

SYSTEM = Actor.system("tests")
REENRICH = Actor.system("reenrich")
# The language stages call this a road complaint; the stored enrichment will say housing.
POTHOLE = "Огромные ямы на дороге по улице Лаврова в Мичуринске, прошу отремонтировать дорогу"


@pytest.fixture(autouse=True)
def _fresh_pipelines() -> Iterator[None]:
    """The pipelines' per-process memory (near-duplicates) holds other tests' ids."""
    taxonomy_service._pipelines.clear()
    yield
    taxonomy_service._pipelines.clear()


def _bodies(session: Session) -> tuple[int, int]:
    """Two regional bodies of Tambov oblast (they cover every case of the region)."""
    rows, _ = OrganizationRepository(session).page(Scope.system(), region_code="68", limit=50)
    ids = [row.id for row in rows if row.kind != OrganizationKind.municipal_admin]
    assert len(ids) >= 2
    return ids[0], ids[1]


def _rule(session: Session, executor_id: int, topic: str) -> RoutingRule:
    return CaseRepository(session).add_rule(RoutingRule(
        region_code="68", executor_id=executor_id, position=10, topic=topic,
        note=f"{topic} rule"))


def _stale_case(session: Session, make_message: Callable[..., Message]) -> tuple[Message, Case]:
    """A case made by the machine from an enrichment an older rubricator gave (housing)."""
    municipality_id, _ = michurinsk(session)
    message = make_message(POTHOLE, topic="housing", subtopic=None,
                           municipality_id=municipality_id)
    enrichment = session.get(MessageEnrichment, message.id)
    assert enrichment is not None
    return message, service.case_from_message(session, SYSTEM, message, enrichment)


def _events(session: Session, case: Case, kind: str) -> list[CaseEvent]:
    return list(session.scalars(select(CaseEvent).where(
        CaseEvent.case_id == case.id, CaseEvent.kind == kind).order_by(CaseEvent.id)))


def _run(session: Session, message: Message) -> CaseFollowSummary:
    """Re-enrich the message, then run what its cases job does with what was announced
    (in the test's transaction, which rolls back)."""
    mark = pending_mark(session)
    reenrich_batch(session, REENRICH, [message.id])
    announced = [args[0] for job, args in session.info.get("otklik_pending_jobs", [])[mark:]
                 if job.actor_name == follow_reenrichment.actor_name]
    summary = CaseFollowSummary()  # nothing rewritten: nothing announced, nothing to follow
    for payload in announced:
        summary.add(reclassify.follow(session, REENRICH,
                                      MessagesReenriched.model_validate(payload)))
    session.flush()
    return summary


def test_a_rule_routed_case_follows_its_new_topic_to_the_new_executor(
        session: Session, make_message: Callable[..., Message]) -> None:
    housing_body, roads_body = _bodies(session)
    _rule(session, housing_body, "housing")
    roads_rule = _rule(session, roads_body, "roads")
    message, case = _stale_case(session, make_message)
    assert (case.status, case.executor_id) == (CaseStatus.routed, housing_body)
    due, clock = case.resolution_due, case.routing["clock_start"]

    summary = _run(session, message)

    assert case.topic == "roads"
    assert (case.status, case.executor_id) == (CaseStatus.routed, roads_body)
    assert summary.rerouted == [case.id] and summary.routed_cases_updated == 0
    assert summary.as_dict()["rerouted_count"] == 1
    reclassified = _events(session, case, "reclassified")[-1]
    assert reclassified.details["rerouted"] == {"from": housing_body, "to": roads_body,
                                                "rule_id": roads_rule.id}
    route = _events(session, case, "route")[-1]
    assert route.details["reason"] == REROUTE_REASON and route.actor == "reenrich"
    assert route.id > reclassified.id  # the history reads: re-enriched, then routed again
    # The card's suggestion follows; the deadlines stay as counted (as an operator's re-route).
    assert case.routing["rule_id"] == roads_rule.id and case.routing["clock_start"] == clock
    assert case.resolution_due == due

    again = _run(session, message)  # nothing changed any more: nothing is routed
    assert again.rerouted == [] and len(_events(session, case, "route")) == 2


def test_a_case_in_triage_is_routed_once_a_rule_matches(
        session: Session, make_message: Callable[..., Message]) -> None:
    _, roads_body = _bodies(session)
    _rule(session, roads_body, "roads")
    message, case = _stale_case(session, make_message)
    assert case.status == CaseStatus.triage and case.routed_at is None

    summary = _run(session, message)

    assert (case.status, case.executor_id) == (CaseStatus.routed, roads_body)
    assert case.routed_at is not None and case.resolution_due is not None  # first routing
    assert summary.rerouted == [case.id]
    assert _events(session, case, "reclassified")[-1].details["rerouted"]["from"] is None


def test_the_cases_job_of_a_batch_runs_once_however_often_it_is_delivered(
        session: Session, make_message: Callable[..., Message]) -> None:
    housing_body, roads_body = _bodies(session)
    _rule(session, housing_body, "housing")
    _rule(session, roads_body, "roads")
    message, case = _stale_case(session, make_message)
    mark = pending_mark(session)
    reenrich_batch(session, REENRICH, [message.id], run_id="once")
    [payload] = [args[0] for job, args in session.info["otklik_pending_jobs"][mark:]
                 if job.actor_name == follow_reenrichment.actor_name]
    assert payload["changes"][str(message.id)]["before"]["topic"] == "housing"
    event = MessagesReenriched.model_validate(payload)

    first = reclassify.follow_once(session, event)
    again = reclassify.follow_once(session, event)  # a redelivered job

    assert first is not None and first.rerouted == [case.id] and again is None
    assert case.executor_id == roads_body
    assert len(_events(session, case, "reclassified")) == 1
    assert len(_events(session, case, "route")) == 2  # the first routing, and this one


def test_what_a_person_decided_keeps_its_executor(
        session: Session, make_message: Callable[..., Message]) -> None:
    housing_body, roads_body = _bodies(session)
    _rule(session, roads_body, "roads")
    operator = actor_for(session, make_user(session, Role.operator, ["68"]))
    chosen_message, chosen = _stale_case(session, make_message)
    service.route(session, operator, chosen, housing_body)  # the operator's choice

    _rule(session, housing_body, "housing")
    accepted_message, accepted = _stale_case(session, make_message)
    worker = actor_for(session, make_user(session, Role.executor, ["68"],
                                          organization_id=housing_body))
    service.accept(session, worker, accepted)
    handed_message, handed = _stale_case(session, make_message)
    service.handback(session, worker, handed, "это не наша тема, дороги не наши")
    session.flush()

    summary = CaseFollowSummary()
    for message in (chosen_message, accepted_message, handed_message):
        summary.add(_run(session, message))

    assert {c.topic for c in (chosen, accepted, handed)} == {"roads"}  # topics still follow
    assert (chosen.status, chosen.executor_id) == (CaseStatus.routed, housing_body)
    assert (accepted.status, accepted.executor_id) == (CaseStatus.in_work, housing_body)
    assert (handed.status, handed.executor_id) == (CaseStatus.triage, None)
    assert summary.rerouted == []
    assert summary.reroute_kept_person == 2 and summary.reroute_kept_in_work == 1
    assert summary.routed_cases_updated == 2  # the two that have an executor
    assert _events(session, chosen, "reclassified")[-1].details["routing"] == "kept_person"
    assert _events(session, accepted, "reclassified")[-1].details["routing"] == "kept_in_work"
    assert len(_events(session, chosen, "route")) == 1


def test_without_a_rule_for_the_new_topic_the_case_is_listed_for_a_check(
        session: Session, make_message: Callable[..., Message]) -> None:
    housing_body, _ = _bodies(session)
    _rule(session, housing_body, "housing")
    message, case = _stale_case(session, make_message)

    summary = _run(session, message)

    assert (case.topic, case.executor_id) == ("roads", housing_body)
    assert summary.reroute_check == [case.id] and summary.routed_cases_updated == 1
    assert _events(session, case, "reclassified")[-1].details["routing"] == "no_rule"


# -- the whole path: the admin's form, the queue, the worker ------------------------------------


@pytest.fixture(scope="module", params=BACKENDS)
def own_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
            ) -> Iterator[str]:
    """A database of its own with the reference data: the app and the jobs commit."""
    with migrated_database(request.param, tmp_path_factory, "reroute", reference=True) as url:
        yield url


def test_the_admin_form_queues_a_run_that_routes_again(
        own_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    from fastapi.testclient import TestClient

    from otklik.app import create_app
    from otklik.config import Settings, get_settings
    from otklik.db.session import make_engine, reset_engine_cache
    from otklik.queue import broker, drain

    monkeypatch.setenv("OTKLIK_DATABASE_URL", own_url)
    get_settings.cache_clear()
    reset_engine_cache()
    broker.flush_all()
    engine = make_engine(own_url)
    try:
        with Session(engine, expire_on_commit=False) as session:
            housing_body, roads_body = _bodies(session)
            _rule(session, housing_body, "housing")
            _rule(session, roads_body, "roads")
            message, case = _stale_case(session, _maker(session))
            message.enrich_status = "done"
            admin = make_user(session, Role.admin, all_regions=True)
            session.commit()
            case_id = case.id
        assert case.executor_id == housing_body
        with TestClient(create_app(Settings(env="test"))) as client:  # type: ignore[arg-type]
            csrf = login(client, admin.username, PASSWORD)
            started = client.post("/admin/taxonomy/reenrich", data={
                "csrf": csrf, "days": "7", "region": "68"}, follow_redirects=False)
            assert started.status_code == 303
            drain()
            page = client.get("/admin/taxonomy").text
        with Session(engine) as session:
            routed = session.get(Case, case_id)
            assert routed is not None
            assert (routed.topic, routed.executor_id) == ("roads", roads_body)
            kinds = [e.kind for e in session.scalars(select(CaseEvent).where(
                CaseEvent.case_id == case_id).order_by(CaseEvent.id))]
            assert kinds[-2:] == ["reclassified", "route"]
        assert "направлено заново: 1" in page and "1/1 пачек" in page
    finally:
        drain()
        broker.flush_all()
        engine.dispose()
        get_settings.cache_clear()
        reset_engine_cache()


def _maker(session: Session) -> Callable[..., Message]:
    """A message with its stored enrichment, like tests/cases/conftest.py's fixture."""
    from datetime import UTC, datetime, timedelta

    from otklik.channels.schemas import IncomingMessage, Source
    from otklik.intake.service import store_messages

    def build(text: str, *, topic: str, subtopic: str | None,
              municipality_id: int | None) -> Message:
        store_messages(session, [IncomingMessage(
            source=Source.vk, source_id="wall-990_reroute", text=text, author_id="id100",
            created_at=datetime.now(UTC) - timedelta(hours=1), region="68")], enqueue=False)
        message = session.scalars(select(Message).where(
            Message.source_id == "wall-990_reroute")).one()
        session.add(MessageEnrichment(
            message_id=message.id, relevant=True, kind="complaint", topic=topic,
            subtopic=subtopic, topic_confidence=0.9, sentiment="negative", urgency="normal",
            region_code="68", municipality_id=municipality_id, street="ул. Лаврова",
            result={}))
        session.flush()
        return message

    return build
