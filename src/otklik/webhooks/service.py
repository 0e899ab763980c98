"""Webhook subscriptions: who hears which events, delivered through the notifier's delivery
log (the same retries, timeouts, attempts and signature as the notifier's webhook channel).

A subscription belongs to its owner and one region (or every region, for an owner who sees
them all); an admin of its region sees and manages it too. It is switched off after
``OTKLIK_WEBHOOKS_DISABLE_AFTER`` consecutive failed attempts, until someone switches it back
on. Nothing here commits.
"""

from __future__ import annotations

import secrets

from sqlalchemy import ColumnElement, false, or_, true
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.db.base import utcnow
from otklik.db.session import forget_at_transaction_end
from otklik.errors import InvalidInput, NotFound
from otklik.events import Event
from otklik.models.notify import Delivery
from otklik.models.webhooks import WebhookSubscription
from otklik.notify.channels import Outgoing, SendResult, webhook_body
from otklik.notify.delivery import DeliverySource, dedup_key, queue_delivery, register_source
from otklik.notify.repository import NotifyRepository
from otklik.webhooks import registry
from otklik.webhooks.repository import WebhookRepository
from otklik.webhooks.schemas import SubscriptionCreate, SubscriptionUpdate
from otklik.webhooks.settings import get_webhook_settings

SOURCE = "webhook"


def _owned(actor: Actor) -> ColumnElement[bool]:
    """A user's subscriptions, or an integrator's key's own (a key belongs to no user)."""
    if actor.user_id is not None:
        return WebhookSubscription.owner_id == actor.user_id
    if actor.token_id is not None:
        return WebhookSubscription.owner_token_id == actor.token_id
    return false()


def _owns(actor: Actor, row: WebhookSubscription) -> bool:
    if actor.user_id is not None:
        return row.owner_id == actor.user_id
    return actor.token_id is not None and row.owner_token_id == actor.token_id


def _visible(actor: Actor) -> ColumnElement[bool]:
    owned = _owned(actor)
    if not actor.scope.can("admin"):
        return owned
    if actor.scope.all_regions:
        return true()
    return or_(owned, actor.scope.region_filter(WebhookSubscription.region_code))


def _check_events(names: list[str]) -> list[str]:
    known = registry.names()
    unknown = sorted(set(names) - set(known))
    if unknown:
        raise InvalidInput(f"unknown event(s) {', '.join(unknown)}; use {', '.join(known)}")
    return sorted(set(names))


def list_subscriptions(session: Session, actor: Actor, limit: int = 50, offset: int = 0
                       ) -> tuple[list[WebhookSubscription], int]:
    """The subscriptions the actor sees."""
    actor.require("webhooks")
    return WebhookRepository(session).page(_visible(actor), limit, offset)


def get_subscription(session: Session, actor: Actor, subscription_id: int
                     ) -> WebhookSubscription:
    """One subscription the actor sees (404 otherwise)."""
    actor.require("webhooks")
    row = WebhookRepository(session).get(subscription_id)
    if row is None or not (
            _owns(actor, row)
            or (actor.scope.can("admin") and (actor.scope.all_regions or (
                row.region_code is not None and actor.scope.sees_region(row.region_code))))):
        raise NotFound(f"webhook subscription {subscription_id} not found")
    return row


def create_subscription(session: Session, actor: Actor, data: SubscriptionCreate
                        ) -> tuple[WebhookSubscription, str]:
    """A new subscription and its signing secret (returned once)."""
    actor.require("webhooks")
    if data.region_code is None and not actor.scope.all_regions:
        if len(actor.scope.region_codes) != 1:
            raise InvalidInput("name the region_code the subscription is for")
        region_code: str | None = next(iter(actor.scope.region_codes))
    else:
        region_code = data.region_code
    if region_code is not None and not actor.scope.sees_region(region_code):
        raise InvalidInput(f"region {region_code} is outside your scope")
    secret = "whsec_" + secrets.token_urlsafe(32)
    now = utcnow()
    row = WebhookSubscription(name=data.name, url=str(data.url), events=_check_events(
        data.events), secret=secret, region_code=region_code, owner_id=actor.user_id,
        owner_token_id=actor.token_id if actor.user_id is None else None,
        is_active=True, consecutive_failures=0, created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    audit.record(session, actor, "webhook.create", "webhook_subscription", row.id,
                 details={"url": row.url, "events": row.events})
    return row, secret


def update_subscription(session: Session, actor: Actor, subscription_id: int,
                        data: SubscriptionUpdate) -> WebhookSubscription:
    """Change a subscription; ``is_active`` true switches it back on (failures forgotten)."""
    row = get_subscription(session, actor, subscription_id)
    if data.name is not None:
        row.name = data.name
    if data.url is not None:
        row.url = str(data.url)
    if data.events is not None:
        row.events = _check_events(data.events)
    if data.is_active is True and not row.is_active:
        row.is_active, row.consecutive_failures = True, 0
        row.disabled_at = row.disabled_reason = None
        audit.record(session, actor, "webhook.enable", "webhook_subscription", row.id)
    elif data.is_active is False and row.is_active:
        row.is_active, row.disabled_at = False, utcnow()
        row.disabled_reason = f"switched off by {actor.label}"
        audit.record(session, actor, "webhook.disable", "webhook_subscription", row.id)
    row.updated_at = utcnow()
    return row


def delete_subscription(session: Session, actor: Actor, subscription_id: int) -> None:
    """Remove a subscription (its pending deliveries are given up)."""
    row = get_subscription(session, actor, subscription_id)
    audit.record(session, actor, "webhook.delete", "webhook_subscription", row.id,
                 details={"url": row.url})
    session.delete(row)


def deliveries(session: Session, actor: Actor, subscription_id: int, limit: int = 50,
               offset: int = 0) -> tuple[list[Delivery], int]:
    """A subscription's deliveries, newest first."""
    get_subscription(session, actor, subscription_id)
    return NotifyRepository(session).deliveries(source=SOURCE, source_ids=[subscription_id],
                                                limit=limit, offset=offset)


_LISTENING_KEY = "otklik_webhooks_listening"
_SEEN_KEY = "otklik_webhooks_subscription_seen"


def anyone_listening(session: Session) -> bool:
    """Whether any subscription is on, read once per transaction (the guard of the case
    events' consumers: with no subscription, a case costs no webhook job). Forgotten at the
    end of the transaction (a SAVEPOINT rolled back too; one released changes nothing seen)
    and whenever the session writes a subscription (pending or flushed), as the cases'
    reference cache is (``cases/reference.py``)."""
    if _subscription_in(session) and _subscription_written(session):
        _forget_listening(session)
    listening: bool | None = session.info.get(_LISTENING_KEY)
    if listening is None:
        listening = session.info[_LISTENING_KEY] = WebhookRepository(session).any_active()
        forget_at_transaction_end(session, _LISTENING_KEY)
        if not sa_event.contains(session, "after_flush", _forget_on_flush):
            sa_event.listen(session, "after_flush", _forget_on_flush)
    return listening


def _subscription_in(session: Session) -> bool:
    """Whether a subscription was ever added to or loaded into this session: only then can
    one be written, and only then are the session's new and changed rows looked through (a
    batch announces an event per case over hundreds of pending rows: looking through them
    at every announcement was 6-10 % of building a batch's cases). Noted as rows arrive."""
    if _SEEN_KEY not in session.info:  # the listeners are not there yet (event.contains
        # at every announcement was 3 % of building a batch's cases)
        sa_event.listen(session, "transient_to_pending", _note_subscription)
        sa_event.listen(session, "loaded_as_persistent", _note_subscription)
        session.info[_SEEN_KEY] = any(
            isinstance(row, WebhookSubscription)
            for row in (*session.new, *session.identity_map.values()))
    return bool(session.info.get(_SEEN_KEY))


def _note_subscription(session: Session, instance: object) -> None:
    if isinstance(instance, WebhookSubscription):
        session.info[_SEEN_KEY] = True


def _subscription_written(session: Session) -> bool:
    return any(isinstance(row, WebhookSubscription)
               for row in (*session.new, *session.dirty, *session.deleted))


def _forget_on_flush(session: Session, _flush_context: object) -> None:
    # inside after_flush the session still lists the rows just flushed
    if _subscription_in(session) and _subscription_written(session):
        _forget_listening(session)


def _forget_listening(session: Session, *_: object) -> None:
    session.info.pop(_LISTENING_KEY, None)


def fan_out(session: Session, event: Event) -> int:
    """Queue a delivery of ``event`` to every subscription that hears it (once per event and
    subscription); how many."""
    spec = registry.REGISTRY.get(type(event))
    if spec is None:
        return 0
    built = spec.build(session, event)
    if built is None:
        return 0
    region_code, data = built
    payload = spec.envelope(event, data)
    queued = 0
    for sub in WebhookRepository(session).listening(spec.name, region_code):
        row = queue_delivery(session, channel="webhook", target=sub.url, source=SOURCE,
                             source_id=sub.id, event=spec.name, payload=payload,
                             dedup=dedup_key(SOURCE, sub.id, payload["id"]))
        queued += row is not None
    return queued


class SubscriptionSource(DeliverySource):
    """Deliveries to subscriptions: signed with the subscription's secret while it is on;
    consecutive failures counted, and the subscription switched off at the limit."""

    def prepare(self, session: Session, delivery: Delivery) -> Outgoing | str:
        """The signed body, or why not (removed, switched off, its key revoked)."""
        repository = WebhookRepository(session)
        sub = repository.get(delivery.source_id or -1)
        if sub is None:
            return "the subscription was removed"
        if not sub.is_active:
            return "not sent: the subscription is switched off"
        if sub.owner_token_id is not None and not repository.key_is_live(sub.owner_token_id):
            return "not sent: the API key that made the subscription is revoked or expired"
        return Outgoing(channel="webhook", target=delivery.target, delivery_id=delivery.id,
                        event=delivery.event, body=webhook_body(delivery.payload),
                        secret=sub.secret)

    def after_attempt(self, session: Session, delivery: Delivery, result: SendResult) -> None:
        """Count failures; switch the subscription off after too many in a row."""
        sub = WebhookRepository(session).get(delivery.source_id or -1)
        if sub is None:
            return
        if result.ok:
            sub.consecutive_failures = 0
            return
        sub.consecutive_failures += 1
        limit = get_webhook_settings().disable_after
        if sub.is_active and sub.consecutive_failures >= limit:
            sub.is_active, sub.disabled_at = False, utcnow()
            sub.disabled_reason = (f"{sub.consecutive_failures} failed attempts in a row; "
                                   f"last: {result.error or result.status_code}")[:500]


register_source(SOURCE, SubscriptionSource())
