"""The Kalmykia scenario end to end on the incidents' side (SQLite and PostgreSQL): messages
arrive through intake, the detector opens the incident, IncidentOpened is announced, an
acknowledgement from the alert lands on the timeline, an update goes to a channel and the
public page, the linked cases get one answer through moderation, the incident closes, and
the timeline shows every step in order with its author."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otklik import events
from otklik.db.session import session_scope
from otklik.errors import Forbidden
from otklik.events import AlertAcknowledged
from otklik.incidents import informing, service
from otklik.incidents.repository import IncidentRepository
from otklik.models.case import Case, CaseMessage, CaseStatus, Publication
from otklik.models.incident import Incident, IncidentChannel, IncidentStatus
from otklik.queue import drain

from .conftest import GROUP, World, opened, receive

OUTAGE = [
    "В Лагани третий день нет воды, на улице мороз, что делать?",
    "Лагань без воды с самого утра, ул. Ленина, когда дадут воду?",
    "нет воды в Лагани!! дети без воды, помогите",
    "Лагань, 7 микрорайон: воды нет со вчерашнего вечера",
    "В городе Лагань нет воды уже сутки, администрация молчит",
    "Когда в Лагани дадут воду? Нет воды второй день",
]
UPDATE = "Подвоз воды: ул. Ленина, 10:00-12:00; ул. Школьная, 13:00-15:00"
ANSWER = ("Авария на водозаборе устраняется, введён режим повышенной готовности. Подвоз воды "
          "по графику: ул. Ленина, 10:00-12:00; ул. Школьная, 13:00-15:00.")


def _start() -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(hours=6)


def test_the_kalmykia_outage_runs_end_to_end(world: World) -> None:
    t0 = _start()
    first = receive(world, [(OUTAGE[i], f"id{9100 + i}", t0 + timedelta(minutes=12 * i))
                            for i in range(3)])
    with Session(world.engine) as session:
        incidents = session.scalars(select(Incident)).all()
        assert len(incidents) == 1
        incident = incidents[0]
        assert incident.status == IncidentStatus.open and incident.kind == "hazard"
        assert incident.hazard == "no_water" and "Лагань" in incident.title
        assert incident.severity in ("high", "critical") and incident.people_affected
        linked = IncidentRepository(session).linked_message_ids(incident.id)
        assert linked == set(first)
        incident_id = incident.id
    # The notifier heard it once, with what an alert needs.
    assert [e["incident_id"] for e in opened] == [incident_id]
    assert opened[0]["url_path"] == f"/incidents/{incident_id}"
    assert opened[0]["region_id"] is not None and opened[0]["territory_ids"]

    # More residents write; they join the open incident (no second one); their cases join.
    later = receive(world, [(OUTAGE[i], f"id{9100 + i}", t0 + timedelta(minutes=12 * i))
                            for i in range(3, 6)])
    with Session(world.engine) as session:
        assert session.scalar(select(func.count()).select_from(Incident)) == 1
        repo = IncidentRepository(session)
        assert repo.linked_message_ids(incident_id) == set(first) | set(later)
        cases = set(session.scalars(select(CaseMessage.case_id).where(
            CaseMessage.message_id.in_(first + later))))
        assert cases and repo.linked_case_ids(incident_id) == cases
        assert all(c.status == CaseStatus.routed for c in session.scalars(
            select(Case).where(Case.id.in_(cases))))
    assert len(opened) == 1

    # The person on duty acknowledges from the Telegram alert (twice: one entry).
    ack = AlertAcknowledged(subject="incident", subject_id=incident_id, alert_id=77,
                            user_id=None, by="Дежурный Бадмаев", channel="telegram")
    for _ in range(2):
        with session_scope() as session:
            events.announce(session, ack)
        drain()

    ops, ops2 = world.people["operator"], world.people["operator2"]
    with session_scope() as session:
        incident = service.get_incident(session, ops, incident_id)
        assert incident.status == IncidentStatus.acknowledged
        service.edit(session, ops, incident, {"hq_person": "Глава Правительства РК",
                                              "people_affected": 12_000})
        service.move(session, ops, incident, "in_work")
        service.add_measure(session, ops, incident, "Введён режим повышенной готовности")
        session.add(IncidentChannel(region_code="85", connector_id=world.connector_id,
                                    target_source_id=f"wall-{GROUP}_1"))
        session.flush()
        informing.publish_update(session, ops, incident, UPDATE)
        informing.propose_answer(session, ops, incident, ANSWER)
    drain()
    # The update went to the channel, under the pinned post.
    calls = world.stub.calls("/method/wall.createComment")
    assert any(c.form.get("message") == UPDATE and c.form.get("post_id") == "1" for c in calls)

    with session_scope() as session:
        incident = service.get_incident(session, ops, incident_id)
        with pytest.raises(Forbidden):  # four eyes: not one's own answer
            informing.approve_answer(session, ops, incident)
    with session_scope() as session:
        incident = service.get_incident(session, ops2, incident_id)
        counts = informing.approve_answer(session, ops2, incident)
        assert counts["answered"] == len(cases) and counts["failed"] == 0
    drain()
    with Session(world.engine) as session:
        assert all(c.status == CaseStatus.answered for c in session.scalars(
            select(Case).where(Case.id.in_(cases))))
        published = session.scalars(select(Publication.message_id).where(
            Publication.status == "published")).all()
        assert set(first + later) <= set(published)
    answers_sent = [c for c in world.stub.calls("/method/wall.createComment")
                    if c.form.get("message") == ANSWER]
    assert len(answers_sent) == len(first + later)

    with session_scope() as session:
        incident = service.get_incident(session, ops, incident_id)
        service.move(session, ops, incident, "resolved")
        service.close(session, ops, incident, "Водоснабжение восстановлено через 3 дня; "
                                               "подвоз воды работал по графику.")
    with Session(world.engine) as session:
        timeline = IncidentRepository(session).timeline(incident_id)
        kinds = [e.kind for e in timeline]
        assert kinds == ["signal", "acknowledged", "edited", "in_work", "measure",
                         "public_update", "answer_proposed", "bulk_answer", "resolved",
                         "closed"]
        by = {e.kind: e.author for e in timeline}
        assert by["signal"] == "детектор" and by["acknowledged"] == "Дежурный Бадмаев"
        assert by["bulk_answer"] == ops2.label and by["public_update"] == ops.label
        assert "telegram" in timeline[1].text
        assert [e.at for e in timeline] == sorted(e.at for e in timeline)
        closed = session.get(Incident, incident_id)
        assert closed is not None and closed.status == IncidentStatus.closed
        assert closed.summary and closed.closed_at is not None
