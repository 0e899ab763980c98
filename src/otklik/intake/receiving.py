"""Receiving through the configured connectors: runs from their cursors, and pushes.

Each connector runs in its own unit of work, so one failing never stops the others, and
its cursor is saved in the same transaction as the messages it brought.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.channels.connectors.base import AuthError, ConnectorError, ForgedRequest, PushResult
from otklik.channels.connectors.normalize import escape_surrogates
from otklik.channels.repository import ConnectorRepository
from otklik.channels.service import build
from otklik.db.base import utcnow
from otklik.db.session import session_scope
from otklik.errors import Forbidden, InvalidInput, NotFound
from otklik.intake.service import store_messages
from otklik.models.message import Connector, IntakeEvent

log = logging.getLogger(__name__)


@dataclass
class RunResult:
    """What one connector run did."""

    name: str
    fetched: int = 0
    stored: int = 0
    duplicates: int = 0
    errors: list[str] = field(default_factory=list)


def run_connectors(name: str | None = None, **options: Any) -> list[RunResult]:
    """Fetch from one connector or every enabled one, each in its own transaction."""
    with session_scope() as session:
        repo = ConnectorRepository(session)
        if name:
            row = repo.by_name(name)
            if row is None:
                raise NotFound(f"no connector named {name!r}: see otklik connectors list")
            ids = [row.id]
        else:
            ids = enabled_connector_ids(session)
    return [run_connector(connector_id, **options) for connector_id in ids]


def enabled_connector_ids(session: Session) -> list[int]:
    """The connectors that are switched on (all regions): what a poll round fetches from."""
    return [c.id for c in ConnectorRepository(session).in_scope(Actor.system().scope)
            if c.enabled]


def run_connector(connector_id: int, **options: Any) -> RunResult:
    """Fetch from a connector's saved cursor, store, and save the new cursor — atomically."""
    with session_scope() as session:
        row = ConnectorRepository(session).get(connector_id)
        if row is None:
            raise NotFound(f"connector {connector_id} not found")
        result = RunResult(name=row.name)
        row.last_run_at = utcnow()
        channel = build(row, **options)
        try:
            fetched = channel.fetch(row.cursor or None)
        except AuthError as exc:
            _failed(session, row, "auth_error", exc.message, result)
            return result
        except ConnectorError as exc:
            _failed(session, row, "error", exc.message, result)
            return result
        except Exception as exc:  # a connector bug must not stop the others
            log.exception("connector %s crashed", row.name)
            _failed(session, row, "error", f"{type(exc).__name__}: {exc}", result)
            return result
        finally:
            channel.close()
        summary = store_messages(session, fetched.messages, connector_id=row.id)
        row.cursor = fetched.cursor
        row.messages_total += summary.stored
        result.fetched, result.stored = len(fetched.messages), summary.stored
        result.duplicates = summary.duplicates
        result.errors = list(fetched.errors)
        for error in fetched.errors:
            ConnectorRepository(session).add_event(
                IntakeEvent(connector_id=row.id, kind="error", detail=error))
        row.status = "partial" if fetched.errors else "ok"
        row.last_error = fetched.errors[-1] if fetched.errors else None
        row.error_count = row.error_count + 1 if fetched.errors else 0
        if not fetched.errors:
            row.last_success_at = utcnow()
        return result


def _failed(session: Session, row: Connector, status: str, message: str,
            result: RunResult) -> None:
    row.status = status
    row.last_error = message
    row.error_count += 1
    result.errors.append(message)
    ConnectorRepository(session).add_event(
        IntakeEvent(connector_id=row.id, kind=status, detail=message))


def receive_push(connector_id: int, body: bytes, headers: Mapping[str, str],
                 ip: str | None = None, query: Mapping[str, str] | None = None) -> PushResult:
    """Take a platform's pushed call (VK Callback API, Telegram and OK webhooks); store it.

    A forged call (wrong secret) is refused and logged, and stores nothing.
    """
    with session_scope() as session:
        row = ConnectorRepository(session).get(connector_id)
        if row is None or not row.enabled:
            raise NotFound(f"connector {connector_id} not found")
        channel = build(row)
        forged: str | None = None
        unreadable: str | None = None
        try:
            pushed = channel.receive(body, headers, query)
        except ForgedRequest as exc:
            forged = exc.message
        except ConnectorError as exc:  # a malformed call, or a connector that takes no pushes
            unreadable = escape_surrogates(exc.message).replace("\x00", "\\u0000")
        else:
            store_messages(session, pushed.messages, connector_id=row.id)
            row.last_success_at = utcnow()
    if unreadable is not None:
        with session_scope() as session:
            ConnectorRepository(session).add_event(IntakeEvent(
                connector_id=connector_id, kind="error", detail=unreadable, context={"ip": ip}))
        raise InvalidInput(f"the pushed call could not be read: {unreadable}")
    if forged is not None:
        with session_scope() as session:
            ConnectorRepository(session).add_event(IntakeEvent(
                connector_id=connector_id, kind="forged", detail=forged, context={"ip": ip}))
            audit.record(session, Actor(label="push", ip=ip), "push.refused", "connector",
                         connector_id, details={"reason": forged})
        log.warning("refused a forged push to connector %s from %s", connector_id, ip)
        raise Forbidden("the call failed the secret check and was refused")
    return pushed
