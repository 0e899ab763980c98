"""Which events integrators can subscribe to: event class -> name, payload model and builder.

A later domain adds its events here (one :func:`webhook_event` each, and the event class in
``consumers.py``); the subscriptions, deliveries and signatures are the same for all.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from sqlalchemy.orm import Session

from otklik.db.base import utcnow
from otklik.events import (
    CaseAnswered,
    CaseClosed,
    CaseCreated,
    CaseOverdue,
    CaseRouted,
    Event,
)
from otklik.webhooks import schemas
from otklik.webhooks.repository import WebhookRepository

#: What a builder returns: the region the payload belongs to and the payload's ``data``.
Built = tuple[str | None, BaseModel]


@dataclass(frozen=True)
class WebhookEvent:
    """One subscribable event."""

    name: str
    event_type: type[Event]
    payload_model: type[BaseModel]
    description: str
    build: Callable[[Session, Any], Built | None]

    def envelope(self, event: Event, data: BaseModel) -> dict[str, Any]:
        """The JSON body: ``id`` (stable per event), ``event``, ``created_at``, ``data``."""
        event_id = hashlib.sha256(
            f"{self.name}:{event.model_dump_json()}".encode()).hexdigest()[:32]
        return self.payload_model.model_validate(
            {"id": event_id, "event": self.name, "created_at": utcnow(),
             "data": data}).model_dump(mode="json")


REGISTRY: dict[type[Event], WebhookEvent] = {}


def webhook_event(event_type: type[Event], name: str, payload_model: type[BaseModel],
                  description: str) -> Callable[[Callable[[Session, Any], Built | None]],
                                                Callable[[Session, Any], Built | None]]:
    """Register a builder of the payload data of ``event_type`` under ``name``."""

    def declare(build: Callable[[Session, Any], Built | None]
                ) -> Callable[[Session, Any], Built | None]:
        REGISTRY[event_type] = WebhookEvent(name, event_type, payload_model, description, build)
        return build

    return declare


def names() -> list[str]:
    """Every subscribable event name."""
    return sorted(spec.name for spec in REGISTRY.values())


def _case(session: Session, case_id: int, model: type[schemas.CaseData] = schemas.CaseData,
          **extra: Any) -> Built | None:
    data = WebhookRepository(session).case_data(case_id)
    if data is None:
        return None
    return data["region_code"], model.model_validate({**data, **extra})


@webhook_event(CaseCreated, "case.created", schemas.CaseCreatedPayload,
               "a case was opened from a message or by hand")
def _created(session: Session, event: CaseCreated) -> Built | None:
    return _case(session, event.case_id)


@webhook_event(CaseRouted, "case.routed", schemas.CaseRoutedPayload,
               "a case was sent to an executor")
def _routed(session: Session, event: CaseRouted) -> Built | None:
    return _case(session, event.case_id, schemas.CaseRoutedData, reason=event.reason)


@webhook_event(CaseAnswered, "case.answered", schemas.CaseAnsweredPayload,
               "a case was answered")
def _answered(session: Session, event: CaseAnswered) -> Built | None:
    return _case(session, event.case_id, schemas.CaseAnsweredData, answer_id=event.answer_id)


@webhook_event(CaseClosed, "case.closed", schemas.CaseClosedPayload, "a case was closed")
def _closed(session: Session, event: CaseClosed) -> Built | None:
    return _case(session, event.case_id, schemas.CaseClosedData, reason=event.reason)


@webhook_event(CaseOverdue, "case.overdue", schemas.CaseOverduePayload,
               "a case passed its deadline and was escalated (2 curator, 3 head)")
def _overdue(session: Session, event: CaseOverdue) -> Built | None:
    return _case(session, event.case_id, schemas.CaseOverdueData, level=event.level)
