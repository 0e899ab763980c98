"""The audit log is append-only, in the ORM and in the database itself."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from tests.builders import make_user

from otklik.accounts.service import actor_for
from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.errors import Forbidden
from otklik.models.account import Role
from otklik.models.audit import AuditEntry


def test_entries_record_who_what_which(session: Session) -> None:
    entry = audit.record(session, Actor(label="оператор", ip="10.0.0.1"), "case.route", "case",
                         42, region_code="68", details={"to": "Администрация"})
    session.flush()
    stored = session.get(AuditEntry, entry.id)
    assert stored and stored.actor == "оператор" and stored.object_id == "42"
    assert stored.details == {"to": "Администрация"} and stored.at.tzinfo is not None


def test_orm_refuses_update_and_delete(session: Session) -> None:
    entry = audit.record(session, Actor.system(), "x", "y")
    session.flush()
    entry.action = "changed"
    with pytest.raises(PermissionError):
        session.flush()
    session.rollback()


def test_database_refuses_update_and_delete(session: Session) -> None:
    audit.record(session, Actor.system(), "x", "y")
    session.flush()
    with pytest.raises(DBAPIError, match="append-only"):
        with session.begin_nested():
            session.execute(text("UPDATE audit_log SET action = 'forged'"))
    with pytest.raises(DBAPIError, match="append-only"):
        with session.begin_nested():
            session.execute(text("DELETE FROM audit_log"))


def test_reading_needs_the_audit_permission_and_is_scoped(session: Session) -> None:
    audit.record(session, Actor.system(), "a", "t", region_code="36")
    audit.record(session, Actor.system(), "b", "t", region_code="68")
    session.flush()
    operator = actor_for(session, make_user(session, Role.operator, ["68"]))
    with pytest.raises(Forbidden):
        audit.list_entries(session, operator)
    admin = actor_for(session, make_user(session, Role.admin, ["68"]))
    regions = {e.region_code for e in audit.list_entries(session, admin, limit=1000)}
    assert regions == {"68"}
    everything = audit.list_entries(session, Actor.system(), limit=1000)
    assert {"36", "68"} <= {e.region_code for e in everything}
