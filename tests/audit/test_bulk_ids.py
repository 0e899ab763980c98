"""History and audit entries a transaction appends get their ids ahead from the table's
sequence on PostgreSQL (``otklik.db.ids``): a batch's rows go out in one executemany of a
small INSERT without RETURNING, the ids follow the order the rows were added, and the log
still verifies. On SQLite the database gives the ids, as before."""

from __future__ import annotations

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.db import ids
from otklik.models.audit import AuditEntry


def _inserts(session: Session) -> tuple[list[tuple[str, bool]], object]:
    seen: list[tuple[str, bool]] = []

    def listen(_conn: object, _cursor: object, statement: str, _params: object,
               _context: object, executemany: bool) -> None:
        if statement.lstrip().upper().startswith(("INSERT INTO AUDIT_LOG", "COPY AUDIT_LOG")):
            seen.append((statement, executemany))

    event.listen(session.get_bind(), "before_cursor_execute", listen)
    return seen, listen


def test_a_batch_of_entries_goes_out_in_one_statement_in_the_order_added(
        session: Session) -> None:
    actor = Actor(label="пакет", user_id=None, ip=None)
    seen, listen = _inserts(session)
    try:
        entries = [audit.record(session, actor, "case.created", "case", 500 + i,
                                region_code="68", details={"n": i})
                   for i in range(ids.FIRST_CHUNK * 3)]  # more than one chunk of ids
        session.flush()
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listen)
    stored = session.scalars(select(AuditEntry).where(
        AuditEntry.id.in_([e.id for e in entries])).order_by(AuditEntry.id)).all()
    assert [e.details["n"] for e in stored] == list(range(len(entries)))  # order kept
    assert len(stored) == len(entries)
    if session.get_bind().dialect.name == "postgresql":
        assert len(seen) == 1 and seen[0][1] and "RETURNING" not in seen[0][0].upper()


def test_ids_taken_are_forgotten_with_the_transaction(session: Session) -> None:
    """A rolled-back SAVEPOINT drops the ids it had taken (gaps, as a rollback leaves), and
    the entries after it still get increasing ids."""
    actor = Actor(label="откат", user_id=None, ip=None)
    first = audit.record(session, actor, "case.created", "case", 1)
    savepoint = session.begin_nested()
    audit.record(session, actor, "case.created", "case", 2)
    savepoint.rollback()
    after = audit.record(session, actor, "case.created", "case", 3)
    session.flush()
    assert first.id is not None and after.id is not None and after.id > first.id
    if session.get_bind().dialect.name == "postgresql":
        assert ids._POOL_KEY not in session.info or all(
            pool_ids == [] or min(pool_ids) > after.id
            for pool_ids, _ in session.info[ids._POOL_KEY].values())


def test_ids_taken_outlive_a_released_savepoint_and_end_with_the_transaction(
        session: Session) -> None:
    """A released SAVEPOINT is not the transaction's end: the ids taken stay for the next
    rows (no new ``nextval`` round trip); the real commit drops them."""
    actor = Actor(label="точка", user_id=None, ip=None)
    if session.get_bind().dialect.name != "postgresql":
        audit.record(session, actor, "case.created", "case", 1)
        session.flush()
        assert ids._POOL_KEY not in session.info  # SQLite: the database gives the ids
        return
    taken: list[str] = []

    def listen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if "nextval" in statement:
            taken.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", listen)
    try:
        with session.begin_nested():
            first = audit.record(session, actor, "case.created", "case", 1)
        second = audit.record(session, actor, "case.created", "case", 2)
        session.flush()
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listen)
    assert len(taken) == 1 and second.id == first.id + 1
    session.commit()
    assert ids._POOL_KEY not in session.info


def test_the_sealer_looks_each_entrys_mac_up_through_its_index(session: Session) -> None:
    """Whether an entry's MAC is sealed already is one look-up of ``ix_audit_seal_entry_mac``
    (migration 0030), not a read of every seal for every entry (SQLite) or of the whole
    table at every round (PostgreSQL)."""
    from tests.plans import plan_of

    from otklik.audit.chain import unsealed_query

    plan = plan_of(session.get_bind().engine, unsealed_query(100))
    text = "\n".join(plan)
    assert "ix_audit_seal_entry_mac" in text, text
    if session.get_bind().dialect.name == "sqlite":
        assert not any(line.startswith("SCAN audit_seal") for line in plan), text
