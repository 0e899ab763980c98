"""Builders for the fakes' database tests: analysts, a registered fake, stored messages."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.builders import make_user

from otklik.accounts.service import actor_for
from otklik.audit.actor import Actor
from otklik.channels.schemas import IncomingMessage, Reach, Source
from otklik.fakes import check, live, service
from otklik.fakes.schemas import FakeCreate, RefutationDraft
from otklik.intake.service import store_messages
from otklik.models.account import Role
from otklik.models.fakes import Fake
from otklik.models.message import Message, MessageEnrichment
from otklik.ratelimit import RateLimiter

CLAIM = ("В Элисте в водопровод попали сточные воды, вода заражена кишечной палочкой, "
         "не пейте воду из крана до пятницы")
REFUTATION = ("Вода в Элисте соответствует нормам: пробы Роспотребнадзора за неделю без "
              "отклонений, сбросов в водопровод не было.")
_ids = itertools.count(1)


@pytest.fixture(autouse=True)
def fresh_index() -> Iterator[None]:
    """Each test starts with no in-memory matcher and a fresh rate limiter."""
    live.reset_index()
    check.set_limiter(RateLimiter(check.LIMIT, check.WINDOW))
    yield
    live.reset_index()
    check.set_limiter(None)


@pytest.fixture
def people(session: Session) -> dict[str, Actor]:
    """Two analysts of Kalmykia, an analyst of Tambov, a head of Kalmykia."""
    return {name: actor_for(session, make_user(session, role, [region]))
            for name, role, region in (("writer", Role.analyst, "85"),
                                       ("approver", Role.analyst, "85"),
                                       ("tambov", Role.analyst, "68"),
                                       ("head", Role.head, "85"))}


@pytest.fixture
def make_fake(session: Session, people: dict[str, Actor]) -> Callable[..., Fake]:
    """Register a fake; ``refuted`` also writes and approves its refutation (four eyes)."""

    def build(claim: str = CLAIM, region: str = "85", refuted: bool = False) -> Fake:
        fake = service.create_fake(session, people["writer"],
                                   FakeCreate(region_code=region, claim=claim))
        if refuted:
            service.draft_refutation(session, people["writer"], fake.id, RefutationDraft(
                text=REFUTATION, source_url="https://r08.gov.ru/press/1",  # type: ignore[arg-type]
                date=datetime(2026, 12, 1).date()))
            service.submit_refutation(session, people["writer"], fake.id)
            service.approve_refutation(session, people["approver"], fake.id)
        return fake

    return build


@pytest.fixture
def make_message(session: Session) -> Callable[..., Message]:
    """Store a message as a channel delivers it (with its reach), and an enrichment."""

    def build(text: str, *, region: str = "85", author: str | None = None,
              views: int = 1000, reposts: int = 10, channel: str = "Элиста Инсайд",
              duplicate_of: int | None = None, url: str | None = None,
              hours_ago: float = 1, raw: dict[str, Any] | None = None,
              source: Source = Source.telegram) -> Message:
        n = next(_ids)
        source_id = f"fk-test-{n}-{datetime.now(UTC).timestamp()}"
        store_messages(session, [IncomingMessage(
            source=source, source_id=source_id, text=text,
            created_at=datetime.now(UTC) - timedelta(hours=hours_ago),
            author_id=author or f"a{n}", region=region, channel=channel, url=url,
            reach=Reach(views=views, reposts=reposts), raw=raw or {})], enqueue=False)
        message = session.scalars(select(Message).where(Message.source_id == source_id)).one()
        session.add(MessageEnrichment(message_id=message.id, relevant=True, region_code=region,
                                      duplicate_of_id=duplicate_of, urgency="normal"))
        session.flush()
        return message

    return build
