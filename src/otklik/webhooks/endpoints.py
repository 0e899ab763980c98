"""The webhook subscriptions API (``/api/v1/webhooks``, permission/token scope ``webhooks``)
and the payloads' documentation (the OpenAPI's ``webhooks`` section)."""

from __future__ import annotations

from fastapi import APIRouter, Response

from otklik.bounds import RefId
from otklik.deps import CurrentActor, SessionDep
from otklik.notify.repository import NotifyRepository
from otklik.paging import Limit, Offset
from otklik.webhooks import registry, schemas, service

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])
#: Mounted on ``app.webhooks``: what Otklik POSTs to a subscription, per event.
payloads = APIRouter()


@router.get("", response_model=schemas.SubscriptionList, operation_id="list_webhooks")
def list_subscriptions(actor: CurrentActor, session: SessionDep,
                       limit: Limit = 50, offset: Offset = 0) -> schemas.SubscriptionList:
    """The subscriptions you own (an admin: also those of their regions)."""
    items, total = service.list_subscriptions(session, actor, limit, offset)
    return schemas.SubscriptionList(
        items=[schemas.SubscriptionRead.model_validate(i) for i in items], total=total,
        limit=limit, offset=offset)


@router.get("/events", response_model=schemas.EventList, operation_id="webhook_events")
def list_events(actor: CurrentActor, limit: Limit = 50, offset: Offset = 0
                ) -> schemas.EventList:
    """The events a subscription may ask for, by name."""
    actor.require("webhooks")
    return schemas.EventList.of([schemas.EventInfo(name=s.name, description=s.description)
                                 for s in sorted(registry.REGISTRY.values(),
                                                 key=lambda s: s.name)], limit, offset)


@router.post("", response_model=schemas.SubscriptionCreated, status_code=201,
             operation_id="create_webhook")
def create(payload: schemas.SubscriptionCreate, actor: CurrentActor, session: SessionDep
           ) -> schemas.SubscriptionCreated:
    """Subscribe a URL to events; the answer carries the signing secret, shown only once."""
    row, secret = service.create_subscription(session, actor, payload)
    return schemas.SubscriptionCreated.model_validate(
        {**schemas.SubscriptionRead.model_validate(row).model_dump(), "secret": secret})


@router.get("/{subscription_id}", response_model=schemas.SubscriptionRead,
            operation_id="get_webhook")
def get(subscription_id: RefId, actor: CurrentActor, session: SessionDep
        ) -> schemas.SubscriptionRead:
    """One subscription."""
    return schemas.SubscriptionRead.model_validate(
        service.get_subscription(session, actor, subscription_id))


@router.patch("/{subscription_id}", response_model=schemas.SubscriptionRead,
              operation_id="update_webhook")
def update(subscription_id: RefId, payload: schemas.SubscriptionUpdate, actor: CurrentActor,
           session: SessionDep) -> schemas.SubscriptionRead:
    """Change a subscription; ``{"is_active": true}`` switches a disabled one back on."""
    return schemas.SubscriptionRead.model_validate(
        service.update_subscription(session, actor, subscription_id, payload))


@router.delete("/{subscription_id}", status_code=204, operation_id="delete_webhook")
def delete(subscription_id: RefId, actor: CurrentActor, session: SessionDep) -> Response:
    """Remove a subscription."""
    service.delete_subscription(session, actor, subscription_id)
    return Response(status_code=204)


@router.get("/{subscription_id}/deliveries", response_model=schemas.DeliveryList,
            operation_id="list_webhook_deliveries")
def deliveries(subscription_id: RefId, actor: CurrentActor, session: SessionDep,
               limit: Limit = 50, offset: Offset = 0) -> schemas.DeliveryList:
    """The delivery log of a subscription: each delivery with its attempts and answers."""
    rows, total = service.deliveries(session, actor, subscription_id, limit, offset)
    tries = NotifyRepository(session).attempts_of([r.id for r in rows])
    items = [schemas.DeliveryRead(
        id=r.id, event=r.event, status=r.status, attempts=r.attempts,
        last_status_code=r.last_status_code, last_error=r.last_error, created_at=r.created_at,
        sent_at=r.sent_at, next_attempt_at=r.next_attempt_at,
        tries=[schemas.AttemptRead.model_validate(a) for a in tries.get(r.id, [])])
        for r in rows]
    return schemas.DeliveryList(items=items, total=total, limit=limit, offset=offset)


@payloads.post("case.created")
def case_created(body: schemas.CaseCreatedPayload) -> None:
    """Sent when a case is opened. Headers: ``X-Otklik-Signature: t=…,v1=…`` (HMAC-SHA256
    of ``t.body`` under the subscription's secret), ``X-Otklik-Event``, ``X-Otklik-Delivery``;
    answer any 2xx within 5 s."""


@payloads.post("case.routed")
def case_routed(body: schemas.CaseRoutedPayload) -> None:
    """Sent when a case is routed to an executor (signed the same way)."""


@payloads.post("case.answered")
def case_answered(body: schemas.CaseAnsweredPayload) -> None:
    """Sent when a case is answered (signed the same way)."""


@payloads.post("case.closed")
def case_closed(body: schemas.CaseClosedPayload) -> None:
    """Sent when a case is closed (signed the same way)."""


@payloads.post("case.overdue")
def case_overdue(body: schemas.CaseOverduePayload) -> None:
    """Sent when a case is escalated past its deadline (signed the same way)."""
