"""Intake over HTTP: integration batches, platform pushes, the public form, connectors."""

import json
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.conftest import login

from otklik.accounts.schemas import TokenCreate
from otklik.accounts.service import actor_for, create_token
from otklik.audit.actor import Actor
from otklik.channels import service as connectors_service
from otklik.db.session import session_scope
from otklik.intake import web_form
from otklik.models.account import Role
from otklik.models.message import IntakeEvent, Message

from .stubs.http_stub import load_fixture


def _token(session: Session, role: Role = Role.operator, scopes: list[str] | None = None) -> str:
    actor = actor_for(session, make_user(session, role, ["68"]))
    return create_token(session, actor, TokenCreate(name="crm", scopes=scopes or ["intake"]))[1]


def test_batch_stores_good_items_and_rejects_bad_ones(session: Session, client) -> None:  # type: ignore[no-untyped-def]
    headers = {"authorization": f"Bearer {_token(session)}"}
    items = [
        {"source_id": "crm-1", "text": "Не работает лифт в доме 7", "created_at":
         "2026-11-25T10:00:00+03:00", "region": "68"},
        {"source_id": "crm-2", "text": "Нет отопления", "created_at": "вчера"},
        {"text": "без идентификатора", "created_at": "2026-11-25T10:00:00+03:00"},
        {"source_id": "crm-3", "text": "Самара", "created_at": "2026-11-25T10:00:00+03:00",
         "region": "36"},
    ]
    response = client.post("/api/v1/messages/batch", json=items, headers=headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["stored"] == 1
    assert [r["index"] for r in body["rejected"]] == [1, 2, 3]
    assert "created_at" in body["rejected"][0]["reason"]
    again = client.post("/api/v1/messages/batch", json=items[:1], headers=headers).json()
    assert again["stored"] == 0 and again["duplicates"] == 1
    listed = client.get("/api/v1/messages", headers=headers)
    assert listed.status_code == 403  # an intake-only token cannot read


def test_batch_needs_the_intake_permission(session: Session, client) -> None:  # type: ignore[no-untyped-def]
    headers = {"authorization": f"Bearer {_token(session, Role.analyst, ['read'])}"}
    response = client.post("/api/v1/messages/batch", json=[], headers=headers)
    assert response.status_code == 403


def test_messages_are_scoped(session: Session, client) -> None:  # type: ignore[no-untyped-def]
    from datetime import UTC, datetime

    from otklik.channels.schemas import IncomingMessage, Source
    from otklik.intake.service import store_messages

    when = datetime(2026, 11, 1, tzinfo=UTC)
    store_messages(session, [
        IncomingMessage(source=Source.vk, source_id="scope-68", text="Тамбов", created_at=when,
                        region="68"),
        IncomingMessage(source=Source.vk, source_id="scope-36", text="Самара", created_at=when,
                        region="36"),
    ], enqueue=False)
    user = make_user(session, Role.operator, ["36"])
    login(client, user.username, PASSWORD)
    items = client.get("/api/v1/messages", params={"limit": 500}).json()["items"]
    assert {m["region_code"] for m in items} == {"36"}
    hidden = session.scalars(select(Message).where(Message.source_id == "scope-68")).one()
    assert client.get(f"/api/v1/messages/{hidden.id}").status_code == 404


@pytest.fixture
def vk_connector(settings_env) -> Iterator[int]:  # type: ignore[no-untyped-def]
    with session_scope() as session:
        row = connectors_service.add_connector(
            session, Actor.system(), kind="vk", name=f"vk-push-{uuid.uuid4().hex[:8]}",
            region_code="68",
            config={"access_token": "vk1.a.token", "confirmation_code": "a1b2c3d4",
                    "callback_secret": "s3cr3t-cb", "group_id": 170000001})
        connector_id = row.id
    yield connector_id


def test_vk_callback_confirms_stores_and_refuses_a_forged_call(vk_connector: int, client
                                                               ) -> None:  # type: ignore[no-untyped-def]
    confirmation = load_fixture("vk", "callback_confirmation.json")
    response = client.post(f"/api/v1/push/{vk_connector}", content=json.dumps(confirmation))
    assert response.status_code == 200 and response.text == "a1b2c3d4"
    event = load_fixture("vk", "callback_wall_reply_new.json")
    ok = client.post(f"/api/v1/push/{vk_connector}", content=json.dumps(event))
    assert ok.status_code == 200 and ok.text == "ok"
    with session_scope() as session:
        stored = session.scalar(select(func.count(Message.id)).where(
            Message.connector_id == vk_connector))
    assert stored == 1
    forged = {**event, "secret": "guess"}
    refused = client.post(f"/api/v1/push/{vk_connector}", content=json.dumps(forged))
    assert refused.status_code == 403
    with session_scope() as session:
        events = session.scalars(select(IntakeEvent).where(
            IntakeEvent.connector_id == vk_connector, IntakeEvent.kind == "forged")).all()
        again = session.scalar(select(func.count(Message.id)).where(
            Message.connector_id == vk_connector))
    assert len(events) == 1 and again == 1


def test_ok_webhook_takes_the_secret_from_its_url(settings_env, client  # type: ignore[no-untyped-def]
                                                 ) -> None:
    with session_scope() as session:
        row = connectors_service.add_connector(
            session, Actor.system(), kind="ok", name=f"ok-push-{uuid.uuid4().hex[:8]}",
            region_code="68", config={"application_key": "CBA", "application_secret_key": "s",
                                      "access_token": "t", "webhook_secret": "wh-ok-7f3a"})
        connector_id = row.id
    event = json.dumps(load_fixture("ok", "webhook_message_created.json"))
    refused = client.post(f"/api/v1/push/{connector_id}", content=event)
    assert refused.status_code == 403
    taken = client.post(f"/api/v1/push/{connector_id}?secret=wh-ok-7f3a", content=event)
    again = client.post(f"/api/v1/push/{connector_id}?secret=wh-ok-7f3a", content=event)
    assert taken.status_code == again.status_code == 200
    with session_scope() as session:
        stored = session.scalars(select(Message).where(
            Message.connector_id == connector_id)).all()
    assert [m.source_id for m in stored] == [
        "chat:C3ecb9d02a600/mid:C3ecb9d02a600.15cea67d78d2059"]


def test_connector_api_masks_credentials(vk_connector: int, session: Session, client
                                         ) -> None:  # type: ignore[no-untyped-def]
    admin = make_user(session, Role.admin, all_regions=True)
    login(client, admin.username, PASSWORD)
    rows = client.get("/api/v1/connectors").json()["items"]
    mine = [r for r in rows if r["id"] == vk_connector]
    assert [r["id"] for r in client.get("/api/v1/connectors?kind=vk").json()["items"]
            if r["id"] == vk_connector] == [vk_connector]
    assert all(r["kind"] == "telegram"
               for r in client.get("/api/v1/connectors?kind=telegram").json()["items"])
    assert mine and "vk1.a.token" not in json.dumps(rows) and "s3cr3t-cb" not in json.dumps(rows)


def _form(client) -> dict[str, str]:  # type: ignore[no-untyped-def]
    import re

    page = client.get("/form").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    nonce = re.search(r'name="nonce" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    return {"csrf": csrf, "nonce": nonce, "consent": "yes"}


def test_public_form_stores_once_honeypot_and_rate_limit(session: Session, client,
                                                         monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(web_form, "limiter", web_form.RateLimiter(limit=2, window=60))
    fields = {**_form(client), "text": "Во дворе д. 3 по ул. Мира течёт труба", "region": "68"}
    assert "Спасибо" in client.post("/form", data=fields).text
    client.post("/form", data=fields)  # a double click: same nonce
    stored = session.scalars(select(Message).where(
        Message.source_id == f"form:{fields['nonce']}")).all()
    assert len(stored) == 1 and stored[0].source == "web"
    bot = {**_form(client), "text": "Купите наши окна", "website": "http://spam"}
    client.post("/form", data=bot)
    assert not session.scalars(select(Message).where(
        Message.source_id == f"form:{bot['nonce']}")).all()
    third = client.post("/form", data={**_form(client), "text": "Ещё одна проблема"})
    assert third.status_code == 429


def test_form_rejects_missing_csrf(client) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/form", data={"text": "Текст жалобы", "nonce": "abcdefghijk"})
    assert response.status_code == 403
