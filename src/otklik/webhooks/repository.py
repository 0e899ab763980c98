"""Every query of the webhooks: subscriptions, and the cases their payloads describe."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, true
from sqlalchemy.orm import Session

from otklik.db.base import utcnow
from otklik.models.account import ApiToken
from otklik.models.case import Case
from otklik.models.organization import Organization
from otklik.models.territory import Territory
from otklik.models.webhooks import WebhookSubscription


class WebhookRepository:
    """The webhooks' SQL."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, subscription_id: int) -> WebhookSubscription | None:
        """A subscription."""
        return self.session.get(WebhookSubscription, subscription_id)

    def listening(self, event: str, region_code: str | None) -> list[WebhookSubscription]:
        """Active subscriptions to ``event`` that see ``region_code`` (none made by an
        integrator's key that has since been revoked or has expired)."""
        rows = self.session.scalars(select(WebhookSubscription).where(
            WebhookSubscription.is_active.is_(True),
            or_(WebhookSubscription.region_code.is_(None),
                WebhookSubscription.region_code == region_code),
            or_(WebhookSubscription.owner_token_id.is_(None),
                WebhookSubscription.owner_token_id.in_(self._live_keys())))
            .order_by(WebhookSubscription.id)).all()
        return [r for r in rows if event in (r.events or ())]

    def key_is_live(self, token_id: int) -> bool:
        """Whether an API key is neither revoked nor expired."""
        return self.session.scalar(self._live_keys().where(ApiToken.id == token_id)) is not None

    @staticmethod
    def _live_keys() -> Select[int]:
        now = utcnow()
        return select(ApiToken.id).where(
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now))

    def any_active(self) -> bool:
        """Whether any subscription is on (one small query)."""
        return self.session.scalar(select(WebhookSubscription.id).where(
            WebhookSubscription.is_active.is_(True)).limit(1)) is not None

    def page(self, visible: ColumnElement[bool] | None, limit: int, offset: int
             ) -> tuple[list[WebhookSubscription], int]:
        """Subscriptions matching ``visible``, oldest first, with their total."""
        where = visible if visible is not None else true()
        total = self.session.scalar(select(func.count()).select_from(
            WebhookSubscription).where(where)) or 0
        rows = self.session.scalars(select(WebhookSubscription).where(where)
                                    .order_by(WebhookSubscription.id)
                                    .limit(limit).offset(offset)).all()
        return list(rows), total

    def counts(self) -> dict[str, int]:
        """Subscriptions: total and active."""
        total = self.session.scalar(select(func.count()).select_from(WebhookSubscription))
        active = self.session.scalar(select(func.count()).select_from(WebhookSubscription)
                                     .where(WebhookSubscription.is_active.is_(True)))
        return {"total": total or 0, "active": active or 0}

    def case_data(self, case_id: int) -> dict[str, Any] | None:
        """The fields of a case's payload (no text, no personal data)."""
        case = self.session.get(Case, case_id)
        if case is None:
            return None
        executor = self.session.get(Organization, case.executor_id) if case.executor_id else None
        municipality = (self.session.get(Territory, case.municipality_id)
                        if case.municipality_id else None)
        return {"id": case.id, "status": str(case.status.value if hasattr(case.status, "value")
                                             else case.status),
                "topic": case.topic, "subtopic": case.subtopic, "urgency": case.urgency,
                "region_code": case.region_code,
                "municipality_oktmo": municipality.oktmo if municipality else None,
                "executor_id": case.executor_id,
                "executor_name": executor.short_name or executor.name if executor else None,
                "received_at": case.received_at, "resolution_due": case.resolution_due,
                "answered_at": case.answered_at, "closed_at": case.closed_at,
                "escalation_level": case.escalation_level, "url": f"/cases/{case.id}"}
