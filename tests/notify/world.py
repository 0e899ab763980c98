"""A committing database for the notifier's and webhooks' tests: Kalmykia (region 85), people
with their contacts, a token to call the API with, and the rows a test leaves removed."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, delete, func, select
from sqlalchemy.orm import Session
from tests.conftest import jobs_database

from otklik import queue
from otklik.accounts.schemas import TokenCreate
from otklik.accounts.service import actor_for, create_token
from otklik.audit.actor import Actor
from otklik.models.account import ApiToken, Role, User
from otklik.models.case import Case, CaseStatus
from otklik.models.notify import (
    Alert,
    AlertRecipient,
    Delivery,
    DeliveryAttempt,
    DutyMember,
    DutyRoster,
    NotifyContact,
    NotifyState,
)
from otklik.models.organization import Organization, OrganizationKind
from otklik.models.territory import Territory, TerritoryLevel
from otklik.models.webhooks import WebhookSubscription
from otklik.notify.settings import get_notify_settings
from otklik.territories.service import load_territories
from otklik.webhooks.settings import get_webhook_settings

REGION = "85"
EMPTY = (delete(DeliveryAttempt), delete(Delivery), delete(AlertRecipient), delete(Alert),
         delete(DutyMember), delete(DutyRoster), delete(NotifyContact), delete(NotifyState),
         delete(WebhookSubscription), delete(Case), delete(ApiToken))
_names = itertools.count(1)


@contextmanager
def world(url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    """The module's database (Kalmykia loaded once), emptied of the test's rows afterwards."""
    get_notify_settings.cache_clear()
    get_webhook_settings.cache_clear()
    # One worker for the whole test (drain() uses it): a worker started and stopped at once
    # by drain() on empty queues can leave a consumer thread behind that takes later jobs.
    import otklik.consumers  # noqa: F401  (every queue declared before the worker starts)

    worker = queue._InlineWorker(threads=4)
    worker.start()
    monkeypatch.setattr(queue, "_inline_worker", worker)
    with _stopping(worker), jobs_database(url, monkeypatch, empty=EMPTY) as engine:
        with Session(engine) as session:
            if not session.scalar(select(func.count()).select_from(Territory)):
                load_territories(session, Actor.system("tests"), (REGION, "68"))
                session.commit()
        try:
            yield engine
        finally:
            get_notify_settings.cache_clear()
            get_webhook_settings.cache_clear()


@contextmanager
def _stopping(worker: queue._InlineWorker) -> Iterator[None]:
    try:
        yield
    finally:
        worker.stop()


def region(session: Session, code: str = REGION) -> Territory:
    """A region's territory."""
    return session.scalars(select(Territory).where(
        Territory.level == TerritoryLevel.region, Territory.region_code == code)).one()


def person(session: Session, username: str, role: Role, *, regions: tuple[str, ...] = (REGION,),
           email: str | None = None, organization_id: int | None = None,
           all_regions: bool = False) -> User:
    """A user (the audit log keeps users: each test makes its own)."""
    user = User(username=f"{username}-{next(_names)}", full_name=username.title(), email=email,
                password_hash="-", role=role, region_codes=list(regions),
                all_regions=all_regions, organization_id=organization_id, is_active=True)
    session.add(user)
    session.flush()
    return user


def token(session: Session, user: User, scopes: list[str]) -> str:
    """An API token of ``user`` with ``scopes``."""
    _, secret = create_token(session, actor_for(session, user), TokenCreate(
        name="tests", scopes=scopes))
    return secret


def organization(session: Session, name: str = "ГУП «Водоканал»") -> Organization:
    """An executor of the region."""
    org = Organization(region_code=REGION, name=name, kind=OrganizationKind.utility,
                       is_active=True)
    session.add(org)
    session.flush()
    return org


def case(session: Session, executor_id: int | None, **fields: Any) -> Case:
    """A routed case of the region."""
    row = Case(region_code=REGION, status=CaseStatus.routed, title="Нет воды",
               topic="housing", urgency="high", executor_id=executor_id,
               received_at=datetime(2026, 12, 1, 9, tzinfo=UTC),
               resolution_due=datetime(2026, 12, 3, 18, tzinfo=UTC), **fields)
    session.add(row)
    session.flush()
    return row
