"""Classic hostile payloads (tests/security/hostile_corpus.json) through the UI and the API.

XSS: a resident's name and text, a published proposal and every search box show the payload
escaped, never as markup. SQL: payloads are stored verbatim as data, searching with them
answers normally, and no count changes but by the rows added. Path traversal: an uploaded
file's name never takes the file out of its folder, and a photo URL with a path in it is
simply not found."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from markupsafe import escape
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.conftest import login

from otklik.accounts.schemas import TokenCreate
from otklik.accounts.service import actor_for, create_token
from otklik.audit.actor import Actor
from otklik.cases.service import case_from_message
from otklik.config import get_settings
from otklik.models.account import Role
from otklik.models.case import Case
from otklik.models.message import Message, MessageEnrichment
from otklik.models.participation import Proposal

CORPUS = json.loads((Path(__file__).parent / "security" / "hostile_corpus.json")
                    .read_text(encoding="utf-8"))
WHEN = "2026-11-25T10:00:00+03:00"


def _headers(session: Session, client: Any) -> dict[str, str]:
    """An administrator: a token for the API, and the pages through a login (a token has
    its own rate limit, which a hundred page loads would reach)."""
    user = make_user(session, Role.admin, all_regions=True)
    token = create_token(session, actor_for(session, user),
                         TokenCreate(name="corpus", scopes=["intake", "read"]))[1]
    login(client, user.username, PASSWORD)
    return {"authorization": f"Bearer {token}"}


def _store(session: Session, client: Any, headers: dict[str, str], prefix: str,
           payloads: list[str]) -> list[Message]:
    items = [{"source_id": f"{prefix}-{i}", "text": f"{p} Яма у дома {i}", "created_at": WHEN,
              "region": "68", "author_name": p} for i, p in enumerate(payloads)]
    response = client.post("/api/v1/messages/batch", json=items, headers=headers)
    assert response.status_code == 200 and response.json()["stored"] == len(items), \
        response.text
    return list(session.scalars(select(Message).where(Message.source_id.like(f"{prefix}-%"))
                                .order_by(Message.id)))


def _case(session: Session, message: Message) -> Case:
    enrichment = MessageEnrichment(message_id=message.id, relevant=True, kind="complaint",
                                   topic="roads", topic_confidence=0.9, urgency="normal",
                                   region_code="68", result={})
    session.add(enrichment)
    session.flush()
    return case_from_message(session, Actor.system("tests"), message, enrichment)


def _no_markup(page: str, payload: str) -> None:
    if "<" in payload:
        assert payload not in page, f"{payload!r} is shown unescaped"


def test_xss_payloads_are_escaped_on_the_pages(session: Session, client: Any) -> None:
    headers = _headers(session, client)
    html = {"accept": "text/html"}
    messages = _store(session, client, headers, "xss", CORPUS["xss"])
    for message, payload in zip(messages, CORPUS["xss"], strict=True):
        assert message.author_name == payload  # data, kept as sent
        card = client.get(f"/cases/{_case(session, message).id}", headers=html)
        assert card.status_code == 200, card.text[:300]
        _no_markup(card.text, payload)
        assert str(escape(payload)) in card.text  # the name is there, escaped
        api = client.get(f"/api/v1/messages/{message.id}", headers=headers).json()
        assert api["author_name"] == payload  # the API gives data back as data (JSON)
    queue = client.get("/cases", headers=html)
    assert queue.status_code == 200
    for payload in CORPUS["xss"]:
        _no_markup(queue.text, payload)
        for path in ("/cases", "/fakes", "/publics/registry", "/territories",
                     "/organizations"):
            found = client.get(path, params={"q": payload}, headers=html)
            assert found.status_code == 200, (path, found.text[:300])
            _no_markup(found.text, payload)
    for i, payload in enumerate(CORPUS["xss"]):
        session.add(Proposal(region_code="68", title=f"Предложение {i}", text=payload,
                             public_text=f"{payload} предложение {i}", status="received"))
    session.flush()
    public = client.get("/participation/proposals")
    assert public.status_code == 200
    for payload in CORPUS["xss"]:
        _no_markup(public.text, payload)
        assert str(escape(payload)) in public.text


def test_sql_payloads_are_data_and_change_no_counts(session: Session, client: Any) -> None:
    headers = _headers(session, client)
    html = {"accept": "text/html"}
    before = (session.scalar(select(func.count()).select_from(Message)),
              session.scalar(select(func.count()).select_from(Case)))
    messages = _store(session, client, headers, "sql", CORPUS["sql"])
    for message, payload in zip(messages, CORPUS["sql"], strict=True):
        assert message.author_name == payload and message.text.startswith(payload)
    after = (session.scalar(select(func.count()).select_from(Message)),
             session.scalar(select(func.count()).select_from(Case)))
    assert after == (before[0] + len(CORPUS["sql"]), before[1])  # exactly the rows added
    for payload in CORPUS["sql"]:
        for path in ("/cases", "/fakes", "/publics/registry", "/territories"):
            found = client.get(path, params={"q": payload}, headers=html)
            assert found.status_code == 200, (path, found.text[:300])
        api = client.get("/api/v1/messages", params={"q": payload}, headers=headers)
        assert api.status_code in (200, 422), api.text[:300]
    assert (session.scalar(select(func.count()).select_from(Message)),
            session.scalar(select(func.count()).select_from(Case))) == after


def test_traversal_file_names_stay_in_their_folders(session: Session, client: Any,
                                                    tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.contests.builders import a_panel

    from otklik.contests import attachments as files
    from otklik.contests import service as contests
    from otklik.contests.schemas import ApplicationCreate
    from otklik.models.contests import ContestAttachment

    monkeypatch.setenv("OTKLIK_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("OTKLIK_MEDIA_DIR", str(tmp_path / "media"))
    get_settings.cache_clear()
    try:
        panel = a_panel(session, experts=1)
        uploads = [files.Upload(name, b"%PDF-1.4 corpus") for name in CORPUS["traversal"][:5]]
        more = [files.Upload(name, b"%PDF-1.4 corpus") for name in CORPUS["traversal"][5:]]
        for batch in (uploads, more):
            contests.submit_public(session, panel.contest.id, ApplicationCreate(
                track_id=panel.tracks[0], applicant="Иван Петров", contact="ivan@example.org",
                title="Канал", requested_rub=200_000), batch)
        folder = (tmp_path / "data" / "contests" / str(panel.contest.id)).resolve()
        written = [p for p in tmp_path.rglob("*") if p.is_file()]
        assert len(written) == len(CORPUS["traversal"])
        assert all(p.resolve().parent == folder for p in written)  # nothing escaped
        names = session.scalars(select(ContestAttachment.filename)).all()
        assert all("/" not in n and "\\" not in n and "\u202e" not in n for n in names)
        for name in CORPUS["traversal"]:
            for path in (f"/media/photos/{name}", f"/media/photos/..%2F..%2F{name}"):
                response = client.get(path)
                assert response.status_code in (404, 422), (path, response.status_code)
    finally:
        get_settings.cache_clear()
