"""The notifier's administration: duty rosters and their people, users' contacts, channel
health and a test send (the admin page and the CLI call these; nothing commits)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.db.base import utcnow
from otklik.errors import InvalidInput, NotFound
from otklik.models.notify import (
    Alert,
    Delivery,
    DeliveryAttempt,
    DutyMember,
    DutyRoster,
    NotifyContact,
)
from otklik.models.territory import Territory
from otklik.notify.channels import CHANNELS, Outgoing, get_channel
from otklik.notify.delivery import DeliverySource, queue_delivery, register_source
from otklik.notify.repository import NotifyRepository

_EMAIL = re.compile(r"^[^@\s<>,;\"']+@[^@\s<>,;\"']+\.[^@\s<>,;\"']+$")
_CHAT = re.compile(r"^-?\d{1,20}$|^@[A-Za-z0-9_]{4,32}$")


@dataclass
class ChannelHealth:
    """How a channel did lately: counts by status, the last success and the last failure."""

    channel: str
    configured: bool
    counts: dict[str, int]
    last_ok: DeliveryAttempt | None
    last_error: DeliveryAttempt | None

    @property
    def failing(self) -> bool:
        """The newest attempt through the channel failed."""
        if self.last_error is None:
            return False
        return self.last_ok is None or self.last_error.id > self.last_ok.id


def _regions(actor: Actor, session: Session) -> list[Territory]:
    codes = None if actor.scope.all_regions else actor.scope.region_codes
    return NotifyRepository(session).regions(codes)


def _roster(session: Session, actor: Actor, roster_id: int) -> DutyRoster:
    actor.require("admin")
    roster = session.get(DutyRoster, roster_id)
    region = session.get(Territory, roster.region_id) if roster else None
    if roster is None or region is None or not actor.scope.sees_region(region.region_code):
        raise NotFound(f"duty roster {roster_id} not found")
    return roster


def check_contact(telegram: str | None, email: str | None) -> tuple[str | None, str | None]:
    """Cleaned contacts, refused when malformed."""
    telegram = (telegram or "").strip() or None
    email = (email or "").strip() or None
    if telegram and not _CHAT.match(telegram):
        raise InvalidInput("Telegram: a numeric chat id (e.g. 123456789) or @channel")
    if email and not _EMAIL.match(email):
        raise InvalidInput(f"not an e-mail address: {email}")
    return telegram, email


def overview(session: Session, actor: Actor) -> dict[str, Any]:
    """Everything the admin page shows: rosters with people, channel health, recent alerts
    and deliveries with their attempts."""
    actor.require("admin")
    repo = NotifyRepository(session)
    regions = _regions(actor, session)
    region_ids = None if actor.scope.all_regions else [r.id for r in regions]
    rosters = repo.rosters(region_ids)
    since = utcnow() - timedelta(days=1)
    counts = repo.channel_counts(since)
    health = [ChannelHealth(kind, get_channel(kind).configured(), counts.get(kind, {}),
                            repo.last_attempt(kind, True), repo.last_attempt(kind, False))
              for kind in CHANNELS]
    deliveries, _ = repo.deliveries(limit=40)
    if region_ids is not None:  # a regional admin: only their alerts' deliveries
        visible = {a.id for a in repo.recent_alerts(region_ids, 1000)}
        deliveries = [d for d in deliveries if d.alert_id in visible]
    return {"regions": regions, "rosters": rosters,
            "members": repo.members_of([r.id for r in rosters]), "health": health,
            "alerts": repo.recent_alerts(region_ids), "deliveries": deliveries,
            "attempts": repo.attempts_of([d.id for d in deliveries]),
            "region_names": {r.id: r.name for r in regions}}


def create_roster(session: Session, actor: Actor, *, name: str, region_id: int,
                  escalate_after_minutes: int = 15, webhook_url: str | None = None,
                  webhook_secret: str | None = None, territory_id: int | None = None,
                  topic: str | None = None) -> DutyRoster:
    """A new duty roster of a region in the actor's scope."""
    actor.require("admin")
    region = session.get(Territory, region_id)
    if region is None or not actor.scope.sees_region(region.region_code):
        raise NotFound(f"region {region_id} not found")
    if not name.strip():
        raise InvalidInput("name the roster")
    if not 1 <= escalate_after_minutes <= 24 * 60:
        raise InvalidInput("escalate after 1 to 1440 minutes")
    if webhook_url and not webhook_url.startswith(("http://", "https://")):
        raise InvalidInput("the webhook URL must start with http:// or https://")
    roster = DutyRoster(name=name.strip()[:255], region_id=region.id, territory_id=territory_id,
                        topic=topic or None, escalate_after_minutes=escalate_after_minutes,
                        webhook_url=webhook_url or None,
                        webhook_secret=(webhook_secret or None) if webhook_url else None,
                        is_active=True)
    session.add(roster)
    session.flush()
    audit.record(session, actor, "notify.roster.create", "duty_roster", roster.id,
                 details={"name": roster.name, "region_id": region.id})
    return roster


def add_member(session: Session, actor: Actor, roster_id: int, *, name: str,
               telegram_chat_id: str | None = None, email: str | None = None,
               user_id: int | None = None, start_hour: int = 0, end_hour: int = 24,
               timezone: str = "Europe/Moscow") -> DutyMember:
    """A person at the end of a roster."""
    roster = _roster(session, actor, roster_id)
    telegram, address = check_contact(telegram_chat_id, email)
    if not (telegram or address or user_id):
        raise InvalidInput("give a Telegram chat id or an e-mail address")
    if not (0 <= start_hour <= 24 and 0 <= end_hour <= 24):
        raise InvalidInput("hours are 0 to 24")
    members = NotifyRepository(session).members_of([roster.id])[roster.id]
    member = DutyMember(roster_id=roster.id, name=(name.strip() or address or telegram or "")
                        [:255], telegram_chat_id=telegram, email=address, user_id=user_id,
                        start_hour=start_hour, end_hour=end_hour, timezone=timezone,
                        position=(members[-1].position + 1) if members else 0)
    session.add(member)
    session.flush()
    audit.record(session, actor, "notify.member.add", "duty_member", member.id,
                 details={"roster_id": roster.id, "name": member.name})
    return member


def remove_member(session: Session, actor: Actor, member_id: int) -> None:
    """Take a person off a roster."""
    member = session.get(DutyMember, member_id)
    if member is None:
        raise NotFound(f"duty member {member_id} not found")
    _roster(session, actor, member.roster_id)
    audit.record(session, actor, "notify.member.remove", "duty_member", member.id,
                 details={"roster_id": member.roster_id, "name": member.name})
    session.delete(member)


def move_member(session: Session, actor: Actor, member_id: int, up: bool) -> None:
    """Swap a person with the one before (or after) them."""
    member = session.get(DutyMember, member_id)
    if member is None:
        raise NotFound(f"duty member {member_id} not found")
    _roster(session, actor, member.roster_id)
    members = NotifyRepository(session).members_of([member.roster_id])[member.roster_id]
    index = members.index(member)
    other = index - 1 if up else index + 1
    if 0 <= other < len(members):
        members[index], members[other] = members[other], members[index]
        for position, row in enumerate(members):
            row.position = position


def set_contact(session: Session, actor: Actor, user_id: int, *, telegram_chat_id: str | None,
                email: str | None) -> NotifyContact:
    """Where a user gets alerts (their own, or an admin for a user they manage)."""
    from otklik.accounts.repository import AccountRepository

    user = AccountRepository(session).get(user_id)
    if user is None or not (actor.user_id == user_id or (
            actor.scope.can("users") and actor.scope.administers(user))):
        raise NotFound(f"user {user_id} not found")
    telegram, address = check_contact(telegram_chat_id, email)
    contact = session.get(NotifyContact, user_id)
    if contact is None:
        contact = NotifyContact(user_id=user_id)
        session.add(contact)
    contact.telegram_chat_id, contact.email, contact.updated_at = telegram, address, utcnow()
    session.flush()
    return contact


def test_send(session: Session, actor: Actor, channel: str, target: str) -> Delivery:
    """Queue a test message through a channel (it shows in the delivery log)."""
    actor.require("admin")
    if channel not in CHANNELS:
        raise InvalidInput(f"unknown channel {channel!r}; use {', '.join(CHANNELS)}")
    target = target.strip()
    if channel == "telegram":
        check_contact(target, None)
    elif channel == "email":
        check_contact(None, target)
    elif not target.startswith(("http://", "https://")):
        raise InvalidInput("the webhook URL must start with http:// or https://")
    text = f"Проверка канала оповещений «Отклика» ({actor.label})"
    row = queue_delivery(session, channel=channel, target=target, source="test", source_id=None,
                         event="notify.test", payload={"text": text, "event": "notify.test"})
    assert row is not None  # no dedup key: always a new delivery
    audit.record(session, actor, "notify.test", "delivery", row.id,
                 details={"channel": channel})
    return row


def alert_of(session: Session, actor: Actor, alert_id: int) -> Alert:
    """One alert in the actor's regions."""
    actor.require("admin")
    alert = session.get(Alert, alert_id)
    region = session.get(Territory, alert.region_id) if alert and alert.region_id else None
    if alert is None or not (actor.scope.all_regions or (
            region is not None and actor.scope.sees_region(region.region_code))):
        raise NotFound(f"alert {alert_id} not found")
    return alert


class TestSource(DeliverySource):
    """An admin's test send: the text as it is (a test webhook is signed with the secret
    key's HMAC-SHA256 under the name "test")."""

    def prepare(self, session: Session, delivery: Delivery) -> Outgoing | str:
        """The test message."""
        from otklik.notify.channels import webhook_body

        return Outgoing(channel=delivery.channel, target=delivery.target,
                        delivery_id=delivery.id, event=delivery.event,
                        text=str(delivery.payload.get("text", "")),
                        subject="[Отклик] проверка канала",
                        body=webhook_body(delivery.payload), secret="test")


register_source("test", TestSource())
