"""Every query of saved views."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from otklik.models.workspace import SavedView


class SavedViewRepository:
    """A user's saved views of the queue."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def of_user(self, user_id: int, limit: int = 100) -> Sequence[SavedView]:
        """A user's views by name."""
        return self.session.scalars(select(SavedView).where(SavedView.user_id == user_id)
                                    .order_by(SavedView.name).limit(limit)).all()

    def by_name(self, user_id: int, name: str) -> SavedView | None:
        """A user's view of that name."""
        return self.session.scalar(select(SavedView).where(SavedView.user_id == user_id,
                                                           SavedView.name == name))

    def get(self, view_id: int) -> SavedView | None:
        """A view by id (no owner check: the service does that)."""
        return self.session.get(SavedView, view_id)

    def add(self, view: SavedView) -> SavedView:
        """Insert a view and get its id."""
        self.session.add(view)
        self.session.flush()
        return view

    def delete(self, view: SavedView) -> None:
        """Remove a view."""
        self.session.delete(view)
        self.session.flush()
