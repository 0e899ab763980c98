"""The notifier's counts for ``otklik stats --json``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from otklik.notify.repository import NotifyRepository
from otklik.ops.stats import stat_provider


@stat_provider
def notify_counts(session: Session) -> dict[str, Any]:
    """Alerts (total and by status) and the notifier's own deliveries."""
    repo = NotifyRepository(session)
    by_status = repo.count_alerts()
    return {"alerts": sum(by_status.values()), "alerts_by_status": by_status,
            "alert_deliveries": repo.count_deliveries().get("alert", 0)}
