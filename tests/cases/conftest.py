"""Builders for case tests: a message with its enrichment, a case made from it."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session
from tests.builders import make_user

from otklik.accounts.scope import Scope
from otklik.accounts.service import actor_for
from otklik.audit.actor import Actor
from otklik.cases.service import case_from_message
from otklik.channels.schemas import IncomingMessage, Source
from otklik.intake.service import store_messages
from otklik.models.account import Role
from otklik.models.case import Case
from otklik.models.message import Message, MessageEnrichment
from otklik.models.organization import Organization, OrganizationKind
from otklik.organizations.repository import OrganizationRepository
from otklik.territories.repository import TerritoryRepository

_ids = itertools.count(1)
SYSTEM = Actor.system("tests")


def michurinsk(session: Session) -> tuple[int, Organization]:
    """The Michurinsk municipality id and its administration."""
    territories = TerritoryRepository(session)
    municipality = territories.by_key("68715")
    assert municipality is not None
    rows, _ = OrganizationRepository(session).page(
        Scope.system(), region_code="68", kind=OrganizationKind.municipal_admin,
        q="Мичуринска", limit=1)
    return municipality.id, rows[0]


@pytest.fixture
def make_message(session: Session) -> Callable[..., Message]:
    """Store a message with an enrichment as if the language stages had run."""

    def build(text: str = "На путепроводе на ул. Лаврова огромные ямы, когда отремонтируют?",
              *, topic: str = "roads", subtopic: str | None = "roads.bridges",
              municipality_id: int | None = None, author: str = "id100",
              parent: Message | None = None, relevant: bool = True,
              created_at: datetime | None = None, duplicate_of: int | None = None,
              urgency: str = "normal") -> Message:
        n = next(_ids)
        source_id = f"wall-990_{n}" if parent is None else f"{parent.source_id}_{n}"
        store_messages(session, [IncomingMessage(
            source=Source.vk, source_id=source_id, text=text,
            created_at=created_at or datetime.now(UTC) - timedelta(hours=1),
            author_id=author, region="68",
            parent_source_id=parent.source_id if parent else None)], enqueue=False)
        message = session.query(Message).filter_by(source_id=source_id).one()
        session.add(MessageEnrichment(
            message_id=message.id, relevant=relevant, kind="complaint", topic=topic,
            subtopic=subtopic, topic_confidence=0.9, sentiment="negative", urgency=urgency,
            region_code="68", municipality_id=municipality_id, street="ул. Лаврова",
            duplicate_of_id=duplicate_of, result={}))
        session.flush()
        return message

    return build


@pytest.fixture
def make_case(session: Session, make_message: Callable[..., Message]) -> Callable[..., Case]:
    """A case in Michurinsk made from a fresh message (triage: no routing rules)."""

    def build(**kwargs: object) -> Case:
        municipality_id, _ = michurinsk(session)
        kwargs.setdefault("municipality_id", municipality_id)
        message = make_message(**kwargs)
        enrichment = session.get(MessageEnrichment, message.id)
        assert enrichment is not None
        return case_from_message(session, SYSTEM, message, enrichment)

    return build


@pytest.fixture
def people(session: Session) -> dict[str, Actor]:
    """An operator, a second operator, a curator, an executor of Michurinsk, one of Tambov."""
    _, org = michurinsk(session)
    rows, _ = OrganizationRepository(session).page(
        Scope.system(), region_code="68", kind=OrganizationKind.municipal_admin,
        q="Тамбова", limit=1)
    other = rows[0]
    made = {
        "operator": make_user(session, Role.operator, ["68"]),
        "operator2": make_user(session, Role.operator, ["68"]),
        "curator": make_user(session, Role.curator, ["68"]),
        "head": make_user(session, Role.head, ["68"]),
        "executor": make_user(session, Role.executor, ["68"], organization_id=org.id),
        "other_executor": make_user(session, Role.executor, ["68"], organization_id=other.id),
        "samara_operator": make_user(session, Role.operator, ["36"]),
    }
    return {name: actor_for(session, user) for name, user in made.items()}
