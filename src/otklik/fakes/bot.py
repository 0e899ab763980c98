"""The Telegram bot of the check service: ``/check <text>``, or any forwarded post.

It runs on a Telegram connector of its own (``kind=telegram``, e.g. named ``fakes-bot``), so
its updates are not the intake's: ``otklik fakes bot`` polls getUpdates through the project's
Telegram client (:class:`~otklik.channels.connectors.telegram.TelegramConnector`, whose
``base_url`` points at a local Bot API in tests) and replies with sendMessage in the thread.
The cursor (the next update id) is kept on the connector row. Each chat is held to the check
service's rate limit; the bot keeps no asker.
"""

from __future__ import annotations

import hmac
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from otklik.channels import service as connectors_service
from otklik.channels.connectors.base import ConnectorError, Reply, secret_value
from otklik.channels.connectors.telegram import TelegramConnector
from otklik.channels.repository import ConnectorRepository
from otklik.errors import InvalidInput, NotFound
from otklik.fakes import check

log = logging.getLogger(__name__)

HELP = ("Пришлите текст поста командой /check <текст> или перешлите сам пост: я отвечу, "
        "есть ли он в реестре фейков, и пришлю официальное опровержение.")
_MESSAGE_KEYS = ("message", "channel_post")


@dataclass
class BotRun:
    """What one poll did."""

    updates: int = 0
    answered: int = 0
    refuted: int = 0
    errors: int = 0


def question(message: Mapping[str, Any]) -> str | None:
    """What the update asks to check: the text after /check, a forwarded post's text or any
    plain text; None for /start, /help or an empty /check (the help is the answer)."""
    text = str(message.get("text") or message.get("caption") or "").strip()
    if text.startswith("/"):
        command, _, rest = text.partition(" ")
        name = command[1:].split("@", 1)[0].lower()
        return rest.strip() or None if name == "check" else None
    return text or None


def answer_update(session: Session, update: Mapping[str, Any]) -> tuple[str, str, bool] | None:
    """(chat:message to reply to, the reply, refuted?) for one update, or None to skip."""
    message = next((update[k] for k in _MESSAGE_KEYS if isinstance(update.get(k), dict)), None)
    if message is None or not isinstance(message.get("chat"), dict):
        return None
    target = f"{message['chat']['id']}:{message['message_id']}"
    asked = question(message)
    if asked is None:
        return target, HELP, False
    if not check.limiter().allow(f"tg:{message['chat']['id']}"):
        return target, "Слишком много проверок подряд: попробуйте через минуту.", False
    try:
        result = check.check(session, text=asked)
    except InvalidInput as exc:
        return target, f"Не получилось проверить: {exc.message}", False
    return target, check.answer_text(result), result.verdict == "refuted"


def bot_connector(session: Session, name: str) -> Any:
    """The bot's connector row (a Telegram one), or a clear error."""
    row = ConnectorRepository(session).by_name(name)
    if row is None or row.kind != "telegram":
        raise NotFound(f"no Telegram connector named {name!r}: add one for the bot "
                       "(otklik connectors add --kind telegram …)")
    return row


def handle_webhook(session: Session, name: str, body: bytes, secret: str) -> bool:
    """One update pushed by Telegram to the bot's webhook (``setWebhook`` with the
    connector's ``webhook_secret``): checked, answered in the thread. False for a forged
    call (wrong or missing secret)."""
    row = bot_connector(session, name)
    channel = connectors_service.build(row)
    assert isinstance(channel, TelegramConnector)
    try:
        expected = secret_value(channel.config.webhook_secret)
        if not expected or not hmac.compare_digest(expected.encode(), secret.encode()):
            return False
        try:
            update = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise InvalidInput("Telegram webhook: malformed update") from None
        answered = answer_update(session, update) if isinstance(update, dict) else None
        if answered is not None:
            target, text, _ = answered
            try:
                channel.publish(Reply(target_source_id=target, text=text[:4000]))
            except ConnectorError as exc:
                log.warning("the bot's reply to %s failed: %s", target, exc.message)
        return True
    finally:
        channel.close()


def poll_once(session: Session, name: str, timeout: int = 0) -> BotRun:
    """Read the pending updates once, answer each, keep the cursor on the connector."""
    row = bot_connector(session, name)
    channel = connectors_service.build(row)
    assert isinstance(channel, TelegramConnector)
    run = BotRun()
    offset = int((row.cursor or {}).get("offset") or 0)
    try:
        updates = channel.call("getUpdates", {"offset": offset or None, "timeout": timeout,
                                              "allowed_updates": list(_MESSAGE_KEYS)})
        for update in updates or []:
            run.updates += 1
            offset = max(offset, int(update.get("update_id", 0)) + 1)
            answered = answer_update(session, update)
            if answered is None:
                continue
            target, text, refuted = answered
            try:
                channel.publish(Reply(target_source_id=target, text=text[:4000]))
            except ConnectorError as exc:
                run.errors += 1
                log.warning("the bot's reply to %s failed: %s", target, exc.message)
                continue
            run.answered += 1
            run.refuted += refuted
    finally:
        channel.close()
        row.cursor = {**(row.cursor or {}), "offset": offset}
    return run
