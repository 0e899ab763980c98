"""Every query of configured connectors and their events."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.models.message import Connector, IntakeEvent


class ConnectorRepository:
    """Configured connectors and intake events."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, connector_id: int) -> Connector | None:
        """A connector by id."""
        return self.session.get(Connector, connector_id)

    def by_name(self, name: str) -> Connector | None:
        """A connector by its unique name."""
        return self.session.scalar(select(Connector).where(Connector.name == name))

    def in_scope(self, scope: Scope) -> Sequence[Connector]:
        """Connectors in the scope (those without a region only for the federal scope)."""
        query = select(Connector).order_by(Connector.name)
        if not scope.all_regions:
            query = query.where(scope.region_filter(Connector.region_code))
        return self.session.scalars(query).all()

    def add(self, connector: Connector) -> Connector:
        """Insert and get an id."""
        self.session.add(connector)
        self.session.flush()
        return connector

    def add_event(self, event: IntakeEvent) -> None:
        """Record a refusal or failure."""
        self.session.add(event)

    def events(self, connector_id: int | None = None, limit: int = 50) -> Sequence[IntakeEvent]:
        """Recent events, newest first."""
        query = select(IntakeEvent).order_by(IntakeEvent.id.desc()).limit(limit)
        if connector_id is not None:
            query = query.where(IntakeEvent.connector_id == connector_id)
        return self.session.scalars(query).all()
