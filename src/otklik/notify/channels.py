"""One notifier interface, several channels: Telegram (the Bot API through the channels'
TelegramConnector), e-mail (SMTP, the briefs' sender) and a signed webhook (signing.py).

A channel takes an :class:`Outgoing` (everything one attempt needs, built by the delivery's
source) and returns a :class:`SendResult`; it never touches the database and never retries
by itself (the delivery log does: one attempt, one row). Every call has a short timeout, so a
channel that hangs costs its own job a few seconds and nobody else anything.
"""

from __future__ import annotations

import json
import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, ClassVar

import httpx

from otklik import signing
from otklik.channels.connectors.base import (
    AuthError,
    ConnectorError,
    PermanentError,
)
from otklik.channels.connectors.telegram import TelegramConnector
from otklik.config import get_settings
from otklik.notify.settings import NotifySettings, get_notify_settings
from otklik.reports import delivery as mail

#: The prefix of the callback data of an alert's "acknowledge" button.
ACK_CALLBACK = "ack:"


@dataclass
class Outgoing:
    """One attempt's message. ``text`` for people (Telegram, e-mail), ``body`` (exact bytes)
    for a webhook; ``reply_to`` the thread (a Telegram message id, an e-mail Message-ID);
    ``ack_token`` adds the acknowledgement button or link."""

    channel: str
    target: str
    delivery_id: int
    event: str = ""
    text: str = ""
    subject: str = ""
    body: bytes = b""
    secret: str = ""
    reply_to: str | None = None
    ack_token: str | None = None
    ack_url: str | None = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class SendResult:
    """What one attempt came to. ``retry``: worth trying again (a temporary failure)."""

    ok: bool
    status_code: int | None = None
    response: str | None = None
    error: str | None = None
    retry: bool = True
    external_id: str | None = None


class Channel(ABC):
    """A way to reach someone."""

    kind: ClassVar[str]

    @abstractmethod
    def send(self, message: Outgoing) -> SendResult:
        """Make one attempt (no retries, bounded by a timeout)."""

    def configured(self) -> bool:
        """False when the channel has no settings (deliveries through it are not sent)."""
        return True


class TelegramChannel(Channel):
    """sendMessage to a chat, as a reply in the alert's thread, with an "acknowledge"
    button; the existing Telegram connector does the HTTP (its base_url is configurable)."""

    kind = "telegram"

    def __init__(self, settings: NotifySettings | None = None) -> None:
        self.settings = settings or get_notify_settings()

    def configured(self) -> bool:
        """A bot token is set."""
        return self.settings.telegram_enabled

    def connector(self) -> TelegramConnector:
        """The Bot API client: one attempt per call (the delivery log retries), short
        timeout, no long polling."""
        return TelegramConnector({
            "bot_token": self.settings.telegram_token.get_secret_value(),
            "base_url": self.settings.telegram_api_url, "timeout": self.settings.timeout,
            "poll_timeout": 0, "max_attempts": 1})

    def send(self, message: Outgoing) -> SendResult:
        """One sendMessage."""
        payload: dict[str, Any] = {"chat_id": message.target, "text": message.text[:4096]}
        if message.reply_to:
            payload["reply_parameters"] = {"message_id": int(message.reply_to),
                                           "allow_sending_without_reply": True}
        if message.ack_token:
            payload["reply_markup"] = {"inline_keyboard": [[{
                "text": "✅ Принято / Acknowledge",
                "callback_data": ACK_CALLBACK + message.ack_token}]]}
        connector = self.connector()
        try:
            result = connector.call("sendMessage", payload)
        except (AuthError, PermanentError) as exc:
            return SendResult(ok=False, error=exc.message, retry=False)
        except ConnectorError as exc:
            return SendResult(ok=False, error=exc.message)
        finally:
            connector.close()
        message_id = result.get("message_id") if isinstance(result, dict) else None
        return SendResult(ok=True, status_code=200, response="ok",
                          external_id=str(message_id) if message_id is not None else None)


class EmailChannel(Channel):
    """An e-mail in the alert's thread (In-Reply-To/References), with the one-click
    acknowledgement link; sent through the SMTP server of the main settings."""

    kind = "email"

    def configured(self) -> bool:
        """An SMTP host is set."""
        return get_settings().smtp_enabled

    def send(self, message: Outgoing) -> SendResult:
        """One SMTP transaction."""
        settings = get_settings()
        sender = settings.smtp_from or settings.smtp_user or "otklik@localhost"
        domain = sender.rpartition("@")[2] or "localhost"
        email = EmailMessage()
        email["Subject"] = message.subject or "Отклик: оповещение"
        email["From"] = sender
        email["To"] = message.target
        email["Date"] = formatdate(localtime=False)
        message_id = f"<otklik-delivery-{message.delivery_id}@{domain}>"
        email["Message-ID"] = message_id
        if message.reply_to:
            email["In-Reply-To"] = message.reply_to
            email["References"] = message.reply_to
        text = message.text
        if message.ack_url:
            text += ("\n\nПодтвердить, что оповещение принято (одним нажатием, без входа):\n"
                     f"{message.ack_url}\n")
        email.set_content(text)
        try:
            mail.send_email(settings, email)
        except mail.TemporaryError as exc:
            return SendResult(ok=False, error=str(exc))
        except mail.PermanentError as exc:
            return SendResult(ok=False, error=str(exc), retry=False)
        return SendResult(ok=True, response="accepted", external_id=message_id)


class WebhookChannel(Channel):
    """A JSON POST signed with ``X-Otklik-Signature`` (signing.py); any 2xx is a success,
    anything else (a timeout, a refused connection, a 500) a failure worth retrying."""

    kind = "webhook"

    def __init__(self, settings: NotifySettings | None = None) -> None:
        self.settings = settings or get_notify_settings()

    def send(self, message: Outgoing) -> SendResult:
        """One POST."""
        headers = {"Content-Type": "application/json", "User-Agent": "Otklik-Webhooks/1",
                   "X-Otklik-Event": message.event,
                   "X-Otklik-Delivery": str(message.delivery_id),
                   signing.HEADER: signing.sign(message.secret, message.body),
                   **message.headers}
        try:
            response = httpx.post(message.target, content=message.body, headers=headers,
                                  timeout=self.settings.timeout, follow_redirects=False)
        except httpx.TimeoutException:
            return SendResult(ok=False, error=f"no answer within {self.settings.timeout:g} s")
        except httpx.HTTPError as exc:
            return SendResult(ok=False, error=f"{type(exc).__name__}: {exc}"[:1000])
        text = response.text[:1000]
        if 200 <= response.status_code < 300:
            return SendResult(ok=True, status_code=response.status_code, response=text)
        return SendResult(ok=False, status_code=response.status_code, response=text,
                          error=f"HTTP {response.status_code}")


class RecordingChannel(Channel):
    """A dry run (``OTKLIK_NOTIFY_DRY_RUN``): the attempt is recorded as sent and nothing
    leaves the machine; it stands in for every channel kind, configured or not."""

    kind = "dry_run"

    def __init__(self, stands_for: str) -> None:
        self.stands_for = stands_for

    def send(self, message: Outgoing) -> SendResult:
        """Record, do not send."""
        return SendResult(ok=True, response=f"dry run: {self.stands_for} to {message.target} "
                                            "recorded, not sent",
                          external_id=f"{message.delivery_id}")


CHANNELS: dict[str, type[Channel]] = {
    cls.kind: cls for cls in (TelegramChannel, EmailChannel, WebhookChannel)}


def get_channel(kind: str) -> Channel:
    """A channel of ``kind`` with the current settings (a recording one in a dry run)."""
    if get_notify_settings().recording:
        return RecordingChannel(kind)
    return CHANNELS[kind]()


def webhook_body(payload: dict[str, Any]) -> bytes:
    """The exact bytes of a webhook payload (stable: the same payload, the same bytes)."""
    return json.dumps(payload, ensure_ascii=False, sort_keys=True,
                      separators=(",", ":")).encode()


def elapsed_ms(started: float) -> int:
    """Milliseconds since ``started`` (time.monotonic())."""
    return int((time.monotonic() - started) * 1000)
