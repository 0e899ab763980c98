"""The alert bot's updates: an "acknowledge" button pressed under an alert.

Updates arrive either at the webhook endpoint (``/api/v1/notify/telegram/<secret>``, set with
the Bot API's setWebhook) or from ``otklik notify poll`` (getUpdates, the offset kept in
``notify_state``). A ``callback_query`` whose data is ``ack:<token>`` acknowledges the alert;
Telegram is answered (answerCallbackQuery) after the commit, so the button stops spinning.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.orm import Session

from otklik.channels.connectors.base import ConnectorError
from otklik.notify import alerts
from otklik.notify.channels import ACK_CALLBACK, TelegramChannel
from otklik.notify.repository import NotifyRepository
from otklik.notify.tasks import answer_callback
from otklik.queue import enqueue_after_commit

OFFSET_KEY = "telegram_updates"


def handle_update(session: Session, update: Mapping[str, Any]) -> bool:
    """Act on one update; True when it acknowledged an alert."""
    query = update.get("callback_query")
    if not isinstance(query, Mapping):
        return False
    data = str(query.get("data") or "")
    callback_id = str(query.get("id") or "")
    if not data.startswith(ACK_CALLBACK):
        return False
    outcome = alerts.acknowledge(session, data[len(ACK_CALLBACK):], "telegram")
    if outcome is None:
        text = "Оповещение не найдено"
    elif outcome[2]:
        text = "Принято, спасибо"
    else:
        text = f"Уже принято: {outcome[0].acknowledged_by or '—'}"
    if callback_id:
        enqueue_after_commit(session, answer_callback, callback_id, text)
    return bool(outcome and outcome[2])


def answer_callback_query(callback_query_id: str, text: str) -> None:
    """answerCallbackQuery (a failure is only logged by the job's retries)."""
    channel = TelegramChannel()
    if not channel.configured():
        return
    connector = channel.connector()
    try:
        connector.call("answerCallbackQuery", {"callback_query_id": callback_query_id,
                                               "text": text})
    finally:
        connector.close()


def poll(session: Session) -> tuple[int, int]:
    """Read the bot's pending updates once (getUpdates from the stored offset); (updates,
    acknowledgements)."""
    channel = TelegramChannel()
    if not channel.configured():
        raise ConnectorError("OTKLIK_NOTIFY_TELEGRAM_TOKEN is not set")
    repo = NotifyRepository(session)
    offset = int(repo.state(OFFSET_KEY).get("offset") or 0)
    connector = channel.connector()
    try:
        updates = connector.call("getUpdates", {
            "offset": offset or None, "timeout": 0, "allowed_updates": ["callback_query"]})
    finally:
        connector.close()
    acknowledged = 0
    for update in updates or []:
        offset = max(offset, int(update.get("update_id", 0)) + 1)
        acknowledged += handle_update(session, update)
    repo.set_state(OFFSET_KEY, {"offset": offset})
    return len(updates or []), acknowledged
