"""The re-enrichment section of the admin pages: the notice after an activation, the form that
queues a run (admins only, with the form's token, audited), the runs' progress, and the case
history's labels for what re-enrichment did (SQLite and PostgreSQL)."""
# ruff: noqa: F811  (fixtures imported from tests/cases/conftest.py are parameters here)

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.cases.conftest import make_case, make_message, michurinsk  # noqa: F401
from tests.conftest import login

from otklik import queue
from otklik.audit.actor import Actor
from otklik.cases import service
from otklik.cases.repository import CaseRepository
from otklik.intake.tasks import reenrich_messages
from otklik.language import taxonomy_service
from otklik.models.account import Role
from otklik.models.audit import AuditEntry
from otklik.models.case import Case, ModelVersion
from otklik.models.message import Message
from otklik.nlp.taxonomy import editing

SYSTEM = Actor.system("tests")
NOTICE = "Сохранённые сообщения размечены прежней версией"


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found is not None
    return found[1]


def _queued(session: Session) -> list[tuple[Any, tuple[Any, ...]]]:
    """The jobs waiting for this (never committed) session's commit."""
    return [(actor, args) for actor, args in session.info.get(queue._PENDING_KEY, [])
            if actor is reenrich_messages]


def _runs(session: Session) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(
        AuditEntry.action == "message.reenrich.queued").order_by(AuditEntry.id)))


def _primary(session: Session, case: Case) -> Message:
    return CaseRepository(session).messages(case.id)[0]


def test_activation_shows_the_notice_and_the_form_queues_a_run(
        session: Session, client: Any, make_message: Callable[..., Message],
        make_case: Callable[..., Case]) -> None:
    municipality_id, _ = michurinsk(session)
    in_case = _primary(session, make_case())
    fresh = make_message("Во дворе на ул. Гоголя не вывозят мусор", topic="waste",
                         subtopic=None, municipality_id=municipality_id)
    for message in (in_case, fresh):
        message.enrich_status = "done"  # as if the language stages had run
    admin = make_user(session, Role.admin, ["68"])
    login(client, admin.username, PASSWORD)
    document = taxonomy_service.current_document(session)
    document = editing.rename(document, "roads", "Дороги и мосты", "Roads and bridges")
    taxonomy_service.save_version(session, SYSTEM, document, "test", activate=False)
    before = len(_runs(session))

    page = client.get("/admin/taxonomy")
    csrf = _csrf(page.text)
    activated = client.post("/admin/taxonomy/activate", data={"csrf": csrf, "number": "1"},
                            follow_redirects=True)
    assert activated.status_code == 200
    assert 'data-testid="reenrich-notice"' in activated.text and NOTICE in activated.text
    assert "Включён рубрикатор r1" in activated.text
    assert 'data-testid="reenrich-form"' in activated.text

    started = client.post("/admin/taxonomy/reenrich", data={
        "csrf": csrf, "days": "7", "region": "68", "open_cases": "1",
        "back": "/admin/taxonomy"}, follow_redirects=False)
    assert started.status_code == 303
    assert started.headers["location"] == "/admin/taxonomy#reenrich"
    runs = _runs(session)
    assert len(runs) == before + 1
    run = runs[-1]
    assert run.actor_id == admin.id and run.region_code == "68"
    assert run.details["filter"]["region_code"] == "68"
    assert run.details["filter"]["open_cases"] is True
    assert run.details["filter"]["outdated"] is True and "since" in run.details["filter"]
    assert run.details["taxonomy_version"] == "r1"
    jobs = _queued(session)
    assert jobs and all(args[1] == run.object_id for _, args in jobs)
    assert run.details["selected"] == sum(len(args[0]) for _, args in jobs)

    page = client.get("/admin/taxonomy")
    assert NOTICE not in page.text  # a run started after the activation
    assert "Переразметка поставлена в очередь" in page.text
    assert f'data-run="{run.object_id}"' in page.text and 'data-testid="reenrich-runs"' in page.text
    queued = {i for _, args in jobs for i in args[0]}
    assert in_case.id in queued and fresh.id not in queued  # only messages of open cases


def test_the_models_page_offers_the_same_form(session: Session, client: Any) -> None:
    admin = make_user(session, Role.admin, ["68"])
    login(client, admin.username, PASSWORD)
    page = client.get("/admin/models")
    assert page.status_code == 200 and 'data-testid="reenrich-form"' in page.text
    started = client.post("/admin/taxonomy/reenrich", data={
        "csrf": _csrf(page.text), "days": "all", "back": "/admin/models"},
        follow_redirects=False)
    assert started.headers["location"] == "/admin/models#reenrich"
    assert _runs(session)[-1].details["filter"] == {"region_code": "68", "outdated": True}
    elsewhere = client.post("/admin/taxonomy/reenrich", data={
        "csrf": _csrf(page.text), "days": "30", "back": "https://evil.example/"},
        follow_redirects=False)
    assert elsewhere.headers["location"] == "/admin/taxonomy#reenrich"


def test_only_a_topic_model_activation_asks_for_a_run(session: Session, client: Any) -> None:
    admin = make_user(session, Role.admin, ["68"])
    login(client, admin.username, PASSWORD)
    csrf = _csrf(client.get("/admin/models").text)
    client.post("/admin/taxonomy/reenrich", data={"csrf": csrf, "days": "7",
                                                  "back": "/admin/models"})
    for field in ("executor", "topic"):
        session.add(ModelVersion(label_field=field, version=f"{field}-test",
                                 path="/nonexistent", metrics={}))
    session.flush()
    client.post("/admin/models/activate", data={"csrf": csrf, "version": "executor-test"})
    assert NOTICE not in client.get("/admin/models").text  # routing hints: messages unchanged
    client.post("/admin/models/activate", data={"csrf": csrf, "version": "topic-test"})
    page = client.get("/admin/models").text
    assert NOTICE in page and "Включена модель тем topic-test" in page


def test_only_admins_with_the_forms_token_and_within_their_regions(
        session: Session, client: Any) -> None:
    before = len(_runs(session))
    operator = make_user(session, Role.operator, ["68"])
    csrf = login(client, operator.username, PASSWORD)
    assert 'data-testid="reenrich-form"' not in client.get("/admin/taxonomy").text
    refused = client.post("/admin/taxonomy/reenrich", data={"csrf": csrf, "days": "7"})
    assert refused.status_code == 403

    admin = make_user(session, Role.admin, ["68"])
    csrf = login(client, admin.username, PASSWORD)
    forged = client.post("/admin/taxonomy/reenrich", data={"csrf": "forged", "days": "7"})
    assert forged.status_code == 403
    other = client.post("/admin/taxonomy/reenrich", data={"csrf": csrf, "days": "7",
                                                          "region": "36"},
                        follow_redirects=True)
    assert "вне вашей зоны ответственности" in other.text
    odd = client.post("/admin/taxonomy/reenrich", data={"csrf": csrf, "days": "5"},
                      follow_redirects=True)
    assert "период переразметки" in odd.text
    assert len(_runs(session)) == before and not _queued(session)


def test_case_history_names_reenrichment_in_both_languages(
        session: Session, client: Any, make_case: Callable[..., Case]) -> None:
    case = make_case()
    message = _primary(session, case)
    reenrich = Actor.system("reenrich")
    service.record_event(session, reenrich, case, "reclassified", None,
                         changes={"topic": ["housing", "roads"]}, message_id=message.id)
    service.record_event(session, reenrich, case, "route", None, reason="reclassified")
    session.flush()
    curator = make_user(session, Role.curator, ["68"])
    login(client, curator.username, PASSWORD)
    card = client.get(f"/cases/{case.id}").text
    assert "Переразмечено (новый рубрикатор или модель)" in card
    assert "Направлено заново по новой разметке" in card
    assert "Создано" in card and "<strong>created</strong>" not in card
    client.cookies.set("lang", "en")
    english = client.get(f"/cases/{case.id}").text
    assert "Re-enriched (new rubricator or model)" in english
    assert "Routed again after re-enrichment" in english

