"""A database of this folder's own (Kalmykia and Tambov loaded) that jobs commit to, a VK stub,
and helpers that send messages through intake exactly as a channel would."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import Engine, delete
from sqlalchemy.orm import Session
from tests.builders import make_user
from tests.conftest import jobs_database, migrated_database
from tests.intake.stubs.http_stub import StubResponse, StubServer, load_fixture

import otklik.consumers  # noqa: F401  (every consumer declared before a worker starts)
import otklik.incidents.tasks  # noqa: F401
from otklik import events
from otklik.accounts.scope import Scope
from otklik.accounts.service import actor_for
from otklik.audit.actor import Actor
from otklik.channels import service as connectors_service
from otklik.channels.schemas import IncomingMessage, Source
from otklik.db.session import make_engine, session_scope
from otklik.events import IncidentOpened, consumer
from otklik.intake.service import store_messages
from otklik.models.account import Role
from otklik.models.analytics import MessageDailyStat
from otklik.models.case import (
    Answer,
    Case,
    CaseEvent,
    CaseMessage,
    Problem,
    Publication,
    RoutingRule,
)
from otklik.models.incident import Incident, IncidentChannel
from otklik.models.message import Connector, Message, MessageEnrichment
from otklik.models.organization import OrganizationKind
from otklik.organizations.repository import OrganizationRepository
from otklik.queue import drain
from otklik.territories.service import load_territories

#: IncidentOpened events as the notifier would receive them (captured by the test consumer).
opened: list[dict[str, Any]] = []
_ids = itertools.count(1)
GROUP = 170000001


@consumer(IncidentOpened, queue_name="incidents", max_retries=0)
def capture_incident_opened(event: IncidentOpened) -> None:
    """Stands in for the notifier: what an alert would be worded from."""
    opened.append(event.model_dump())


events.unsubscribe(IncidentOpened, capture_incident_opened)  # listens only in these tests


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def reference_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
                  ) -> Iterator[str]:
    """This folder's database with Kalmykia and Tambov and their organizations."""
    from tests.conftest import BACKENDS

    if request.param not in BACKENDS:
        pytest.skip("PostgreSQL not configured (OTKLIK_TEST_POSTGRES_URL)")
    with migrated_database(request.param, tmp_path_factory, "incidents") as url:
        engine = make_engine(url)
        with Session(engine) as session:
            from otklik.demo.loader import load_organizations

            load_territories(session, Actor.system("tests"), ("85", "68"))
            load_organizations(session, Actor.system("tests"))
            session.commit()
        engine.dispose()
        yield url


@dataclass
class World:
    """The committed database and what the tests act with."""

    engine: Engine
    stub: StubServer
    connector_id: int
    people: dict[str, Actor]


@pytest.fixture
def world(reference_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    opened.clear()
    events.subscribe(IncidentOpened, capture_incident_opened)
    try:
        with StubServer() as stub, jobs_database(reference_url, monkeypatch, empty=(
                delete(IncidentChannel), delete(Incident), delete(Publication),
                delete(Answer), delete(CaseEvent), delete(CaseMessage), delete(Case),
                delete(Problem), delete(MessageEnrichment), delete(Message),
                delete(MessageDailyStat), delete(RoutingRule), delete(Connector),
                )) as engine:
            stub.script("/method/wall.createComment",
                        StubResponse(load_fixture("vk", "wall_createComment.json")))
            with session_scope() as session:
                connector = connectors_service.add_connector(
                    session, Actor.system(), kind="vk", name=f"vk-incidents-{next(_ids)}",
                    region_code="85", config={"access_token": "tkn", "group_id": GROUP,
                                              "base_url": stub.url + "/method/"})
                rows, _ = OrganizationRepository(session).page(
                    Scope.system(), region_code="85", kind=OrganizationKind.ministry,
                    q="строительства", limit=1)
                org = rows[0]
                session.add(RoutingRule(region_code="85", position=1, topic="utilities",
                                        executor_id=org.id, note="вода и тепло"))
                people = {}
                for name, role, regions in (("operator", Role.operator, ["85"]),
                                            ("operator2", Role.operator, ["85"]),
                                            ("admin", Role.admin, ["85"]),
                                            ("tambov", Role.operator, ["68"])):
                    user = make_user(session, role, regions)
                    people[name] = actor_for(session, user)
                connector_id = connector.id
            yield World(engine, stub, connector_id, people)
    finally:
        events.unsubscribe(IncidentOpened, capture_incident_opened)


def receive(world: World, items: list[tuple[str, str, datetime]], *, source: Source = Source.vk,
            region: str | None = "85") -> list[int]:
    """Messages (text, author, time) stored through intake as one delivery, then every job
    (enrichment, cases, incidents, publishing) run; returns their ids."""
    rows = []
    for text, author, at in items:
        n = next(_ids)
        rows.append(IncomingMessage(
            source=source, source_id=f"wall-{GROUP}_{n}" if source == Source.vk else f"m-{n}",
            text=text, created_at=at, author_id=author, region=region))
    with session_scope() as session:
        store_messages(session, rows, connector_id=world.connector_id
                       if source == Source.vk else None)
    drain()
    with Session(world.engine) as session:
        from sqlalchemy import select

        wanted = [r.source_id for r in rows]
        return list(session.scalars(select(Message.id).where(
            Message.source == source.value, Message.source_id.in_(wanted))
            .order_by(Message.id)))
