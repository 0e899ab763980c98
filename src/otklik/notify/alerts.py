"""Alerts: one thread per subject, told to the people on duty, escalated along the roster
until someone acknowledges from the alert itself.

An alert about an incident goes to the first person on duty of the region's roster (and the
roster's webhook); every later line (an update, the closure, an escalation, the
acknowledgement) goes to everyone already in the thread, as a reply in the same Telegram
thread and e-mail thread. Unacknowledged after the roster's minutes, :func:`escalate_due`
calls the next person on duty. A case's deadline warning goes to its executor's people, its
escalations to the region's curators (level 2) and heads (level 3).

Acknowledgement tokens are an HMAC of a random salt under the secret key; only their SHA-256
is stored. Nothing here commits (the consumer's or the request's unit of work does).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from otklik import events
from otklik.config import get_settings
from otklik.db.base import utcnow
from otklik.events import AlertAcknowledged, IncidentClosed, IncidentOpened, IncidentUpdated
from otklik.models.account import Role, User
from otklik.models.notify import Alert, AlertRecipient, Delivery, DutyMember, DutyRoster
from otklik.notify.channels import Outgoing, SendResult, webhook_body
from otklik.notify.delivery import DeliverySource, dedup_key, queue_delivery, register_source
from otklik.notify.repository import NotifyRepository
from otklik.notify.settings import get_notify_settings

SOURCE = "alert"
SEVERITY_RU = {"critical": "критическая", "high": "высокая", "medium": "средняя",
               "low": "низкая"}


# -- tokens -------------------------------------------------------------------------------------

def ack_token(recipient: AlertRecipient) -> str:
    """The recipient's acknowledgement token (recomputed, never stored)."""
    mac = hmac.new(get_settings().secret_key.encode(),
                   f"alert-ack:{recipient.token_salt}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:24]).decode().rstrip("=")


def token_hash(token: str) -> str:
    """What the database keeps of a token."""
    return hashlib.sha256(token.encode()).hexdigest()


def ack_url(token: str) -> str:
    """The one-click acknowledgement link of an e-mail."""
    return f"{get_notify_settings().public_url.rstrip('/')}/notify/ack/{token}"


# -- people -------------------------------------------------------------------------------------

def on_duty(member: DutyMember, now: datetime) -> bool:
    """True when ``now`` is within the member's hours (22-8 spans midnight; equal: always)."""
    if member.start_hour == member.end_hour or (member.start_hour, member.end_hour) == (0, 24):
        return True
    try:
        hour = now.astimezone(ZoneInfo(member.timezone or "Europe/Moscow")).hour
    except (KeyError, ValueError):
        hour = now.hour
    if member.start_hour < member.end_hour:
        return member.start_hour <= hour < member.end_hour
    return hour >= member.start_hour or hour < member.end_hour


def choose_roster(session: Session, region_id: int | None, territory_ids: Sequence[int] = (),
                  topic: str | None = None) -> DutyRoster | None:
    """The most specific active roster of a region: one of its territories (and topic), then
    its topic, then the region's general one."""
    if region_id is None:
        return None
    rosters = NotifyRepository(session).active_rosters_of(region_id)

    def rank(r: DutyRoster) -> tuple[int, int]:
        territory = 0 if r.territory_id is None else (
            2 if r.territory_id in territory_ids else -9)
        subject = 0 if r.topic is None else (1 if r.topic == topic else -9)
        return territory + subject, -r.id

    candidates = [r for r in rosters if rank(r)[0] >= 0]
    return max(candidates, key=rank) if candidates else None


def _add_recipient(session: Session, alert: Alert, *, name: str, reason: str,
                   telegram: str | None, email: str | None, user_id: int | None = None,
                   member_id: int | None = None) -> AlertRecipient | None:
    """Bring a person into the thread (once); None when they are in it already or have no
    contact."""
    if not telegram and not email:
        return None
    for other in NotifyRepository(session).recipients_of(alert.id):
        if (user_id is not None and other.user_id == user_id) or (
                telegram and other.telegram_chat_id == telegram) or (
                email and other.email and other.email.lower() == email.lower()):
            return None
    salt = secrets.token_hex(16)
    row = AlertRecipient(alert_id=alert.id, member_id=member_id, user_id=user_id,
                         reason=reason, name=name[:255], telegram_chat_id=telegram or None,
                         email=email or None, token_salt=salt, token_hash="",
                         notified_at=utcnow())
    row.token_hash = token_hash(ack_token(row))
    session.add(row)
    session.flush()
    return row


def _user_contacts(session: Session, users: Sequence[User]) -> list[tuple[User, str | None,
                                                                           str | None]]:
    contacts = NotifyRepository(session).contacts_of([u.id for u in users])
    out = []
    for user in users:
        contact = contacts.get(user.id)
        email = (contact.email if contact and contact.email else user.email) or None
        out.append((user, contact.telegram_chat_id if contact else None, email))
    return out


# -- telling ------------------------------------------------------------------------------------

def _subject_line(alert: Alert) -> str:
    return f"[Отклик] {alert.title}"[:250]


def _tell(session: Session, alert: Alert, recipient: AlertRecipient, text: str, key: str,
          *, event: str, ack: bool) -> None:
    """Queue the line for one person in each of their channels (once per key)."""
    payload: dict[str, Any] = {"text": text, "subject": _subject_line(alert), "ack": ack}
    for channel, target in (("telegram", recipient.telegram_chat_id),
                            ("email", recipient.email)):
        if target:
            queue_delivery(session, channel=channel, target=target, source=SOURCE,
                           source_id=recipient.id, alert_id=alert.id, event=event,
                           payload=payload,
                           dedup=dedup_key(SOURCE, alert.id, recipient.id, channel, key))


def _tell_webhook(session: Session, alert: Alert, event: str, text: str, key: str) -> None:
    """Queue the line for the roster's signed webhook, if it has one."""
    roster = session.get(DutyRoster, alert.roster_id) if alert.roster_id else None
    if roster is None or not roster.webhook_url:
        return
    payload = {"event": event, "text": text, "alert": _alert_json(alert)}
    queue_delivery(session, channel="webhook", target=roster.webhook_url, source=SOURCE,
                   source_id=None, alert_id=alert.id, event=event, payload=payload,
                   dedup=dedup_key(SOURCE, alert.id, "webhook", key))


def _alert_json(alert: Alert) -> dict[str, Any]:
    return {"id": alert.id, "subject": alert.subject, "subject_id": alert.subject_id,
            "title": alert.title, "severity": alert.severity, "status": alert.status,
            "url": _link(alert.url_path) if alert.url_path else None}


def post_line(session: Session, alert: Alert, text: str, key: str, *, event: str,
              exclude: AlertRecipient | None = None) -> None:
    """A line in the alert's thread for everyone in it (but ``exclude``) and the roster's
    webhook."""
    for recipient in NotifyRepository(session).recipients_of(alert.id):
        if exclude is not None and recipient.id == exclude.id:
            continue
        _tell(session, alert, recipient, text, key, event=event, ack=False)
    _tell_webhook(session, alert, event, text, key)


def _link(path: str) -> str:
    return f"{get_notify_settings().public_url.rstrip('/')}{path}"


def _opening_text(alert: Alert, people: int | None = None) -> str:
    lines = [f"🚨 {alert.title}"]
    if alert.severity:
        lines.append(f"Серьёзность: {SEVERITY_RU.get(alert.severity, alert.severity)}")
    if people:
        lines.append(f"Затронуто (оценка): ~{people:,} чел.".replace(",", " "))
    if alert.url_path:
        lines.append(_link(alert.url_path))
    lines.append("Подтвердите, что приняли: кнопка ниже или ссылка в письме.")
    return "\n".join(lines)


# -- incidents ----------------------------------------------------------------------------------

def open_incident_alert(session: Session, event: IncidentOpened,
                        now: datetime | None = None) -> Alert | None:
    """The alert of a new incident, told to the first person on duty (once per incident)."""
    repo = NotifyRepository(session)
    if repo.alert_of("incident", event.incident_id) is not None:
        return None
    now = now or utcnow()
    roster = choose_roster(session, event.region_id, event.territory_ids)
    alert = Alert(subject="incident", subject_id=event.incident_id, title=event.title[:300],
                  severity=event.severity[:16], url_path=event.url_path[:500],
                  region_id=event.region_id, roster_id=roster.id if roster else None,
                  status="open", level=0, updated_at=now)
    session.add(alert)
    session.flush()
    text = _opening_text(alert, event.people_affected)
    _tell_webhook(session, alert, "alert.opened", text, "opened")
    if roster is not None:
        _call_next(session, alert, roster, now, text)
    return alert


def _call_next(session: Session, alert: Alert, roster: DutyRoster, now: datetime,
               opening: str) -> AlertRecipient | None:
    """Tell the next person on duty (after ``alert.level``) and set the escalation time."""
    members = NotifyRepository(session).members_of([roster.id])[roster.id][alert.level:]
    chosen = next((m for m in members if on_duty(m, now)), members[0] if members else None)
    if chosen is None:
        alert.escalate_at = None  # the roster is exhausted: nobody left to call
        return None
    alert.level += members.index(chosen) + 1
    telegram, email = chosen.telegram_chat_id, chosen.email
    if chosen.user_id is not None and not (telegram or email):
        users = NotifyRepository(session).users([chosen.user_id])
        if chosen.user_id in users:
            _, telegram, email = _user_contacts(session, [users[chosen.user_id]])[0]
    recipient = _add_recipient(session, alert, name=chosen.name, user_id=chosen.user_id,
                               member_id=chosen.id, telegram=telegram, email=email,
                               reason="duty" if alert.level == 1 else "escalation")
    minutes = roster.escalate_after_minutes or get_notify_settings().escalate_after_minutes
    alert.escalate_at = now + timedelta(minutes=minutes)
    alert.updated_at = now
    if recipient is not None:
        _tell(session, alert, recipient, opening, "opened", event="alert.opened", ack=True)
    return recipient


def escalate_due(session: Session, now: datetime | None = None) -> int:
    """Call the next person for every alert left unacknowledged too long; how many."""
    now = now or utcnow()
    repo = NotifyRepository(session)
    count = 0
    for alert in repo.alerts_to_escalate(now):
        roster = session.get(DutyRoster, alert.roster_id) if alert.roster_id else None
        if roster is None:
            alert.escalate_at = None
            continue
        before = alert.level
        waited = roster.escalate_after_minutes
        recipient = _call_next(session, alert, roster, now, _opening_text(alert))
        if recipient is not None:
            post_line(session, alert,
                      f"⏫ Не подтверждено за {waited} мин: оповещён(а) {recipient.name}",
                      f"escalated-{before}", event="alert.escalated", exclude=recipient)
            count += 1
    return count


def incident_line(session: Session, incident_id: int, text: str, key: str,
                  close: bool = False) -> Alert:
    """A line about an incident in its alert thread (closing the alert when it ended);
    raises LookupError while the alert itself is not there yet (the job retries)."""
    alert = NotifyRepository(session).alert_of("incident", incident_id)
    if alert is None:
        raise LookupError(f"incident {incident_id}: its alert is not opened yet")
    post_line(session, alert, text, key,
              event="alert.closed" if close else "alert.updated")
    if close:
        alert.status, alert.escalate_at, alert.updated_at = "closed", None, utcnow()
    return alert


def incident_updated(session: Session, event: IncidentUpdated) -> Alert:
    """The incident's news (a measure, an update, a status) as a line in its thread."""
    text = event.text or event.kind
    return incident_line(session, event.incident_id, f"ℹ️ {text}",
                         f"updated:{event.kind}:{text}")


def incident_closed(session: Session, event: IncidentClosed) -> Alert:
    """The closing line; the alert stops escalating."""
    text = "✔️ Происшествие закрыто" + (f": {event.summary}" if event.summary else "")
    return incident_line(session, event.incident_id, text, "closed", close=True)


# -- cases --------------------------------------------------------------------------------------

def _case_alert(session: Session, case_id: int) -> Alert | None:
    repo = NotifyRepository(session)
    alert = repo.alert_of("case", case_id)
    if alert is not None:
        return alert
    case = repo.case(case_id)
    if case is None:
        return None
    region = repo.region(case.region_code)
    alert = Alert(subject="case", subject_id=case.id,
                  title=f"Обращение №{case.id}: {case.title or case.topic or ''}"[:300],
                  url_path=f"/cases/{case.id}", region_id=region.id if region else None,
                  status="open", level=0, updated_at=utcnow())
    savepoint = session.begin_nested()
    try:
        session.add(alert)
        session.flush()
    except IntegrityError:  # another job made the case's thread meanwhile: that one serves
        savepoint.rollback()
        return repo.alert_of("case", case_id)
    savepoint.commit()
    return alert


def _tell_users(session: Session, alert: Alert, users: Sequence[User], reason: str,
                text: str, key: str, event: str) -> int:
    told = 0
    for user, telegram, email in _user_contacts(session, users):
        recipient = _add_recipient(session, alert, name=user.full_name or user.username,
                                   user_id=user.id, telegram=telegram, email=email,
                                   reason=reason)
        if recipient is None:
            recipient = next((r for r in NotifyRepository(session).recipients_of(alert.id)
                              if r.user_id == user.id), None)
        if recipient is not None:
            _tell(session, alert, recipient, text, key, event=event, ack=True)
            told += 1
    return told


def _due_text(moment: datetime | None) -> str:
    if moment is None:
        return "—"
    return moment.astimezone(ZoneInfo("Europe/Moscow")).strftime("%d.%m.%Y %H:%M МСК")


def case_deadline_near(session: Session, case_id: int) -> int:
    """Warn the people of the case's executor that its deadline is near; how many."""
    repo = NotifyRepository(session)
    case = repo.case(case_id)
    alert = _case_alert(session, case_id)
    if case is None or alert is None or case.executor_id is None:
        return 0
    text = (f"⏰ Срок ответа по обращению №{case.id} истекает {_due_text(case.resolution_due)}"
            f"\n{_link(alert.url_path)}")
    return _tell_users(session, alert, repo.organization_users(case.executor_id), "executor",
                       text, "deadline-near", "case.deadline_near")


def case_overdue(session: Session, case_id: int, level: int) -> int:
    """Tell the region's curators (level 2) or heads (level 3) that a case is overdue."""
    repo = NotifyRepository(session)
    case = repo.case(case_id)
    alert = _case_alert(session, case_id)
    if case is None or alert is None:
        return 0
    role, reason = (Role.head, "head") if level >= 3 else (Role.curator, "curator")
    text = (f"❗ Просрочено обращение №{case.id} (эскалация, уровень {level}); срок был "
            f"{_due_text(case.resolution_due)}\n{_link(alert.url_path)}")
    return _tell_users(session, alert, repo.regional_users(role, case.region_code), reason,
                       text, f"overdue-{level}", "case.overdue")


# -- acknowledgement ----------------------------------------------------------------------------

def find_by_token(session: Session, token: str) -> tuple[Alert, AlertRecipient] | None:
    """The alert and recipient a token was made for, changing nothing (the e-mail link's
    confirmation page: mail scanners follow links); None for an unknown token."""
    repo = NotifyRepository(session)
    recipient = repo.recipient_by_token(token_hash(token.strip()))
    alert = session.get(Alert, recipient.alert_id) if recipient is not None else None
    if recipient is None or alert is None:
        return None
    return alert, recipient


def acknowledge(session: Session, token: str, channel: str
                ) -> tuple[Alert, AlertRecipient, bool] | None:
    """Acknowledge the alert a token was made for: (alert, who, newly). Announces
    AlertAcknowledged and stops the escalation the first time; None for an unknown token."""
    repo = NotifyRepository(session)
    recipient = repo.recipient_by_token(token_hash(token.strip()))
    if recipient is None:
        return None
    alert = repo.alert_for_update(recipient.alert_id)
    if alert is None:
        return None
    if alert.status != "open":
        return alert, recipient, False
    now = utcnow()
    alert.status, alert.acknowledged_at, alert.escalate_at = "acknowledged", now, None
    alert.acknowledged_by, alert.ack_user_id = recipient.name, recipient.user_id
    alert.ack_channel, alert.updated_at = channel, now
    post_line(session, alert, f"✅ Принято: {recipient.name} ({channel})", "acknowledged",
              event="alert.acknowledged")
    events.announce(session, AlertAcknowledged(
        subject=alert.subject, subject_id=alert.subject_id, alert_id=alert.id,
        user_id=recipient.user_id, by=recipient.name, channel=channel))
    return alert, recipient, True


# -- the delivery source ------------------------------------------------------------------------

class AlertSource(DeliverySource):
    """Deliveries of alert threads: the person's thread and token, or the roster's secret."""

    def prepare(self, session: Session, delivery: Delivery) -> Outgoing | str:
        """The line with its thread, and the acknowledgement while the alert is open."""
        alert = session.get(Alert, delivery.alert_id) if delivery.alert_id else None
        if alert is None:
            return "the alert was removed"
        if delivery.channel == "webhook":
            roster = session.get(DutyRoster, alert.roster_id) if alert.roster_id else None
            if roster is None or not roster.webhook_secret:
                return "the roster's webhook was removed"
            return Outgoing(channel="webhook", target=delivery.target, delivery_id=delivery.id,
                            event=delivery.event, body=webhook_body(delivery.payload),
                            secret=roster.webhook_secret)
        recipient = session.get(AlertRecipient, delivery.source_id or -1)
        if recipient is None:
            return "the recipient was removed"
        ack = bool(delivery.payload.get("ack")) and alert.status == "open"
        token = ack_token(recipient) if ack else None
        thread = (recipient.telegram_thread_id if delivery.channel == "telegram"
                  else recipient.email_thread_id)
        return Outgoing(channel=delivery.channel, target=delivery.target,
                        delivery_id=delivery.id, event=delivery.event,
                        text=str(delivery.payload.get("text", "")),
                        subject=str(delivery.payload.get("subject", "")),
                        reply_to=thread, ack_token=token,
                        ack_url=ack_url(token) if token else None)

    def after_attempt(self, session: Session, delivery: Delivery, result: SendResult) -> None:
        """The first message sent to a person starts their thread in that channel."""
        if not result.ok or not result.external_id or delivery.channel == "webhook":
            return
        recipient = session.get(AlertRecipient, delivery.source_id or -1)
        if recipient is None:
            return
        if delivery.channel == "telegram" and not recipient.telegram_thread_id:
            recipient.telegram_thread_id = result.external_id[:32]
        if delivery.channel == "email" and not recipient.email_thread_id:
            recipient.email_thread_id = result.external_id[:255]


register_source(SOURCE, AlertSource())
