"""``otklik scheduler``: one leader at a time across hosts (an advisory lock on PostgreSQL,
a file lock on SQLite), the due work sent by the leader only, and a leader that dies
hands over."""

from __future__ import annotations

from sqlalchemy import Engine

from otklik.db.session import make_engine
from otklik.upkeep.scheduler import LeaderLock, Periodic, run


def _engine(database_url: str) -> Engine:
    return make_engine(database_url)


def test_one_leader_at_a_time_and_a_released_lock_is_taken_over(database_url: str) -> None:
    engine, other_host = _engine(database_url), _engine(database_url)
    first, second = LeaderLock(engine), LeaderLock(other_host)
    try:
        assert first.try_acquire()
        assert first.try_acquire()  # still the leader on the next round
        assert not second.try_acquire()
        first.release()  # the leader's process ends: its connection (or file) closes
        assert second.try_acquire()
        assert not first.try_acquire()
    finally:
        first.release()
        second.release()
        engine.dispose()
        other_host.dispose()


def test_a_released_lock_is_free_at_once(database_url: str) -> None:
    """A leader that stops (``release``) frees the lock before it returns: the other host
    takes it over on its very next try, every time (closing the connection alone frees the
    lock only when the server has ended that session, a moment later)."""
    engine, other_host = _engine(database_url), _engine(database_url)
    hosts = [LeaderLock(engine), LeaderLock(other_host)]
    try:
        for round_ in range(20):
            leader, follower = hosts[round_ % 2], hosts[(round_ + 1) % 2]
            assert leader.try_acquire(), round_
            assert not follower.try_acquire(), round_
            leader.release()
    finally:
        for lock in hosts:
            lock.release()
        engine.dispose()
        other_host.dispose()


def test_only_the_leader_sends_the_due_work(database_url: str) -> None:
    engine = _engine(database_url)
    sent: list[str] = []
    clock = iter([0.0, 100.0, 400.0])

    work = [Periodic("tick", 300, lambda: sent.append("tick")),
            Periodic("rollups", 900, lambda: sent.append("rollups"))]
    leader = LeaderLock(_engine(database_url))
    try:
        assert leader.try_acquire()
        assert run(engine, work, once=True) == 0  # another scheduler leads: nothing sent
        assert sent == []
        leader.release()
        assert run(engine, work, once=True, clock=lambda: next(clock)) == 2
        assert sent == ["tick", "rollups"]
        # the next rounds send only what is due again (tick every 300 s, rollups every 900 s)
        assert run(engine, work, once=True, clock=lambda: next(clock)) == 0
        assert run(engine, work, once=True, clock=lambda: next(clock)) == 1
        assert sent == ["tick", "rollups", "tick"]
    finally:
        leader.release()
        engine.dispose()


def test_a_failing_send_is_tried_again_next_round(database_url: str) -> None:
    engine = _engine(database_url)
    attempts: list[int] = []

    def flaky() -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise ConnectionError("broker restarting")

    work = [Periodic("tick", 300, flaky)]
    try:
        assert run(engine, work, once=True, clock=lambda: 0.0) == 0
        assert run(engine, work, once=True, clock=lambda: 1.0) == 1  # not 300 s later
        assert len(attempts) == 2
    finally:
        engine.dispose()
