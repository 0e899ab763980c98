"""The demo's cases built several 6-hour buckets per transaction are the cases built one
bucket per transaction (as the demo did before): the same messages in the same cases, the
same regions, topics, executors, times and deadlines, the same histories, answers, audit
entries and problems. Only surrogate ids may differ (ids reserved and not used by a bucket
are gaps one way, used by the next bucket the other), and a case's ``version`` (the
optimistic lock's counter of the UPDATEs its row saw: on PostgreSQL a query that the
transaction's caches answer no longer flushes a new case half-built, so it is inserted whole
instead of inserted and updated).

Likewise the simulated work with several cases' lives per transaction, their answers
published together (each at its own moment), their steps without a SAVEPOINT each (only a
step that can fail after writing has one) and their history and audit rows written together,
is the work played one life per transaction, each step in a SAVEPOINT, each row inserted on
its own and each answer published in a call of its own (as the demo did before): the same
statuses, times, histories, answers, publications, extensions and audit entries (in the
same order, sealed into a chain that verifies). The ``version`` differs here too, and for
the same reason: a unit of work reads the reference rows and whether a webhook listens
once, not once per case, so fewer of those reads flush a step's change of the case
half-done (one UPDATE of its row instead of two).
"""

from __future__ import annotations

import json
import shutil
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from itertools import groupby
from typing import Any

import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session
from tests.conftest import BACKENDS, POSTGRES_URL, migrated_database

from otklik.config import get_settings
from otklik.db.session import make_engine, reset_engine_cache
from otklik.models.audit import AuditEntry
from otklik.models.case import (
    Answer,
    Case,
    CaseEvent,
    CaseMessage,
    Extension,
    Problem,
    Publication,
)
from otklik.models.message import Message

MESSAGES = 500
#: Details naming rows by surrogate id (mapped or left out when compared).
_ID_KEYS = {"answer", "answer_id", "case_id", "problem_id", "extension_id"}


def _prepare(url: str, end: datetime) -> None:
    """The demo's reference data, its stream stored and enriched (no cases yet)."""
    from otklik.audit.actor import Actor
    from otklik.channels.files import RowResult
    from otklik.demo.routing import load_regions_for_cases
    from otklik.demo.stream import generate_stream
    from otklik.intake.importer import import_rows
    from otklik.intake.tasks import enrich_pending

    engine = make_engine(url)
    actor = Actor.system("tests")
    with Session(engine) as session:
        load_regions_for_cases(session, actor)
        session.commit()
    engine.dispose()
    rows = (RowResult(n, m) for n, m in enumerate(
        generate_stream(seed=7, total=MESSAGES, end=end), 1))
    import_rows(rows, enqueue=False)
    enrich_pending()


def _copy(url: str, backend: str, name: str, tmp: Any) -> str:
    """A copy of the prepared database (a file copy; PostgreSQL: a database made from it
    as a template)."""
    reset_engine_cache()
    if backend == "sqlite":
        target = tmp / f"{name}.db"
        source = make_url(url).database
        assert source
        shutil.copy(source, target)
        return f"sqlite:///{target.as_posix()}"
    assert POSTGRES_URL
    base = make_url(url)
    copy = f"{base.database}_{name}"
    admin = make_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{copy}" TEMPLATE "{base.database}"'))
    admin.dispose()
    return base.set(database=copy).render_as_string(hide_password=False)


def _drop(url: str, backend: str) -> None:
    reset_engine_cache()
    if backend == "postgresql":
        admin = make_engine(POSTGRES_URL or "", isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(
                f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)'))
        admin.dispose()


def _publish_one_by_one(session: Session, which: Any, now: datetime | None = None) -> int:
    """The demo's publishing before it published a unit's answers together (the reference):
    each answer in a call of its own, at its moment."""
    from otklik.cases import publishing
    from otklik.db.base import simulated_now, utcnow
    from otklik.demo.simulation import PUBLISH_LAG

    now = now or utcnow()
    rows = session.execute(select(Answer.id, Answer.approved_at).where(
        Answer.status == "approved", Answer.published_at.is_(None), which)
        .order_by(Answer.approved_at, Answer.id)).all()
    published = 0
    for answer_id, approved_at in rows:
        with simulated_now(min(approved_at + PUBLISH_LAG, now) if approved_at else now):
            published += not publishing.publish_many(session, [answer_id]).failed
    return published


def _use(url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OTKLIK_DATABASE_URL", url)
    get_settings.cache_clear()
    reset_engine_cache()


def _build(url: str, monkeypatch: pytest.MonkeyPatch, end: datetime, now: datetime,
           one_by_one: bool = False, **group: int) -> int:
    """The demo's case building on this database, with this process's problem index fresh
    (as in the process that loads the demo), run as if at ``now`` (a bucket that ends after
    it is built at ``now``: the builds compared must share that moment, or the last
    bucket's times are each build's own wall clock); ``one_by_one``: each answer published
    in a call of its own, as before."""
    from otklik.cases import problems
    from otklik.db.base import simulated_now
    from otklik.demo import simulation
    from otklik.demo.karelia import window_start
    from otklik.queue import broker

    _use(url, monkeypatch)
    if one_by_one:
        monkeypatch.setattr(simulation, "publish_in", _publish_one_by_one)
    monkeypatch.setattr(problems, "_index", None)
    problems._known.clear()
    done: list[int] = []
    with simulated_now(now):
        cases = simulation.build_all_cases(progress=done.append, since=window_start(end),
                                           **group)
    broker.flush_all()  # the jobs queued after the commits belong to no worker here
    monkeypatch.undo()
    assert sum(done) > 0
    return cases


def _simulate(url: str, monkeypatch: pytest.MonkeyPatch, now: datetime, left: set[int],
              one_by_one: bool = False, **group: int) -> int:
    """The demo's simulated work on this database as if at ``now``; ``one_by_one``: as the
    demo played it before (each answer published in a call of its own, the staff and the
    executors looked up again for each case, each step in a SAVEPOINT, each history and
    audit row inserted on its own)."""
    from otklik.db.base import simulated_now
    from otklik.demo import simulation
    from otklik.errors import OtklikError
    from otklik.queue import broker

    class Uncast(simulation._Cast):
        def staff_of(self, session: Session, region: str) -> simulation.Staff:
            return simulation._staff(session, region)

        def executor_of(self, session: Session, case: Case) -> Any:
            return simulation._executor_actor(session, case)

    def step_in_savepoint(self: Any, moment: datetime, action: Callable[[], object], *,
                          atomic: bool = False) -> bool:
        if moment >= self.now:
            return False
        try:
            with simulated_now(moment), self.session.begin_nested():
                action()
        except OtklikError:
            return False
        return True

    _use(url, monkeypatch)
    if one_by_one:
        monkeypatch.setattr(simulation, "publish_in", _publish_one_by_one)
        monkeypatch.setattr(simulation, "_Cast", Uncast)
        monkeypatch.setattr(simulation._Life, "step", step_in_savepoint)
        monkeypatch.setattr(simulation.appends, "appending",
                            lambda session, **_: nullcontext())
    done: list[int] = []
    with simulated_now(now):
        cases = simulation.simulate_work(seed=5, progress=done.append, left=left, **group)
    broker.flush_all()
    monkeypatch.undo()
    assert sum(done) == cases
    return cases


def _snapshot(url: str) -> dict[str, Any]:
    """What the demo holds after building its cases, named by messages, not by ids."""
    engine = make_engine(url)
    with Session(engine) as session:
        message_key = {i: f"{source}:{source_id}" for i, source, source_id in session.execute(
            select(Message.id, Message.source, Message.source_id))}
        members: dict[int, list[tuple[str, bool, datetime]]] = {}
        for row in session.scalars(select(CaseMessage)):
            members.setdefault(row.case_id, []).append(
                (message_key[row.message_id], row.is_primary, row.added_at))
        case_key = {case_id: next(m for m, primary, _ in rows if primary)
                    for case_id, rows in members.items()}
        cases = {}
        problem_of: dict[int, list[str]] = {}
        for case in session.scalars(select(Case)):
            key = case_key[case.id]
            cases[key] = {
                "messages": sorted(members[case.id]),
                **{column: getattr(case, column) for column in (
                    "region_code", "status", "title", "topic", "subtopic", "kind", "urgency",
                    "source", "municipality_id", "settlement_id", "street", "house",
                    "executor_id", "routing", "received_at", "created_at", "updated_at",
                    "routed_at", "first_response_due", "resolution_due", "warn_at",
                    "first_response_at", "answered_at", "closed_at", "reopen_count",
                    "escalation_level")},
                "merged_into": case_key.get(case.merged_into_id or -1),
            }
            if case.problem_id is not None:
                problem_of.setdefault(case.problem_id, []).append(key)
        events = Counter(
            (case_key[e.case_id], e.kind, e.at, e.actor, e.from_status, e.to_status,
             json.dumps({k: message_key.get(v, v) if k == "message_id" else v
                         for k, v in e.details.items() if k not in _ID_KEYS}, sort_keys=True))
            for e in session.scalars(select(CaseEvent)))
        answer_key = {a.id: (case_key.get(a.case_id or -1), a.kind, a.text, a.created_at)
                      for a in session.scalars(select(Answer))}
        answers = Counter(
            (*answer_key[a.id], a.status, a.approved_at, a.published_at, a.moderation_comment,
             a.signature, json.dumps(a.quality, sort_keys=True))
            for a in session.scalars(select(Answer)))
        publications = Counter(
            (answer_key[p.answer_id], message_key[p.message_id], p.channel, p.status,
             p.attempts, p.published_at)
            for p in session.scalars(select(Publication)))
        extensions = Counter(
            (case_key[e.case_id], e.reason, e.requested_until, e.status, e.decided_at,
             e.created_at)
            for e in session.scalars(select(Extension)))
        problems = {
            tuple(sorted(problem_of.get(p.id, []))): (
                p.region_code, p.title, p.topic, p.subtopic, p.municipality_id,
                p.settlement_id, p.street, p.status, p.first_seen, p.last_seen, p.size,
                p.created_at)
            for p in session.scalars(select(Problem))}
        audit = Counter((a.action, a.object_type, a.at, a.actor, a.region_code)
                        for a in session.scalars(select(AuditEntry)))
        # the audit log in the order it is sealed (by id), each entry with its object and
        # details (ids of other rows left out): entries written together go out in the
        # order they were recorded, as one by one (the entries of one moment in any order:
        # the SLA's daily tick escalates its cases in the order the database returns them)
        entries = [(a.action, a.object_type,
                    case_key.get(int(a.object_id)) if a.object_type == "case" and a.object_id
                    else None, a.at, a.actor, a.actor_id, a.region_code,
                    json.dumps({k: message_key.get(v, v) if k == "message_id" else v
                                for k, v in a.details.items() if k not in _ID_KEYS},
                               sort_keys=True))
                   for a in session.scalars(select(AuditEntry).order_by(AuditEntry.id))]
        trail = [entry for _, same in groupby(entries, key=lambda entry: entry[3])
                 for entry in sorted(same, key=str)]
    engine.dispose()
    return {"cases": cases, "events": events, "answers": answers, "problems": problems,
            "audit": audit, "trail": trail, "publications": publications,
            "extensions": extensions}


def _sealed_and_verified(url: str) -> None:
    """The audit log of this database seals into its chain and verifies clean (as the
    sealing job after each commit and ``otklik audit verify`` do)."""
    from otklik.audit.chain import seal, verify

    engine = make_engine(url)
    with Session(engine) as session:
        while seal(session):
            pass
        session.commit()
        verdict = verify(session)
    engine.dispose()
    assert verdict.ok and verdict.unsealed == 0 and verdict.sealed, verdict.problems


@pytest.fixture(scope="module", params=BACKENDS)
def prepared(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
             ) -> Iterator[tuple[str, str, datetime, Any]]:
    from otklik.demo.stream import default_end
    from otklik.language import taxonomy_service

    mp = pytest.MonkeyPatch()
    # the stream ends at 09:00 UTC (noon in Moscow), the last one passed: which lives reach
    # which status by "now" depends on working hours, and a run near Moscow's midnight saw
    # only three statuses
    end = default_end().replace(hour=9)
    if end > datetime.now(UTC) - timedelta(hours=1):
        end -= timedelta(days=1)
    with migrated_database(request.param, tmp_path_factory, "cases") as url:
        mp.setenv("OTKLIK_DATABASE_URL", url)
        taxonomy_service._pipelines.clear()  # near-duplicates of other tests' databases
        get_settings.cache_clear()
        reset_engine_cache()
        _prepare(url, end)
        reset_engine_cache()
        yield url, request.param, end, tmp_path_factory.mktemp("copies")
        mp.undo()
        get_settings.cache_clear()
        reset_engine_cache()


def test_buckets_built_together_make_the_same_demo(
        prepared: tuple[str, str, datetime, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    url, backend, end, tmp = prepared
    made: dict[str, dict[str, Any]] = {}
    counts: dict[str, int] = {}
    now = end + timedelta(minutes=30)  # one moment for the three builds
    for name, one_by_one, group in (("one_bucket_each", True, {"group": 1}),
                                    ("several", False, {"group": 120}),
                                    ("default", False, {})):
        copy = _copy(url, backend, name, tmp)
        try:
            counts[name] = _build(copy, monkeypatch, end, now, one_by_one, **group)
            made[name] = _snapshot(copy)
        finally:
            _drop(copy, backend)
    reference = made["one_bucket_each"]
    assert counts["one_bucket_each"] == len(reference["cases"]) > 50
    assert reference["problems"] and any(len(cases) > 1 for cases in reference["problems"])
    assert any(len(case["messages"]) > 1 for case in reference["cases"].values())
    assert reference["publications"] and all(
        at is not None for *_, at in reference["publications"])
    for name in ("several", "default"):
        assert counts[name] == counts["one_bucket_each"]
        for part in ("cases", "events", "answers", "problems", "audit", "trail",
                     "publications"):
            assert made[name][part] == reference[part], (name, part, _differences(
                made[name][part], reference[part]))


def test_lives_played_together_make_the_same_demo(
        prepared: tuple[str, str, datetime, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    url, backend, end, tmp = prepared
    now = end + timedelta(minutes=30)  # one moment for the builds and the lives
    built = _copy(url, backend, "built", tmp)
    made: dict[str, dict[str, Any]] = {}
    counts: dict[str, int] = {}
    try:
        _build(built, monkeypatch, end, now)
        engine = make_engine(built)
        with Session(engine) as session:  # a few cases only accepted (an HQ answers them)
            left = set(list(session.scalars(select(Case.id).order_by(Case.id)))[::9])
        engine.dispose()
        for name, one_by_one, group in (("one_life_each", True, {"group": 1}),
                                        ("several", False, {"group": 7}),
                                        ("default", False, {})):
            copy = _copy(built, backend, name, tmp)
            try:
                counts[name] = _simulate(copy, monkeypatch, now, left, one_by_one, **group)
                made[name] = _snapshot(copy)
                _sealed_and_verified(copy)
            finally:
                _drop(copy, backend)
    finally:
        _drop(built, backend)
    reference = made["one_life_each"]
    statuses = Counter(case["status"] for case in reference["cases"].values())
    assert counts["one_life_each"] == len(reference["cases"]) > 50
    assert len(statuses) >= 4, statuses  # lives went different ways
    assert any(answer[1] == "final" and row[-1] for answer, *row in reference["publications"])
    assert reference["extensions"]
    for name in ("several", "default"):
        assert counts[name] == counts["one_life_each"]
        for part in ("cases", "events", "answers", "problems", "audit", "trail",
                     "publications", "extensions"):
            assert made[name][part] == reference[part], (name, part, _differences(
                made[name][part], reference[part]))


def _differences(got: Any, expected: Any) -> list[Any]:
    """A few of the differences, readable in a failure."""
    if isinstance(got, Counter):
        return [("more", list((got - expected).items())[:3]),
                ("fewer", list((expected - got).items())[:3])]
    if isinstance(got, list):
        first = next((n for n, (one, other) in enumerate(zip(got, expected, strict=False))
                      if one != other), min(len(got), len(expected)))
        return [(len(got), len(expected)), got[first:first + 2], expected[first:first + 2]]
    found: list[Any] = []
    for key in sorted(set(got) | set(expected), key=str):
        one, other = got.get(key), expected.get(key)
        if one != other:
            if isinstance(one, dict) and isinstance(other, dict):
                found.append((key, {f: (one.get(f), other.get(f)) for f in one
                                    if one.get(f) != other.get(f)}))
            else:
                found.append((key, one, other))
        if len(found) == 3:
            break
    return found
