"""Saved views: a user's named queue filters ("Дороги, просрочено"), kept as a query string.

Only the queue's filter parameters are kept (never a page cursor), so opening a view shows
its first page. A view belongs to its user alone; saving under an existing name replaces it.
"""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import parse_qsl, urlencode

from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.db.base import utcnow
from otklik.errors import InvalidInput, NotFound
from otklik.models.workspace import SavedView
from otklik.workspace.repository import SavedViewRepository

#: The queue's filter parameters a view keeps.
FILTER_KEYS = ("q", "status", "topic", "municipality", "executor", "urgency", "source",
               "overdue", "from", "to", "sort", "mine")
MAX_VIEWS = 50


def clean_query(query: str) -> str:
    """The filter part of a queue query string (cursor, page and unknown keys dropped)."""
    pairs = [(k, v) for k, v in parse_qsl(query.lstrip("?"), keep_blank_values=False)
             if k in FILTER_KEYS and len(v) <= 200]
    return urlencode(pairs)[:2000]


def _user(actor: Actor) -> int:
    actor.require("read")
    if actor.user_id is None:
        raise InvalidInput("saved views belong to a person: log in to keep one")
    return actor.user_id


def list_views(session: Session, actor: Actor) -> Sequence[SavedView]:
    """The actor's saved views by name."""
    if actor.user_id is None:
        return []
    return SavedViewRepository(session).of_user(actor.user_id)


def save_view(session: Session, actor: Actor, name: str, query: str) -> SavedView:
    """Keep the current filters under a name (the same name replaces the old filters)."""
    user_id = _user(actor)
    name = " ".join(name.split())[:100]
    if not name:
        raise InvalidInput("name the view (for example «Дороги, просрочено»)")
    repo = SavedViewRepository(session)
    filters = clean_query(query)
    view = repo.by_name(user_id, name)
    if view is None:
        if len(repo.of_user(user_id, limit=MAX_VIEWS + 1)) >= MAX_VIEWS:
            raise InvalidInput(f"at most {MAX_VIEWS} saved views: delete one you no longer use")
        view = repo.add(SavedView(user_id=user_id, name=name, query=filters,
                                  created_at=utcnow()))
    else:
        view.query = filters
    audit.record(session, actor, "saved_view.save", "saved_view", view.id,
                 details={"name": name, "query": filters})
    return view


def delete_view(session: Session, actor: Actor, view_id: int) -> None:
    """Delete one of the actor's views (someone else's does not exist for them)."""
    user_id = _user(actor)
    repo = SavedViewRepository(session)
    view = repo.get(view_id)
    if view is None or view.user_id != user_id:
        raise NotFound(f"saved view {view_id} not found")
    audit.record(session, actor, "saved_view.delete", "saved_view", view.id,
                 details={"name": view.name})
    repo.delete(view)
