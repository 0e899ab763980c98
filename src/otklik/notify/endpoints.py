"""The alert bot's webhook: Telegram posts updates (a pressed "acknowledge" button) here."""

from __future__ import annotations

import hmac
from typing import Annotated, Any

from fastapi import APIRouter, Body

from otklik.deps import SessionDep
from otklik.errors import NotFound
from otklik.notify import telegram_updates
from otklik.notify.settings import get_notify_settings

router = APIRouter(prefix="/api/v1/notify", tags=["notify"])


@router.post("/telegram/{secret}", operation_id="notify_telegram_update",
             include_in_schema=False)
def telegram_update(secret: str, update: Annotated[dict[str, Any], Body()],
                    session: SessionDep) -> dict[str, Any]:
    """One Bot API update; the path's secret must be OTKLIK_NOTIFY_TELEGRAM_WEBHOOK_SECRET."""
    expected = get_notify_settings().telegram_webhook_secret.get_secret_value()
    if not expected or not hmac.compare_digest(expected.encode(), secret.encode()):
        raise NotFound("not found")
    acknowledged = telegram_updates.handle_update(session, update)
    return {"ok": True, "acknowledged": acknowledged}
