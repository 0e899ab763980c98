"""Hostile input to the batch API, the platform pushes and the public web form.

Lone surrogates, NUL bytes, huge texts, HTML/script payloads, dates at the edges of the
calendar, ids beyond 64 bits: each gets a clear 4xx or a per-row rejection with its reason,
what is stored is stored as data (and escaped when shown), and nothing already stored is lost.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.builders import make_user

from otklik.accounts.schemas import TokenCreate
from otklik.accounts.service import actor_for, create_token
from otklik.audit.actor import Actor
from otklik.cases.service import case_from_message
from otklik.channels import service as connectors_service
from otklik.db.session import session_scope
from otklik.intake import web_form as form
from otklik.models.account import Role
from otklik.models.message import IntakeEvent, Message, MessageEnrichment

WHEN = "2026-11-25T10:00:00+03:00"


def _headers(session: Session) -> dict[str, str]:
    actor = actor_for(session, make_user(session, Role.admin, all_regions=True))
    token = create_token(session, actor, TokenCreate(name="crm", scopes=["intake", "read"]))[1]
    return {"authorization": f"Bearer {token}"}


def _item(source_id: str, **fields: Any) -> dict[str, Any]:
    return {"source_id": source_id, "text": "Не работает лифт в доме 7", "created_at": WHEN,
            "region": "68", **fields}


def _send(client: Any, path: str, payload: Any, headers: dict[str, str] | None = None) -> Any:
    """POST JSON as a client would write it: lone surrogates as ``\\ud800`` escapes."""
    return client.post(path, content=json.dumps(payload).encode(),
                       headers={**(headers or {}), "content-type": "application/json"})


def _stored(session: Session, source_id: str) -> Message | None:
    return session.scalars(select(Message).where(Message.source_id == source_id)).first()


@pytest.mark.parametrize("bad", [
    {"text": "Яма \ud800 на дороге"},
    {"author_name": "Ив\udfffан"},
    {"channel": "\ud83d"},
    {"raw": {"comment": ["ok", "\udc00"]}},
])
def test_a_lone_surrogate_rejects_its_row_and_the_rest_is_stored(
        session: Session, client: Any, bad: dict[str, Any]) -> None:
    """Finding 5: a lone surrogate used to fail the whole batch with a 500."""
    headers = _headers(session)
    response = _send(client, "/api/v1/messages/batch", headers=headers, payload=[
        _item("sur-ok-1"), _item("sur-bad", **bad), _item("sur-ok-2")])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["stored"] == 2
    assert [r["index"] for r in body["rejected"]] == [1]
    field = next(iter(bad))
    assert field in body["rejected"][0]["reason"] and "surrogate" in body["rejected"][0]["reason"]
    assert _stored(session, "sur-ok-1") and _stored(session, "sur-ok-2")
    assert _stored(session, "sur-bad") is None


def test_a_rejected_edit_loses_nothing_already_stored(session: Session, client: Any) -> None:
    headers = _headers(session)
    first = _send(client, "/api/v1/messages/batch", headers=headers, payload=[_item("keep-1")])
    assert first.json()["stored"] == 1
    hostile = [_item("keep-1", text="Новый \ud800 текст"),
               _item("keep-1", created_at="0001-01-01T00:00:00+14:00"),
               _item("keep-1", text="x" * 100_001)]
    response = _send(client, "/api/v1/messages/batch", headers=headers, payload=hostile)
    assert response.status_code == 200, response.text
    assert [r["index"] for r in response.json()["rejected"]] == [0, 1, 2]
    kept = _stored(session, "keep-1")
    assert kept is not None and kept.text == "Не работает лифт в доме 7"


@pytest.mark.parametrize("created_at", [
    "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "1970-01-01T00:00:00Z",
    "2200-01-01T00:00:00+03:00", "вчера", "2026-02-30T10:00:00+03:00",
])
def test_dates_outside_the_calendar_are_rejected_per_row(session: Session, client: Any,
                                                         created_at: str) -> None:
    """Finding 6: 0001-01-01T00:00+14:00 used to overflow converting to UTC (a 500)."""
    response = _send(client, "/api/v1/messages/batch", headers=_headers(session), payload=[
        _item("date-ok"), _item("date-bad", created_at=created_at)])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["stored"] == 1
    assert len(body["rejected"]) == 1 and "created_at" in body["rejected"][0]["reason"]


def test_a_time_without_a_zone_is_moscow_time(session: Session, client: Any) -> None:
    response = _send(client, "/api/v1/messages/batch", headers=_headers(session),
                     payload=[_item("naive", created_at="2026-11-25T10:00:00")])
    assert response.json()["stored"] == 1, response.text
    stored = _stored(session, "naive")
    assert stored is not None and stored.created_at.isoformat() == "2026-11-25T07:00:00+00:00"


def test_nul_bytes_and_huge_texts(session: Session, client: Any) -> None:
    headers = _headers(session)
    items = [_item("nul", text="Яма\x00 на дороге", author_name="Ив\x00ан",
                   raw={"note": "a\x00b"}),
             _item("long", text="Яма на дороге. " * 2000),
             _item("huge", text="x" * 100_001)]
    response = _send(client, "/api/v1/messages/batch", headers=headers, payload=items)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["stored"] == 2
    assert body["rejected"][0]["index"] == 2 and "text" in body["rejected"][0]["reason"]
    nul = _stored(session, "nul")
    assert nul is not None and nul.text == "Яма на дороге" and nul.author_name == "Ив\\u0000ан"
    long = _stored(session, "long")
    assert long is not None and long.text_truncated and len(long.text) == 20_000


def test_script_payloads_are_data_and_escaped_when_shown(session: Session, client: Any) -> None:
    payload = '<script>alert("x")</script><img src=x onerror=alert(1)> Яма у дома 5'
    headers = _headers(session)
    response = _send(client, "/api/v1/messages/batch", headers=headers, payload=[
        _item("xss", text=payload, author_name="<b onmouseover=alert(1)>Иван</b>")])
    assert response.json()["stored"] == 1, response.text
    message = _stored(session, "xss")
    assert message is not None and message.author_name == "<b onmouseover=alert(1)>Иван</b>"
    assert message.raw["_original_text"] == payload  # markup reduced to text, the original kept
    shown = client.get(f"/api/v1/messages/{message.id}", headers=headers).json()
    assert shown["author_name"] == message.author_name  # the API gives the data back as data
    enrichment = MessageEnrichment(message_id=message.id, relevant=True, kind="complaint",
                                   topic="roads", topic_confidence=0.9, urgency="normal",
                                   region_code="68", result={})
    session.add(enrichment)
    session.flush()
    case = case_from_message(session, Actor.system("tests"), message, enrichment)
    page = client.get(f"/cases/{case.id}", headers={**headers, "accept": "text/html"})
    assert page.status_code == 200, page.text
    assert "<script>alert" not in page.text and "<b onmouseover" not in page.text
    assert "&lt;b onmouseover=alert(1)&gt;Иван&lt;/b&gt;" in page.text


@pytest.mark.parametrize("path", [
    "/api/v1/messages/99999999999999999999", "/api/v1/messages/9223372036854775808",
    "/api/v1/messages/-1", "/api/v1/messages?offset=9223372036854775808",
    "/api/v1/messages?limit=99999999999999999999",
])
def test_ids_and_offsets_beyond_64_bits_are_a_422(session: Session, client: Any,
                                                  path: str) -> None:
    response = client.get(path, headers=_headers(session))
    assert response.status_code == 422, response.text
    assert response.json()["detail"] == "the request is malformed"


def test_the_largest_id_is_simply_not_found(session: Session, client: Any) -> None:
    response = client.get("/api/v1/messages/9223372036854775807", headers=_headers(session))
    assert response.status_code == 404


def test_a_batch_that_is_not_a_list_of_objects_is_a_422(session: Session, client: Any) -> None:
    headers = _headers(session)
    for body in ({"source_id": "x"}, ["text"], [[1]]):
        response = _send(client, "/api/v1/messages/batch", headers=headers, payload=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["errors"], response.text
    broken = client.post("/api/v1/messages/batch", headers={**headers,
                         "content-type": "application/json"}, content=b"[{\"text\": ")
    assert broken.status_code == 422


# -- platform pushes ---------------------------------------------------------------------------


@pytest.fixture
def vk_push(settings_env: None) -> Iterator[int]:
    """A VK connector taking Callback API pushes, in a committed database."""
    with session_scope() as session:
        row = connectors_service.add_connector(
            session, Actor.system("tests"), kind="vk", name="hostile-vk", region_code="68",
            config={"access_token": "x", "group_id": 1, "callback_secret": "s3cret"})
        connector_id = row.id
    yield connector_id
    with session_scope() as session:
        for table in (Message, IntakeEvent):
            session.query(table).filter_by(connector_id=connector_id).delete()
        session.execute(__import__("sqlalchemy").text(
            "DELETE FROM connector WHERE id = :id"), {"id": connector_id})


def _post(obj: dict[str, Any]) -> dict[str, Any]:
    return {"type": "wall_post_new", "group_id": 1, "secret": "s3cret",
            "object": {"id": 5, "owner_id": -1, "from_id": 7, "date": 1764000000,
                       "text": "Яма на дороге", **obj}}


def _app_client() -> Any:
    from fastapi.testclient import TestClient

    from otklik.app import create_app
    from otklik.config import Settings

    return TestClient(create_app(Settings(env="test")))  # type: ignore[arg-type]


@pytest.mark.parametrize("obj", [{"date": 99999999999999999}, {"date": -99999999999},
                                 {"date": "вчера"}, {"id": None}])
def test_a_malformed_push_is_a_400_and_logged(vk_push: int, obj: dict[str, Any]) -> None:
    """Finding 6: a pushed out-of-range date (or any malformed event) used to be a 500."""
    with _app_client() as client:
        response = _send(client, f"/api/v1/push/{vk_push}", _post(obj))
    assert response.status_code == 400, response.text
    assert "could not be read" in response.json()["detail"]
    with session_scope() as session:
        events = session.query(IntakeEvent).filter_by(connector_id=vk_push, kind="error").all()
        assert events and "VK callback" in events[0].detail
        assert session.query(Message).filter_by(connector_id=vk_push).count() == 0


def test_a_pushed_lone_surrogate_is_stored_escaped(vk_push: int) -> None:
    """Finding 5 on the push path: the platform's text is kept, the surrogate made visible."""
    with _app_client() as client:
        response = _send(client, f"/api/v1/push/{vk_push}", _post(
            {"text": "Яма \ud800 на дороге", "signer_id": 7}))
        assert response.status_code == 200 and response.text == "ok", response.text
        garbage = client.post(f"/api/v1/push/{vk_push}", content=b"\xff\xfe not json")
        assert garbage.status_code == 400
    with session_scope() as session:
        stored = session.query(Message).filter_by(connector_id=vk_push).one()
        assert stored.text == "Яма \ufffd на дороге"
        assert stored.raw["text"] == "Яма \\ud800 на дороге"


# -- the public web form -----------------------------------------------------------------------


def _form_fields(client: Any) -> dict[str, str]:
    page = client.get("/form").text
    return {**{name: re.search(rf'name="{name}" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
               for name in ("csrf", "nonce")}, "consent": "yes"}


@pytest.fixture
def open_limiter(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(form, "limiter", form.RateLimiter(limit=1000))


def test_form_refuses_lone_surrogates_smuggled_in_by_a_charset(
        session: Session, client: Any, open_limiter: None) -> None:
    fields = {"text": "\\ud800 Яма на дороге у дома 5", "name": "Ив\\udfffан",
              **_form_fields(client)}
    parts = [f'--XyZ\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
             for k, v in fields.items()]
    body = "".join(parts).encode("ascii", "backslashreplace") + b"--XyZ--\r\n"
    response = client.post("/form", content=body, headers={
        "content-type": "multipart/form-data; boundary=XyZ; charset=unicode_escape"})
    assert 400 <= response.status_code < 500, response.text
    assert session.scalars(select(Message).where(Message.channel == "web-form")).first() is None


def test_form_keeps_nul_and_markup_as_data(session: Session, client: Any,
                                           open_limiter: None) -> None:
    text = "<script>alert(1)</script>\x00 Яма на дороге у дома 5"
    response = client.post("/form", data={"text": text, "name": "Ив\x00ан <b>",
                                          "contact": "\x00", **_form_fields(client)})
    assert response.status_code == 200, response.text
    stored = session.scalars(select(Message).where(Message.channel == "web-form")).one()
    assert "\x00" not in stored.text and stored.author_name == "Ив\\u0000ан <b>"
    short = client.post("/form", data={"text": "<i>x", **_form_fields(client)})
    assert short.status_code == 400
    assert "<i>x" not in short.text and "&lt;i&gt;x" in short.text


def test_form_refuses_a_huge_text(session: Session, client: Any, open_limiter: None) -> None:
    response = client.post("/form", data={"text": "Яма " * 10_000, **_form_fields(client)})
    assert response.status_code == 422
    assert session.scalars(select(Message).where(Message.channel == "web-form")).first() is None


# -- file imports --------------------------------------------------------------------------------


def test_a_jsonl_import_keeps_rows_with_lone_surrogates_and_rejects_bad_dates(
        session: Session, tmp_path: Any) -> None:
    """The same on the file import path: it used to stop at the first lone surrogate."""
    from otklik.channels.files import read_file
    from otklik.intake.service import store_messages

    path = tmp_path / "export.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in [
        {"id": "jl-\ud800", "text": "Яма \ud800 на дороге", "author": "Ив\udfffан",
         "created_at": WHEN, "note": "\ud800"},
        {"id": "jl-2", "text": "Нет воды", "created_at": "0001-01-01T00:00:00+14:00"},
    ]) + "\n", encoding="utf-8")
    rows = list(read_file(path, format=None, mapping={}, source="import", channel=None,
                          region="68"))
    assert rows[1].message is None and "created_at" in (rows[1].error or "")
    good = rows[0].message
    assert good is not None
    store_messages(session, [good], enqueue=False)
    stored = _stored(session, "jl-\\ud800")
    assert stored is not None and stored.text == "Яма \ufffd на дороге"
    assert stored.raw["note"] == "\\ud800"
