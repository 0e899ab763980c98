"""Every query of the notifier: alerts, recipients, rosters, contacts, deliveries."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otklik.models.account import Role, User
from otklik.models.case import Case
from otklik.models.notify import (
    Alert,
    AlertRecipient,
    Delivery,
    DeliveryAttempt,
    DutyMember,
    DutyRoster,
    NotifyContact,
    NotifyState,
)
from otklik.models.territory import Territory, TerritoryLevel


class NotifyRepository:
    """The notifier's SQL."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- deliveries --------------------------------------------------------------------------

    def delivery_by_dedup(self, key: str) -> Delivery | None:
        """The delivery already made for this key."""
        return self.session.scalars(select(Delivery).where(Delivery.dedup_key == key)).first()

    def delivery_for_update(self, delivery_id: int) -> Delivery | None:
        """A delivery, locked for the attempt's claim (PostgreSQL; SQLite locks the file)."""
        return self.session.scalars(select(Delivery).where(Delivery.id == delivery_id)
                                    .with_for_update()).one_or_none()

    def stale_sending(self, before: datetime) -> Sequence[Delivery]:
        """Attempts under way since before ``before`` (their job died)."""
        return self.session.scalars(select(Delivery).where(
            Delivery.status == "sending", Delivery.updated_at < before)).all()

    def due_deliveries(self, now: datetime, limit: int = 1000) -> Sequence[Delivery]:
        """Pending deliveries whose next attempt is due."""
        return self.session.scalars(select(Delivery).where(
            Delivery.status == "pending", Delivery.next_attempt_at <= now)
            .order_by(Delivery.next_attempt_at).limit(limit)).all()

    def deliveries(self, *, source: str | None = None, source_ids: Iterable[int] | None = None,
                   alert_id: int | None = None, limit: int = 50, offset: int = 0
                   ) -> tuple[list[Delivery], int]:
        """Deliveries, newest first, with their total."""
        query = select(Delivery)
        if source is not None:
            query = query.where(Delivery.source == source)
        if source_ids is not None:
            query = query.where(Delivery.source_id.in_(list(source_ids)))
        if alert_id is not None:
            query = query.where(Delivery.alert_id == alert_id)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(query.order_by(Delivery.id.desc())
                                    .limit(limit).offset(offset)).all()
        return list(rows), total

    def attempts_of(self, delivery_ids: Sequence[int]) -> dict[int, list[DeliveryAttempt]]:
        """The attempts of these deliveries, by delivery, oldest first."""
        out: dict[int, list[DeliveryAttempt]] = {}
        if delivery_ids:
            for row in self.session.scalars(select(DeliveryAttempt).where(
                    DeliveryAttempt.delivery_id.in_(list(delivery_ids)))
                    .order_by(DeliveryAttempt.id)):
                out.setdefault(row.delivery_id, []).append(row)
        return out

    def channel_counts(self, since: datetime) -> dict[str, dict[str, int]]:
        """Deliveries created since ``since``: channel -> status -> count."""
        out: dict[str, dict[str, int]] = {}
        for channel, status, count in self.session.execute(
                select(Delivery.channel, Delivery.status, func.count())
                .where(Delivery.created_at >= since)
                .group_by(Delivery.channel, Delivery.status)):
            out.setdefault(channel, {})[status] = count
        return out

    def last_attempt(self, channel: str, ok: bool) -> DeliveryAttempt | None:
        """The newest successful (or failed) attempt through a channel."""
        return self.session.scalars(
            select(DeliveryAttempt).join(Delivery, Delivery.id == DeliveryAttempt.delivery_id)
            .where(Delivery.channel == channel, DeliveryAttempt.ok == ok)
            .order_by(DeliveryAttempt.id.desc()).limit(1)).first()

    def count_deliveries(self) -> dict[str, int]:
        """Deliveries by source."""
        return {source: count for source, count in self.session.execute(
            select(Delivery.source, func.count()).group_by(Delivery.source))}

    # -- alerts ------------------------------------------------------------------------------

    def alert_of(self, subject: str, subject_id: int) -> Alert | None:
        """The alert thread of a subject."""
        return self.session.scalars(select(Alert).where(
            Alert.subject == subject, Alert.subject_id == subject_id)).first()

    def alert_for_update(self, alert_id: int) -> Alert | None:
        """An alert, locked."""
        return self.session.scalars(select(Alert).where(Alert.id == alert_id)
                                    .with_for_update()).one_or_none()

    def alerts_to_escalate(self, now: datetime) -> Sequence[Alert]:
        """Open alerts whose acknowledgement time has passed."""
        return self.session.scalars(select(Alert).where(
            Alert.status == "open", Alert.escalate_at.is_not(None), Alert.escalate_at <= now)
            .order_by(Alert.escalate_at)).all()

    def recent_alerts(self, region_ids: Iterable[int] | None, limit: int = 30) -> list[Alert]:
        """The newest alerts (of these regions; None: all)."""
        query = select(Alert)
        if region_ids is not None:
            query = query.where(Alert.region_id.in_(list(region_ids)))
        return list(self.session.scalars(query.order_by(Alert.id.desc()).limit(limit)))

    def recipients_of(self, alert_id: int) -> list[AlertRecipient]:
        """The people of an alert thread, in the order they were told."""
        return list(self.session.scalars(select(AlertRecipient).where(
            AlertRecipient.alert_id == alert_id).order_by(AlertRecipient.id)))

    def recipient_by_token(self, token_hash: str) -> AlertRecipient | None:
        """The recipient an acknowledgement token was made for."""
        return self.session.scalars(select(AlertRecipient).where(
            AlertRecipient.token_hash == token_hash)).first()

    def count_alerts(self) -> dict[str, int]:
        """Alerts by status."""
        return {status: count for status, count in self.session.execute(
            select(Alert.status, func.count()).group_by(Alert.status))}

    # -- rosters and people ------------------------------------------------------------------

    def rosters(self, region_ids: Iterable[int] | None) -> list[DutyRoster]:
        """Rosters (of these regions; None: all), by region and name."""
        query = select(DutyRoster)
        if region_ids is not None:
            query = query.where(DutyRoster.region_id.in_(list(region_ids)))
        return list(self.session.scalars(query.order_by(DutyRoster.region_id, DutyRoster.name)))

    def active_rosters_of(self, region_id: int) -> list[DutyRoster]:
        """A region's active rosters."""
        return list(self.session.scalars(select(DutyRoster).where(
            DutyRoster.region_id == region_id, DutyRoster.is_active.is_(True))
            .order_by(DutyRoster.id)))

    def members_of(self, roster_ids: Sequence[int]) -> dict[int, list[DutyMember]]:
        """Members by roster, in roster order."""
        out: dict[int, list[DutyMember]] = {rid: [] for rid in roster_ids}
        if roster_ids:
            for row in self.session.scalars(select(DutyMember).where(
                    DutyMember.roster_id.in_(list(roster_ids)))
                    .order_by(DutyMember.position, DutyMember.id)):
                out[row.roster_id].append(row)
        return out

    def contacts_of(self, user_ids: Sequence[int]) -> dict[int, NotifyContact]:
        """The alert contacts of these users."""
        if not user_ids:
            return {}
        return {c.user_id: c for c in self.session.scalars(select(NotifyContact).where(
            NotifyContact.user_id.in_(list(user_ids))))}

    def users(self, user_ids: Sequence[int]) -> dict[int, User]:
        """Users by id."""
        if not user_ids:
            return {}
        return {u.id: u for u in self.session.scalars(select(User).where(
            User.id.in_(list(user_ids))))}

    def regional_users(self, role: Role, region_code: str | None) -> list[User]:
        """Active users of a role who see the region (regional ones first, then federal)."""
        rows = self.session.scalars(select(User).where(
            User.role == role, User.is_active.is_(True)).order_by(User.id)).all()
        return [u for u in rows if u.all_regions is False and region_code in
                (u.region_codes or ())] or [u for u in rows if u.all_regions]

    def organization_users(self, organization_id: int) -> list[User]:
        """Active executors of an organization."""
        return list(self.session.scalars(select(User).where(
            User.organization_id == organization_id, User.role == Role.executor,
            User.is_active.is_(True)).order_by(User.id)))

    def case(self, case_id: int) -> Case | None:
        """A case (the subject of its escalations)."""
        return self.session.get(Case, case_id)

    def region(self, region_code: str | None) -> Territory | None:
        """The region territory of a code."""
        if not region_code:
            return None
        return self.session.scalars(select(Territory).where(
            Territory.level == TerritoryLevel.region,
            Territory.region_code == region_code)).first()

    def regions(self, codes: Iterable[str] | None) -> list[Territory]:
        """Region territories (of these codes; None: all)."""
        query = select(Territory).where(Territory.level == TerritoryLevel.region)
        if codes is not None:
            query = query.where(Territory.region_code.in_(sorted(codes)))
        return list(self.session.scalars(query.order_by(Territory.name)))

    def territory(self, territory_id: int | None) -> Territory | None:
        """A territory."""
        return self.session.get(Territory, territory_id) if territory_id else None

    # -- state -------------------------------------------------------------------------------

    def state(self, key: str) -> dict[str, Any]:
        """A named state value ({} when unset)."""
        row = self.session.get(NotifyState, key)
        return dict(row.value) if row is not None else {}

    def set_state(self, key: str, value: dict[str, Any]) -> None:
        """Store a named state value."""
        row = self.session.get(NotifyState, key)
        if row is None:
            self.session.add(NotifyState(key=key, value=value))
        else:
            row.value = value
