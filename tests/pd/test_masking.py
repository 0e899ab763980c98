"""Who sees residents' personal data: operators, curators, executors and administrators see
messages as written; analysts, heads and deputies (and integrators' keys) get the author
hidden and the PII in the text masked, in the message API, the case card (API and page) and
the analytics drill-down."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.conftest import login

from otklik.accounts.scope import PERMISSIONS, Scope
from otklik.audit.actor import Actor
from otklik.models.account import Role
from otklik.models.case import Case, CaseMessage, CaseStatus
from otklik.models.message import Message, MessageEnrichment
from otklik.pd.masking import HIDDEN, mask_text, sees_personal_data

PHONE = "+7 912 345-67-89"
TEXT = f"Яма у дома 5 по улице Лаврова. Петров Иван Сергеевич, звоните {PHONE}, ivan@mail.ru"
WHEN = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)


@pytest.fixture
def case(session: Session) -> tuple[int, int]:
    message = Message(source="vk", source_id="pd-mask-1", region_code="68", text=TEXT,
                      text_length=len(TEXT), content_hash="h", created_at=WHEN,
                      received_at=WHEN, author_id="12345", author_key="k" * 32,
                      author_name="Иван Петров", url="https://vk.com/wall-1_2",
                      enrich_status="done", attachments=[], raw={})
    session.add(message)
    session.flush()
    session.add(MessageEnrichment(message_id=message.id, relevant=True, topic="roads",
                                  region_code="68", result={}))
    row = Case(region_code="68", status=CaseStatus.new, title=TEXT[:120], topic="roads",
               received_at=WHEN, routing={}, pauses=[])
    session.add(row)
    session.flush()
    session.add(CaseMessage(message_id=message.id, case_id=row.id, is_primary=True))
    session.flush()
    return message.id, row.id


def test_the_roles_that_see_personal_data() -> None:
    def actor(role: Role | None, **kw: Any) -> Actor:
        return Actor("x", Scope(permissions=PERMISSIONS[role] if role else frozenset()),
                     role=role, **kw)

    seeing = {r for r in Role if sees_personal_data(actor(r, user_id=1))}
    assert seeing == {Role.admin, Role.operator, Role.curator, Role.executor}
    assert sees_personal_data(Actor.system())
    assert not sees_personal_data(actor(None, token_id=5))  # an integrator's key


def test_masking_replaces_what_the_pii_stage_finds() -> None:
    masked = mask_text(TEXT)
    assert PHONE not in masked and "ivan@mail.ru" not in masked and "Петров" not in masked
    assert "[телефон]" in masked and "[e-mail]" in masked and "[ФИО]" in masked
    assert "улице Лаврова" in masked  # the place stays: it is what the message is about


@pytest.mark.parametrize("role", [Role.analyst, Role.head, Role.operator, Role.curator])
def test_message_and_case_card_by_role(client: Any, session: Session, case: tuple[int, int],
                                       role: Role) -> None:
    message_id, case_id = case
    user = make_user(session, role)
    login(client, user.username, PASSWORD)
    message = client.get(f"/api/v1/messages/{message_id}").json()
    card = client.get(f"/api/v1/cases/{case_id}").json()
    listed = client.get("/api/v1/cases", params={"region_code": "68"}).json()["items"]
    titles = [c["title"] for c in listed if c["id"] == case_id]
    page = client.get(f"/cases/{case_id}").text
    if role in (Role.operator, Role.curator):
        assert message["author_name"] == "Иван Петров" and message["text"] == TEXT
        first = card["messages"][0]
        assert first["author_key"] == "k" * 32 and PHONE in first["text"]
        assert titles == [TEXT[:120]] and PHONE in page
    else:
        for shown in (message, card["messages"][0]):
            assert shown["author_name"] == HIDDEN and shown["author_key"] is None
            assert shown["url"] is None
            assert PHONE not in shown["text"] and "[телефон]" in shown["text"]
        assert PHONE not in card["title"] and titles and PHONE not in titles[0]
        assert PHONE not in page and "Иван Петров" not in page


def test_analytics_drill_down_masks_for_analysts(client: Any, session: Session,
                                                 case: tuple[int, int]) -> None:
    analyst = make_user(session, Role.analyst)
    login(client, analyst.username, PASSWORD)
    page = client.get("/api/v1/analytics/drill", params={
        "kind": "messages", "period": "2026-11", "region_code": "68"}).json()
    [row] = [r for r in page["items"] if r["id"] == case[0]]
    assert PHONE not in row["title"] and "[телефон]" in row["title"]
