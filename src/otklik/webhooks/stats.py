"""The webhooks' counts for ``otklik stats --json``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from otklik.notify.repository import NotifyRepository
from otklik.ops.stats import stat_provider
from otklik.webhooks.repository import WebhookRepository
from otklik.webhooks.service import SOURCE


@stat_provider
def webhook_counts(session: Session) -> dict[str, Any]:
    """Subscriptions (and how many are on) and deliveries to them."""
    counts = WebhookRepository(session).counts()
    return {"webhook_subscriptions": counts["total"],
            "webhook_subscriptions_active": counts["active"],
            "webhook_deliveries": NotifyRepository(session).count_deliveries().get(SOURCE, 0)}
