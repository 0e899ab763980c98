"""The notifier's jobs: one per delivery attempt, and the answer to a Telegram button."""

from __future__ import annotations

import dramatiq

from otklik.queue import broker

#: A job's own time limit: an attempt is bounded by the channel's timeout well before it.
TIME_LIMIT_MS = 120_000


@dramatiq.actor(broker=broker, queue_name="notify", max_retries=0, time_limit=TIME_LIMIT_MS)
def send_delivery(delivery_id: int) -> None:
    """One attempt of a delivery (retries are the delivery log's, not Dramatiq's)."""
    from otklik.notify.delivery import run_delivery

    run_delivery(delivery_id)


@dramatiq.actor(broker=broker, queue_name="notify", max_retries=3, time_limit=TIME_LIMIT_MS)
def answer_callback(callback_query_id: str, text: str) -> None:
    """Tell Telegram the button was heard (the pressed button stops spinning)."""
    from otklik.notify.telegram_updates import answer_callback_query

    answer_callback_query(callback_query_id, text)
