"""Incident pages and API (SQLite and PostgreSQL): scope (another region's user gets 404),
the public page without login and without personal data, resident text escaped, the API
shapes, `otklik stats` counts."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.conftest import login

from otklik.accounts.service import actor_for
from otklik.audit.actor import Actor
from otklik.channels.schemas import IncomingMessage, Source
from otklik.incidents import informing, service
from otklik.incidents.thresholds import detector_settings, set_thresholds
from otklik.intake.service import store_messages
from otklik.models.account import Role
from otklik.models.incident import Incident, IncidentStatus
from otklik.models.message import Message, MessageEnrichment
from otklik.territories.repository import TerritoryRepository

HOSTILE = "<script>alert('x')</script> нет воды, звоните Иванову +7 999 123-45-67"
_n = itertools.count(1)


@pytest.fixture
def incident(session: Session) -> dict[str, Any]:
    """A Tambov incident with one hostile resident message and a public update."""
    michurinsk = TerritoryRepository(session).by_key("68715")
    assert michurinsk is not None
    source_id = f"pages-{next(_n)}"
    store_messages(session, [IncomingMessage(
        source=Source.vk, source_id=source_id, text=HOSTILE,
        created_at=datetime.now(UTC) - timedelta(hours=1), author_id="id31337",
        author_name="Пётр Секретов", region="68")], enqueue=False)
    message = session.query(Message).filter_by(source_id=source_id).one()
    session.add(MessageEnrichment(message_id=message.id, relevant=True, topic="utilities",
                                  region_code="68", municipality_id=michurinsk.id, result={}))
    operator = make_user(session, Role.operator, ["68"])
    actor = actor_for(session, operator)
    row = Incident(title="Нет воды — Мичуринск", kind="hazard", hazard="no_water",
                   topic="utilities", region_code="68", municipality_id=michurinsk.id,
                   territory_ids=[michurinsk.id], severity="high",
                   status=IncidentStatus.open, opened_by="детектор: hazard",
                   hq_person="Иван Штабной", people_affected=900,
                   started_at=datetime.now(UTC) - timedelta(hours=1))
    session.add(row)
    session.flush()
    service.link(session, row, [message.id])
    service.add_entry(session, row, "signal", "детектор", "3 разных автора")
    informing.publish_update(session, actor, row, "Подвоз воды: ул. Ленина, 10:00-12:00")
    session.flush()
    return {"incident": row, "operator": operator, "message": message}


def test_the_room_shows_the_incident_and_escapes_resident_text(client: Any, session: Session,
                                                               incident: dict[str, Any]) -> None:
    login(client, incident["operator"].username, PASSWORD)
    incident_id = incident["incident"].id
    page = client.get(f"/incidents/{incident_id}")
    assert page.status_code == 200
    assert "&lt;script&gt;" in page.text and "<script>alert" not in page.text
    assert "Иван Штабной" in page.text and "Подвоз воды" in page.text
    fragment = client.get(f"/incidents/{incident_id}/messages")
    assert fragment.status_code == 200 and "&lt;script&gt;" in fragment.text
    listing = client.get("/incidents")
    assert listing.status_code == 200 and f'data-incident-id="{incident_id}"' in listing.text
    api = client.get(f"/api/v1/incidents/{incident_id}").json()
    assert api["messages"] == 1 and api["status"] == "open" and api["people_affected"] == 900
    page = client.get(f"/api/v1/incidents/{incident_id}/timeline").json()
    timeline = page["items"]
    assert [e["kind"] for e in timeline] == ["signal", "public_update"] and page["total"] == 2
    second = client.get(f"/api/v1/incidents/{incident_id}/timeline?limit=1&offset=1").json()
    assert [e["kind"] for e in second["items"]] == ["public_update"] and second["total"] == 2
    assert timeline[1]["author"] == incident["operator"].username
    updates = client.get(f"/api/v1/incidents/{incident_id}/updates").json()["items"]
    assert updates[0]["text"].startswith("Подвоз воды")
    items = client.get("/api/v1/incidents").json()["items"]
    assert incident_id in [i["id"] for i in items]


def test_another_regions_user_gets_404(client: Any, session: Session,
                                       incident: dict[str, Any]) -> None:
    other = make_user(session, Role.operator, ["85"])
    login(client, other.username, PASSWORD)
    incident_id = incident["incident"].id
    assert client.get(f"/incidents/{incident_id}").status_code == 404
    assert client.get(f"/api/v1/incidents/{incident_id}").status_code == 404
    assert client.get(f"/api/v1/incidents/{incident_id}/timeline").status_code == 404
    items = client.get("/api/v1/incidents").json()["items"]
    assert incident_id not in [i["id"] for i in items]


def test_the_public_page_has_no_personal_data(client: Any, incident: dict[str, Any]) -> None:
    page = client.get(f"/public/incidents/{incident['incident'].id}")
    assert page.status_code == 200
    assert "Подвоз воды: ул. Ленина, 10:00-12:00" in page.text and "Мичуринск" in page.text
    for private in ("Секретов", "id31337", "999 123", "Иванову", "alert(", "Штабной",
                    incident["operator"].username):
        assert private not in page.text
    assert client.get("/public/incidents/999999").status_code == 404


def test_an_incident_without_an_update_is_not_public(client: Any, session: Session,
                                                     incident: dict[str, Any]) -> None:
    row = Incident(title="Тихое", kind="manual", region_code="68", severity="normal",
                   status=IncidentStatus.open, opened_by="tests", started_at=datetime.now(UTC))
    session.add(row)
    session.flush()
    assert client.get(f"/public/incidents/{row.id}").status_code == 404


def test_an_admin_edits_the_thresholds(session: Session) -> None:
    admin = actor_for(session, make_user(session, Role.admin, ["85"]))
    set_thresholds(session, admin, "85", "utilities", {"hazard_min_authors": "4"})
    set_thresholds(session, admin, "85", "", {"window": 120})
    settings = detector_settings(session)
    assert settings.for_place("85", "utilities").hazard_min_authors == 4
    assert settings.for_place("85", "roads").window == timedelta(minutes=120)
    assert settings.for_place("68", "utilities").hazard_min_authors == 3
    from otklik.errors import InvalidInput

    with pytest.raises(InvalidInput):
        set_thresholds(session, admin, "85", "", {"no_such": 1})
    with pytest.raises(InvalidInput):
        set_thresholds(session, admin, "68", "", {"window": 60})  # not their region
    operator = actor_for(session, make_user(session, Role.operator, ["85"]))
    from otklik.errors import Forbidden

    with pytest.raises(Forbidden):
        set_thresholds(session, operator, "85", "", {"window": 60})


def test_stats_count_incidents(session: Session, incident: dict[str, Any]) -> None:
    from otklik.incidents.stats import incident_counts

    counts = incident_counts(session)
    assert counts["incidents"] >= 1 and counts["incidents_by_status"]["open"] >= 1
    assert sum(counts["incidents_by_status"].values()) == counts["incidents"]
    assert Actor.system().scope.can("write")


def test_an_incident_is_opened_by_hand_from_a_case_card_and_a_problem_page(
        client: Any, session: Session, incident: dict[str, Any]) -> None:
    """The case card and the problem page carry the button; the form opens an incident
    that links the case (or the problem's cases) and their messages; another region's case
    is a 404 and a bad severity an error shown on the card."""
    from otklik.db.base import utcnow
    from otklik.incidents.repository import IncidentRepository
    from otklik.models.case import Case, CaseMessage, CaseStatus, Problem

    michurinsk = TerritoryRepository(session).by_key("68715")
    assert michurinsk is not None
    problem = Problem(region_code="68", title="Нет воды на ул. Гоголя", topic="utilities",
                      first_seen=utcnow(), last_seen=utcnow(), size=2)
    session.add(problem)
    session.flush()
    message = incident["message"]
    cases = []
    for n in range(2):
        case = Case(region_code="68", status=CaseStatus.routed, title=f"Нет воды, дом {n}",
                    topic="utilities", municipality_id=michurinsk.id, problem_id=problem.id,
                    received_at=utcnow() - timedelta(hours=n + 1))
        session.add(case)
        session.flush()
        cases.append(case)
    session.add(CaseMessage(case_id=cases[0].id, message_id=message.id))
    session.flush()
    csrf = login(client, incident["operator"].username, PASSWORD)

    card = client.get(f"/cases/{cases[0].id}")
    assert card.status_code == 200 and f'action="/cases/{cases[0].id}/incident"' in card.text
    page = client.get(f"/problems/{problem.id}")
    assert page.status_code == 200 and f'action="/problems/{problem.id}/incident"' in page.text

    opened = client.post(f"/cases/{cases[0].id}/incident", data={
        "csrf": csrf, "title": "Авария водопровода, Мичуринск", "severity": "critical"},
        follow_redirects=False)
    assert opened.status_code == 303
    from_case = int(opened.headers["location"].rsplit("/", 1)[1])
    row = session.get(Incident, from_case)
    assert row is not None and (row.kind, row.severity, row.title) == (
        "manual", "critical", "Авария водопровода, Мичуринск")
    repo = IncidentRepository(session)
    assert repo.linked_case_ids(from_case) == {cases[0].id}
    assert repo.linked_message_ids(from_case) == {message.id}
    assert f"case:{cases[0].id}" in row.opened_by
    assert [e.kind for e in repo.timeline(from_case)] == ["opened"]
    assert client.get(f"/incidents/{from_case}").status_code == 200

    opened = client.post(f"/problems/{problem.id}/incident", data={"csrf": csrf},
                         follow_redirects=False)
    from_problem = int(opened.headers["location"].rsplit("/", 1)[1])
    assert repo.linked_case_ids(from_problem) == {c.id for c in cases}
    assert session.get(Incident, from_problem).problem_id == problem.id  # type: ignore[union-attr]

    bad = client.post(f"/cases/{cases[1].id}/incident", data={"csrf": csrf,
                                                              "severity": "apocalyptic"},
                      follow_redirects=False)
    assert bad.status_code == 303 and bad.headers["location"] == f"/cases/{cases[1].id}"
    assert "severity" in client.get(f"/cases/{cases[1].id}").text
    assert client.post(f"/cases/{cases[1].id}/incident", data={"csrf": "wrong"}
                       ).status_code == 403
    kalmyk = Case(region_code="85", status=CaseStatus.routed, title="Чужое",
                  received_at=utcnow())
    session.add(kalmyk)
    session.flush()
    assert client.post(f"/cases/{kalmyk.id}/incident", data={"csrf": csrf},
                       follow_redirects=False).status_code == 404


def test_the_thresholds_page_and_api_edit_validate_and_audit(client: Any,
                                                             session: Session) -> None:
    """An administrator of Kalmykia sees the defaults, stores a region × topic override from
    the page (Russian, English switch), gets a clear error for a bad value, changes it by the
    API, and every change is audited; an operator is refused, another region is not theirs,
    every region's defaults are a federal administrator's."""
    from sqlalchemy import select

    from otklik.models.audit import AuditEntry

    admin = make_user(session, Role.admin, ["85"])
    csrf = login(client, admin.username, PASSWORD)
    page = client.get("/admin/incidents/thresholds")
    assert page.status_code == 200 and "Пороги детектора ЧС" in page.text
    assert 'name="hazard_min_authors"' in page.text and 'placeholder="3"' in page.text
    client.cookies.set("lang", "en")
    english = client.get("/admin/incidents/thresholds")
    assert english.status_code == 200 and "Incident detector thresholds" in english.text
    client.cookies.set("lang", "ru")
    saved = client.post("/admin/incidents/thresholds", data={
        "csrf": csrf, "region_code": "85", "topic": "utilities", "hazard_min_authors": "4",
        "window": "120"}, follow_redirects=False)
    assert saved.status_code == 303
    settings = detector_settings(session)
    assert settings.for_place("85", "utilities").hazard_min_authors == 4
    assert settings.for_place("85", "utilities").window == timedelta(minutes=120)
    assert settings.for_place("85", "roads").hazard_min_authors == 3
    listed = client.get("/admin/incidents/thresholds").text
    assert 'data-region="85" data-topic="utilities"' in listed
    bad = client.post("/admin/incidents/thresholds", data={
        "csrf": csrf, "region_code": "85", "topic": "", "spike_min_authors": "много"})
    assert bad.status_code == 400 and "a number is needed" in bad.text
    everyone = client.post("/admin/incidents/thresholds", data={
        "csrf": csrf, "region_code": "", "window": "60"})
    assert everyone.status_code == 400 and "federal administrator" in everyone.text
    assert client.post("/admin/incidents/thresholds", data={
        "csrf": csrf, "region_code": "68", "window": "60"}).status_code == 400

    api = client.get("/api/v1/incidents/thresholds").json()
    assert api["defaults"]["hazard_min_authors"] == 3
    assert [(o["region_code"], o["topic"]) for o in api["items"]] == [("85", "utilities")]
    assert api["total"] == 1 and api["limit"] == 50
    assert client.get("/api/v1/incidents/thresholds?region_code=68").json()["items"] == []
    assert client.get("/api/v1/incidents/thresholds?region_code=85&topic=utilities"
                      ).json()["total"] == 1
    put = client.put("/api/v1/incidents/thresholds", headers={"X-CSRF-Token": csrf}, json={
        "region_code": "85", "topic": "utilities", "values": {"hazard_min_authors": 5}})
    assert put.status_code == 200, put.text
    assert put.json()["values"] == {"hazard_min_authors": 5.0}
    assert detector_settings(session).for_place("85", "utilities").window == timedelta(
        minutes=180)  # the whole set is replaced
    assert client.put("/api/v1/incidents/thresholds", headers={"X-CSRF-Token": csrf}, json={
        "region_code": "85", "topic": "nonsense", "values": {"window": 60}}).status_code == 400
    removed = client.put("/api/v1/incidents/thresholds", headers={"X-CSRF-Token": csrf},
                         json={"region_code": "85", "topic": "utilities", "values": {}})
    assert removed.status_code == 200 and removed.json() is None
    audit = session.scalars(select(AuditEntry).where(
        AuditEntry.action == "incident.thresholds").order_by(AuditEntry.id)).all()
    assert [a.details["values"] for a in audit][-3:] == [
        {"hazard_min_authors": 4.0, "window": 120.0}, {"hazard_min_authors": 5.0}, {}]
    assert audit[-2].details["before"] == {"hazard_min_authors": 4.0, "window": 120.0}

    operator = make_user(session, Role.operator, ["85"])
    client.cookies.clear()
    login(client, operator.username, PASSWORD)
    assert client.get("/admin/incidents/thresholds").status_code == 403
    assert client.get("/api/v1/incidents/thresholds").status_code == 403


def test_the_bulk_answer_by_the_api_takes_four_eyes(client: Any, session: Session,
                                                    incident: dict[str, Any]) -> None:
    """`POST /api/v1/incidents/{id}/answer` proposes one answer for the linked cases, the
    same person cannot approve it, another operator does (`/answer/approve`): the linked
    case is answered through the cases' path, the incident shows the proposal until then,
    the timeline both steps. A reader cannot propose; an empty text is a 422."""
    from sqlalchemy import select
    from tests.builders import an_organization

    from otklik.cases.builder import build_cases
    from otklik.models.case import Answer, Case, CaseMessage, CaseStatus

    row = incident["incident"]
    build_cases(session, Actor.system("tests"), [incident["message"].id])
    case = session.scalars(select(Case).join(CaseMessage, CaseMessage.case_id == Case.id)
                           .where(CaseMessage.message_id == incident["message"].id)).one()
    case.executor_id, case.status = an_organization(session).id, CaseStatus.routed
    session.flush()
    text = "Авария на водоводе устраняется, подвоз воды по графику: ул. Ленина, 10:00-12:00."
    url = f"/api/v1/incidents/{row.id}/answer"

    reader = make_user(session, Role.analyst, ["68"])
    csrf = login(client, reader.username, PASSWORD)
    assert client.post(url, headers={"X-CSRF-Token": csrf},
                       json={"text": text}).status_code == 403
    client.cookies.clear()
    csrf = login(client, incident["operator"].username, PASSWORD)
    assert client.post(url, headers={"X-CSRF-Token": csrf}, json={"text": ""}).status_code == 422
    assert client.post(url, headers={"X-CSRF-Token": csrf},
                       json={"text": "коротко"}).status_code == 400
    proposed = client.post(url, headers={"X-CSRF-Token": csrf}, json={"text": text})
    assert proposed.status_code == 200, proposed.text
    assert proposed.json()["text"] == text
    assert proposed.json()["by"] == incident["operator"].username
    shown = client.get(f"/api/v1/incidents/{row.id}").json()
    assert shown["pending_answer"]["text"] == text and shown["cases"] == 1
    own = client.post(f"{url}/approve", headers={"X-CSRF-Token": csrf})
    assert own.status_code == 403 and "another person" in own.text

    client.cookies.clear()
    other = make_user(session, Role.operator, ["68"])
    csrf = login(client, other.username, PASSWORD)
    approved = client.post(f"{url}/approve", headers={"X-CSRF-Token": csrf})
    assert approved.status_code == 200, approved.text
    assert approved.json() == {"answered": 1, "already": 0, "not_routed": 0, "failed": 0}
    session.refresh(case)
    assert case.status == CaseStatus.answered
    assert text in session.scalars(select(Answer.text).where(Answer.case_id == case.id)).all()
    assert client.get(f"/api/v1/incidents/{row.id}").json()["pending_answer"] is None
    timeline = client.get(f"/api/v1/incidents/{row.id}/timeline").json()["items"]
    assert [e["kind"] for e in timeline][-2:] == ["answer_proposed", "bulk_answer"]
    assert timeline[-1]["author"] == other.username
    assert timeline[-1]["text"] == "Ответ одобрен и отправлен: 1 обращений"
    again = client.post(f"{url}/approve", headers={"X-CSRF-Token": csrf})
    assert again.status_code == 400  # nothing proposed any more
