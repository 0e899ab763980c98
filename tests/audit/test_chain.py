"""The tamper-evident audit log: ``otklik audit verify`` catches an edited, a deleted, an
inserted and a copied entry and a cut tail — even when the attacker had the database and
dropped the append-only triggers first (SQLite and PostgreSQL, a database of its own)."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from tests.conftest import jobs_database, own_database
from typer.testing import CliRunner

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.audit.chain import entry_mac, seal, verify
from otklik.cli import app
from otklik.models.audit import AuditEntry, AuditSeal

own_url = own_database("audit_chain")
runner = CliRunner()


@pytest.fixture
def db(own_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    with jobs_database(own_url, monkeypatch) as engine:
        _as_attacker(engine, "DELETE FROM audit_seal")
        _as_attacker(engine, "DELETE FROM audit_log")
        yield engine


def _as_attacker(engine: Engine, *statements: str) -> None:
    """Drop the append-only triggers, run the statements, and put the triggers back (the
    attacker hides their tracks)."""
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as connection:
        if postgres:
            connection.execute(text("ALTER TABLE audit_log DISABLE TRIGGER USER"))
            connection.execute(text("ALTER TABLE audit_seal DISABLE TRIGGER USER"))
        else:
            for table in ("audit_log", "audit_seal"):
                for verb in ("update", "delete"):
                    connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{verb}"))
        for statement in statements:
            connection.execute(text(statement))
        if postgres:
            connection.execute(text("ALTER TABLE audit_log ENABLE TRIGGER USER"))
            connection.execute(text("ALTER TABLE audit_seal ENABLE TRIGGER USER"))
        else:
            for table in ("audit_log", "audit_seal"):
                for verb in ("UPDATE", "DELETE"):
                    connection.execute(text(
                        f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                        "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"))


def _write(engine: Engine, n: int) -> list[int]:
    ids = []
    with Session(engine) as session:
        for i in range(n):
            entry = audit.record(session, Actor(label=f"оператор {i}", user_id=None,
                                                ip="10.0.0.1"),
                                 "case.route", "case", 100 + i, region_code="68",
                                 details={"to": "executor", "n": i, "nested": {"k": [1, 2]}})
            session.flush()
            ids.append(entry.id)
        session.commit()
    return ids


def _verify(*args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = runner.invoke(app, ["audit", "verify", "--json", *args])
    return result.exit_code, json.loads(result.output)


def test_a_whole_log_verifies_and_the_sealer_is_idempotent(db: Engine) -> None:
    _write(db, 12)
    code, verdict = _verify()
    assert code == 0, verdict
    assert verdict["ok"] and verdict["sealed"] == verdict["entries"] == 12
    with Session(db) as session:
        assert seal(session) == 0  # nothing new: nothing sealed twice
        session.commit()
        assert session.scalar(select(func.count(AuditSeal.seq))) == 12
    _write(db, 3)
    code, verdict = _verify()
    assert code == 0 and verdict["sealed"] == 15


def test_an_edited_entry_is_named(db: Engine) -> None:
    ids = _write(db, 10)
    assert _verify()[0] == 0
    _as_attacker(db, f"UPDATE audit_log SET actor = 'никто' WHERE id = {ids[4]}")
    code, verdict = _verify()
    assert code == 1
    assert verdict["first_broken_entry"] == ids[4]
    assert any("was edited" in p for p in verdict["problems"])


def test_a_deleted_entry_is_named_even_with_its_seal_deleted(db: Engine) -> None:
    ids = _write(db, 10)
    assert _verify()[0] == 0
    _as_attacker(db, f"DELETE FROM audit_log WHERE id = {ids[3]}")
    code, verdict = _verify()
    assert code == 1 and verdict["first_broken_entry"] == ids[3]
    assert any("deleted" in p for p in verdict["problems"])
    # deleting the seal too leaves a gap in the chain
    _as_attacker(db, f"DELETE FROM audit_seal WHERE entry_id = {ids[3]}")
    code, verdict = _verify()
    assert code == 1 and verdict["first_broken_entry"] == ids[4]
    assert any("missing" in p for p in verdict["problems"])


def test_an_inserted_entry_is_named_even_with_a_plausible_mac(db: Engine) -> None:
    ids = _write(db, 5)
    assert _verify()[0] == 0
    forged = {"at": "2026-12-06 06:00:00", "actor": "администратор", "action": "case.close",
              "object_type": "case", "object_id": "101", "region_code": "68",
              "details": "{}", "ip": "10.0.0.1", "nonce": "0" * 32}
    wrong_key_mac = entry_mac({**forged, "details": {}}, key=b"guessed key")
    _as_attacker(db, "INSERT INTO audit_log (at, actor, action, object_type, object_id, "
                     "region_code, details, ip, nonce, mac) VALUES ('2026-12-06 06:00:00', "
                     "'администратор', 'case.close', 'case', '101', '68', '{}', '10.0.0.1', "
                     f"'{'0' * 32}', '{wrong_key_mac}')")
    code, verdict = _verify()
    assert code == 1
    with Session(db) as session:
        inserted = session.scalar(select(func.max(AuditEntry.id)))
    assert inserted not in ids and verdict["first_broken_entry"] == inserted
    assert any("no valid MAC" in p for p in verdict["problems"])
    with Session(db) as session:  # and the sealer never chained it
        assert session.scalar(select(AuditSeal.seq).where(AuditSeal.entry_id == inserted)) \
            is None


def test_a_copied_entry_and_a_cut_tail_are_named(db: Engine) -> None:
    ids = _write(db, 6)
    code, verdict = _verify()
    head = verdict["head"]
    columns = "at, actor_id, actor, action, object_type, object_id, region_code, details, ip, " \
              "nonce"
    # a copy of a real entry carries a valid MAC: the unique index is dropped first
    _as_attacker(db, "DROP INDEX uq_audit_log_mac",
                 f"INSERT INTO audit_log ({columns}, mac) SELECT {columns}, mac FROM audit_log "
                 f"WHERE id = {ids[2]}")
    code, verdict = _verify()
    assert code == 1 and any("copied row" in p for p in verdict["problems"])
    # the last two entries and their seals cut off: only the head kept outside shows it
    _as_attacker(db, f"DELETE FROM audit_log WHERE id > {ids[3]}",
                 f"DELETE FROM audit_seal WHERE entry_id > {ids[3]}")
    code, verdict = _verify()
    assert code == 0  # the rest is a whole chain …
    code, verdict = _verify("--head", head)
    assert code == 1  # … shorter than the head written down before
    assert any("tail was cut" in p for p in verdict["problems"])


def test_verify_reads_its_head_option_strictly() -> None:
    result = runner.invoke(app, ["audit", "verify", "--head", "12"])
    assert result.exit_code != 0 and "SEQ:HASH" in result.output


def test_every_entry_of_the_service_gets_a_mac(db: Engine) -> None:
    _write(db, 2)
    with Session(db) as session:
        entries = session.scalars(select(AuditEntry)).all()
        assert all(e.mac and len(e.mac) == 64 and e.nonce for e in entries)
        assert len({e.mac for e in entries}) == 2
        assert verify(session).unsealed == 2


def test_details_json_has_no_form_for_verify_as_the_column_gives_them_back(db: Engine) -> None:
    """Details JSON cannot hold as given (NaN, a NUL inside a nested value, a date, a
    tuple, a number key) are MAC'd as the JSON column gives them back, so the entry
    verifies."""
    from datetime import UTC, datetime

    with Session(db) as session:
        entry = audit.record(session, Actor(label="оператор", user_id=None, ip=None),
                             "case.route", "case", 7, details={
                                 "score": float("nan"), "nested": {"t": "a\x00b", 3: (1, 2)},
                                 "at": datetime(2026, 12, 7, tzinfo=UTC)})
        session.commit()
        assert entry is not None
        stored = session.get(AuditEntry, entry.id)
        assert stored is not None and stored.details["score"] is None
        assert stored.details["nested"]["3"] == [1, 2]
    code, verdict = _verify()
    assert code == 0 and verdict["ok"], verdict


def test_a_round_of_seals_costs_the_same_few_statements_whatever_its_size(db: Engine) -> None:
    """The entries are read in one query and their seals written in one (executemany)
    INSERT, in id order and chained, however many there are; a round with a broken entry
    leaves it out and chains the rest."""
    from sqlalchemy import event

    _write(db, 5)
    statements: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        statements.append(statement)

    def sealed_now() -> int:
        statements.clear()
        event.listen(db, "before_cursor_execute", count)
        try:
            with Session(db) as session:
                done = seal(session)
                session.commit()
        finally:
            event.remove(db, "before_cursor_execute", count)
        return done

    assert sealed_now() == 5
    few = len(statements)
    assert few <= 4  # the lock (PostgreSQL), the head, the entries, the seals
    ids = _write(db, 60)
    _as_attacker(db, f"UPDATE audit_log SET actor = 'x' WHERE id = {ids[7]}")
    assert sealed_now() == 59 and len(statements) == few
    with Session(db) as session:
        seals = session.scalars(select(AuditSeal).order_by(AuditSeal.seq)).all()
        assert [s.entry_id for s in seals] == sorted(s.entry_id for s in seals)
        assert ids[7] not in {s.entry_id for s in seals} and len(seals) == 64
        assert all(s.sealed_at is not None for s in seals)
        verdict = verify(session)
    assert verdict.sealed == 64 and verdict.problems == [
        f"entry {ids[7]} has no valid MAC: inserted or edited outside Otklik"]


def test_one_sealer_at_a_time_the_second_waits_for_the_first(db: Engine) -> None:
    """Two sealers at once (the embedded queue's threads, several workers) read the same
    head: the second failed on its ``seq`` and was retried. Now a sealer takes the sealers'
    lock before it reads anything, and a second waits until the first's transaction ends
    (here it gives up after 0.2 s) — even while the first has written nothing yet."""
    _write(db, 3)
    with Session(db) as session:
        assert seal(session) == 3
        session.commit()
    with Session(db) as first, db.connect() as other:
        assert seal(first) == 0  # nothing new: it read the head and holds the lock
        if db.dialect.name == "postgresql":
            other.execute(text("SET lock_timeout = '200ms'"))
        else:
            other.exec_driver_sql("PRAGMA busy_timeout = 200")
        with Session(bind=other) as second, pytest.raises(OperationalError):
            seal(second)
        first.commit()
    _write(db, 2)
    with Session(db) as after:
        assert seal(after) == 2
        after.commit()
        assert [s for s, in after.execute(select(AuditSeal.seq).order_by(AuditSeal.seq))] == [
            1, 2, 3, 4, 5]
    assert _verify()[0] == 0
