"""The demo's 90 days of work: the generated stream becomes cases, routed, answered on time
and late, clarified, extended, reopened, rejected and grouped into problems.

Every step goes through the real services at the simulated moment (``simulated_now``), so
histories, deadlines and the audit log look like a center's real quarter. Deterministic for
a seed. Steps planned after "now" do not happen: those cases are open now, some overdue.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Collection, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.audit.actor import Actor
from otklik.cases import answers, publishing, service
from otklik.cases.builder import build_cases
from otklik.cases.repository import CaseRepository
from otklik.db import appends
from otklik.db.base import simulated_now, utcnow
from otklik.db.session import session_scope
from otklik.demo.simulation_texts import (
    BRUSH_OFFS,
    CLARIFICATIONS,
    GENERIC,
    GOOD,
    HANDBACK_REASONS,
)
from otklik.errors import OtklikError
from otklik.models.account import User
from otklik.models.case import Answer, Case, CaseStatus
from otklik.models.message import Message
from otklik.models.organization import OrganizationKind
from otklik.organizations.repository import OrganizationRepository

Progress = Callable[[int], None]
MONTHS = ["января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
          "сентября", "октября", "ноября", "декабря"]


def _ru_date(moment: datetime) -> str:
    return f"{moment.day} {MONTHS[moment.month - 1]} {moment.year} г."


@dataclass
class Staff:
    """Who acts in a region: real demo users in Tambov, named roles elsewhere."""

    operator: Actor
    operator2: Actor
    curator: Actor


def _staff(session, region: str) -> Staff:  # type: ignore[no-untyped-def]
    users = {u.username: u for u in session.scalars(select(User).where(User.is_demo.is_(True)))}
    if region == "68" and "operator" in users:
        from otklik.accounts.service import actor_for

        operator = actor_for(session, users["operator"])
        curator = actor_for(session, users["curator"])
        return Staff(operator, Actor(label="Оператор ЦУР (дежурный)", scope=Scope.system()),
                     curator)
    return Staff(Actor(label=f"Оператор ЦУР {region}", scope=Scope.system()),
                 Actor(label=f"Старший оператор ЦУР {region}", scope=Scope.system()),
                 Actor(label=f"Куратор ЦУР {region}", scope=Scope.system()))


def _executor_actor(session, case: Case) -> Actor:  # type: ignore[no-untyped-def]
    users = session.scalars(select(User).where(User.is_demo.is_(True),
                                               User.organization_id == case.executor_id)).all()
    if users:
        from otklik.accounts.service import actor_for

        return actor_for(session, users[0])
    organization = OrganizationRepository(session).get(case.executor_id or -1)
    label = f"Исполнитель: {organization.name}" if organization else "Исполнитель"
    return Actor(label=label, scope=Scope.system())


#: Buckets are built in units of work of at least this many messages (a bucket is never
#: split): what building cases reads once per transaction (the routing rules and their
#: index, deadline policies, the calendar, the organizations and what they cover, the
#: rubricator) is then read once for many small buckets instead of once for each, and
#: commits are fewer; a page view or a login waits for one such unit at most.
GROUP_MESSAGES = 1_000


def build_all_cases(progress: Progress | None = None, bucket: timedelta = timedelta(hours=6),
                    since: datetime | None = None, group: int = GROUP_MESSAGES,
                    only: Sequence[int] | None = None) -> int:
    """Turn every enriched message (written from ``since`` on, when given: the archive
    before it gets no cases; only these messages, when given) into cases, at the time it
    arrived (in time buckets, each built and its problems assigned at its own simulated
    moment; several buckets, of ``group`` messages or more, in one transaction); returns
    how many cases exist."""
    query = select(Message.id, Message.created_at).order_by(Message.created_at, Message.id)
    if since is not None:
        query = query.where(Message.created_at >= since)
    if only is not None:
        query = query.where(Message.id.in_(only))
    with session_scope() as session:
        rows = session.execute(query).all()
    unit: list[tuple[datetime, list[int]]] = []
    held = 0  # messages in the unit so far
    for moment, ids in _buckets(rows, bucket):
        unit.append((moment, ids))
        held += len(ids)
        if held >= group:
            _build(unit, progress, held)
            unit, held = [], 0
    _build(unit, progress, held)
    with session_scope() as session:
        return session.scalar(select(func.count(Case.id))) or 0


#: How long after its approval the demo publishes an answer (the publishing job's lag).
PUBLISH_LAG = timedelta(minutes=2)
#: Answers published in one unit of work.
PUBLISH_CHUNK = 200


def approved_unpublished() -> list[int]:
    """The answers approved and not published yet, in the order they were approved."""
    with session_scope() as session:
        return list(session.scalars(
            select(Answer.id).where(Answer.status == "approved", Answer.published_at.is_(None))
            .order_by(Answer.approved_at, Answer.id)))


def publish_approved(answer_ids: Sequence[int], progress: Progress | None = None) -> int:
    """Publish these approved answers (what a load approved outside a case's life), in
    units of work of :data:`PUBLISH_CHUNK`; see :func:`publish_in`. Returns answers
    published."""
    published = 0
    for start in range(0, len(answer_ids), PUBLISH_CHUNK):
        chunk = answer_ids[start:start + PUBLISH_CHUNK]
        with session_scope() as session:
            published += publish_in(session, Answer.id.in_(chunk))
        if progress:
            progress(len(chunk))
    return published


def publish_in(session: Session, which: Any, now: datetime | None = None) -> int:
    """Publish the approved, unpublished answers ``which`` selects, each through the real
    publishing service at the moment its job would have run: just after its approval, never
    after now (all in one call, each at its own moment). Returns answers published.

    Approving queues the publishing job after commit, and the demo plays three months of
    work in minutes: left to the job, an answer approved in September would be published
    today (with the in-process worker) or never (``--load-only``: the queue dies with the
    process, and ``otklik check`` counts it in ``publications_pending``). Published in the
    unit of work that approved it, the job finds it done. The demo's messages come from no
    configured connector: each reply is recorded as ``no_channel``, as for a file import."""
    now = now or utcnow()
    # the answers held here: publishing marks these very objects (the session holds an
    # unchanged object only while something else does), so they are counted without a
    # query each
    held = session.scalars(select(Answer).where(
        Answer.status == "approved", Answer.published_at.is_(None), which)
        .order_by(Answer.approved_at, Answer.id)).all()
    if not held:
        return 0
    at = {answer.id: min(answer.approved_at + PUBLISH_LAG, now) if answer.approved_at
          else now for answer in held}
    publishing.publish_many(session, list(at), at=at)
    return sum(1 for answer in held if answer.published_at)


def _buckets(rows: Sequence[Any], bucket: timedelta) -> Iterator[tuple[datetime, list[int]]]:
    """The messages (id, created_at, in time order) in buckets of ``bucket`` from the first
    message of each, with the bucket's end: the moment its cases are built at."""
    batch: list[int] = []
    bucket_end: datetime | None = None
    for message_id, created_at in rows:
        if bucket_end is None or created_at >= bucket_end:
            if batch and bucket_end is not None:
                yield bucket_end, batch
            batch = []
            bucket_end = created_at + bucket
        batch.append(message_id)
    if batch and bucket_end is not None:
        yield bucket_end, batch


def _build(unit: Sequence[tuple[datetime, list[int]]], progress: Progress | None,
           messages: int) -> None:
    """Build these buckets' cases and problems in one transaction, each bucket at its own
    moment: its rows are flushed at that moment, so their times are its own, as when each
    bucket had its own transaction, its interim answers published after it (each at its
    own moment). ``messages``: how many the unit holds (for progress)."""
    from otklik.cases.problems import assign_problems

    if not unit:
        return
    with session_scope() as session:
        for moment, ids in unit:
            with simulated_now(min(moment, utcnow())):
                built = build_cases(session, Actor.system("intake"), ids)
                assign_problems(session, built)
                session.flush()
            # the bucket's interim answers, before the next bucket adds messages to its
            # cases (an answer goes to the messages its case holds when it is published)
            publish_in(session, Answer.case_id.in_(built))
            # ids reserved and not used stay gaps, as when the bucket's transaction ended
            # with it: the next bucket's cases get the numbers (read by residents in their
            # interim answers) they got one bucket per transaction
            CaseRepository(session).release_reserved()
    if progress:
        progress(messages)


#: Cases whose lives are played in one unit of work (its answers published at the unit's
#: end, each at its moment; its history and audit rows written together): what a transaction
#: reads once (the reference rows, whether a webhook listens) is read once for many lives,
#: and commits are fewer; a page view or a login waits for one such unit at most (about a
#: second on two busy cores).
WORK_GROUP = 50


def simulate_work(seed: int = 42, progress: Progress | None = None,
                  left: Collection[int] = (),
                  handover: Callable[[], object] | None = None,
                  group: int = WORK_GROUP) -> int:
    """Play each case's life forward from its arrival up to now (``group`` cases' lives in
    one transaction); the ``left`` cases only until their executor accepts them: someone
    else answers them (an emergency's HQ, whose work ``handover`` does before the SLA's
    daily ticks look for overdue cases). Returns cases touched."""
    now = utcnow()
    left = frozenset(left)
    with session_scope() as session:
        ids = list(session.scalars(select(Case.id).order_by(Case.received_at, Case.id)))
    rng = random.Random(seed)
    cast = _Cast()
    for start in range(0, len(ids), group):
        unit = ids[start:start + group]
        with session_scope() as session, _playing(session):
            cases = {case.id: case for case in CaseRepository(session).many(unit)}
            for case_id in unit:
                plan_rng = random.Random(rng.random())
                _Life(session, cases[case_id], plan_rng, now, cast,
                      left=case_id in left).live()
            publish_in(session, Answer.case_id.in_(unit), now)
        if progress:
            progress(len(unit))
    if handover is not None:
        handover()
    _daily_ticks(now)
    return len(ids)


class _Cast:
    """Who acts in the lives, looked up once for the whole simulation (the demo's users do
    not change while it plays): each region's staff, each organization's executor."""

    def __init__(self) -> None:
        self.staff: dict[str, Staff] = {}
        self.executors: dict[int | None, Actor] = {}

    def staff_of(self, session: Session, region: str) -> Staff:
        if region not in self.staff:
            self.staff[region] = _staff(session, region)
        return self.staff[region]

    def executor_of(self, session: Session, case: Case) -> Actor:
        if case.executor_id not in self.executors:
            self.executors[case.executor_id] = _executor_actor(session, case)
        return self.executors[case.executor_id]


@contextmanager
def _playing(session: Session) -> Iterator[None]:
    """Lives are played in ``session`` within the block: their history and audit rows go out
    in a few statements (one per table each time a step reads the history, a SAVEPOINT
    begins, and at the commit), and its flushes are counted (:meth:`_Life.step`)."""
    event.listen(session, "before_flush", _count_flush)
    try:
        with appends.appending(session, copy=True, lazy=True):
            yield
    finally:
        event.remove(session, "before_flush", _count_flush)


#: Where the session keeps how many of its flushes had something to write.
_FLUSHES = "otklik_demo_flushes"


def _count_flush(session: Session, *_: Any) -> None:
    """Count the session's flushes that had something to write (a step checks that it wrote
    nothing before it failed)."""
    session.info[_FLUSHES] = session.info.get(_FLUSHES, 0) + 1


class _Life:
    """One case's plausible life, played in its unit of work, step by step."""

    def __init__(self, session, case: Case, rng: random.Random, now: datetime,  # type: ignore[no-untyped-def]
                 cast: _Cast, left: bool = False) -> None:
        # the unit's cases are read in one query and the session's object is the same
        # through the whole life: not looked up at every step
        self.session, self.case, self.rng, self.now = session, case, rng, now
        self.cast, self.left = cast, left
        self.staff: Staff | None = None

    def executor(self) -> Actor:
        """Who acts for the case's current executor (looked up once per organization)."""
        return self.cast.executor_of(self.session, self.case)

    def step(self, moment: datetime, action: Callable[[], object], *,
             atomic: bool = False) -> bool:
        """Do ``action`` at ``moment`` if that moment has passed; False stops the story.

        A step that is not possible for this case (an :class:`OtklikError`) simply does not
        happen: nothing of it is stored. The services find that out before they write (they
        check, then change the case and record it), so a step runs in the unit's transaction
        as it is, and one that failed is checked to have written nothing (else the demo
        stops: such a step must be ``atomic``). An ``atomic`` step can fail after writing
        (an extension requested, then decided) and runs in a SAVEPOINT. Each step's changes
        are flushed at its moment, before and after it, as its SAVEPOINT did (new rows get
        their times then)."""
        if moment >= self.now:
            return False
        session = self.session
        with simulated_now(moment):
            if atomic:
                try:
                    with session.begin_nested():
                        action()
                except OtklikError:
                    return False
                return True
            session.flush()
            before = (appends.appended(session), session.info.get(_FLUSHES))
            try:
                action()
            except OtklikError as error:
                if (before != (appends.appended(session), session.info.get(_FLUSHES))
                        or session.new or session.dirty or session.deleted):
                    raise RuntimeError(f"case {self.case.id}: a step failed after it wrote "
                                       f"({error}); it must be atomic") from error
                return False
            session.flush()
        return True

    def live(self) -> None:
        case, rng = self.case, self.rng
        if case.status not in (CaseStatus.triage, CaseStatus.routed):
            return
        received = case.received_at
        self.staff = staff = self.cast.staff_of(self.session, case.region_code or "")
        t = received + timedelta(minutes=rng.randint(20, 300))
        if case.status == CaseStatus.triage:
            if self.now - received < timedelta(days=1) and rng.random() < 0.5:
                return  # today's triage queue is not empty
            if rng.random() < 0.06 or not case.topic:
                reason = rng.choice(["not_for_authorities", "duplicate", "no_content"])
                self.step(t, lambda: service.reject(self.session, staff.operator, self.case,
                                                    reason))
                return
            executor = _fallback_executor(self.session, case)
            if executor is None or not self.step(t, lambda: service.route(
                    self.session, staff.operator, self.case, executor)):
                return
        t += timedelta(hours=rng.uniform(0.5, 20))
        if not self.step(t, lambda: service.accept(self.session, self.executor(), self.case)):
            return
        if self.left:
            return  # accepted; the answer is someone else's
        if rng.random() < 0.04 and not self.handback(t):
            return
        if rng.random() < 0.08:
            t += timedelta(hours=rng.uniform(2, 30))
            question = rng.choice(CLARIFICATIONS)
            if not self.step(t, lambda: service.request_clarification(
                    self.session, self.executor(), self.case, question)):
                return
            if rng.random() < 0.3:
                return  # the resident never answers: the window closes the case
            t += timedelta(hours=rng.uniform(3, 60))
            if not self.step(t, lambda: service.resident_replied(
                    self.session, Actor.system("intake"), self.case)):
                return
        due = self.case.resolution_due or (t + timedelta(days=10))
        if rng.random() < 0.05:
            t += timedelta(hours=rng.uniform(4, 48))
            until = due + timedelta(days=rng.randint(5, 20))
            if not self.step(t, lambda: self.extend(until), atomic=True):
                return
            due = self.case.resolution_due or until
        span = max(due - received, timedelta(hours=4))
        t = max(t + timedelta(hours=1), received + span * rng.uniform(0.25, 1.6))
        self.answer_cycle(t)

    def handback(self, t: datetime) -> bool:
        reason = self.rng.choice(HANDBACK_REASONS)
        t += timedelta(hours=self.rng.uniform(1, 8))
        if not self.step(t, lambda: service.handback(self.session, self.executor(), self.case,
                                                     reason)):
            return False
        t += timedelta(hours=self.rng.uniform(1, 6))
        if not self.step(t, self.reroute):
            return False
        t += timedelta(hours=self.rng.uniform(1, 6))
        return self.step(t, lambda: service.accept(self.session, self.executor(), self.case))

    def answer_cycle(self, t: datetime) -> None:
        rng, staff = self.rng, self.staff
        assert staff is not None
        brush_off = rng.random() < 0.12
        text = self.answer_text(t, brush_off)
        if not self.step(t, lambda: answers.draft(self.session, self.executor(), self.case,
                                                  text)):
            return
        if not self.step(t + timedelta(minutes=5), lambda: answers.submit(
                self.session, self.executor(), self.case)):
            return
        t += timedelta(hours=rng.uniform(0.5, 6))
        if brush_off and rng.random() < 0.7:
            if not self.step(t, lambda: answers.return_answer(
                    self.session, staff.operator, self.case,
                    "Нет конкретных действий и срока — дополните ответ")):
                return
            t += timedelta(hours=rng.uniform(2, 24))
            better = self.answer_text(t, False)
            if not self.step(t, lambda: answers.draft(self.session, self.executor(), self.case,
                                                      better)):
                return
            if not self.step(t + timedelta(minutes=5), lambda: answers.submit(
                    self.session, self.executor(), self.case)):
                return
            t += timedelta(hours=rng.uniform(0.5, 6))
        if not self.step(t, lambda: answers.approve(self.session, staff.operator, self.case)):
            return
        roll = rng.random()
        if roll < 0.07:
            t += timedelta(days=rng.uniform(1, 6))
            if self.step(t, lambda: service.reopen(self.session, Actor.system("intake"),
                                                   self.case, "житель: «ничего не сделано»")):
                self.answer_cycle(t + timedelta(days=rng.uniform(1, 8)))
        elif roll < 0.6:
            t += timedelta(days=rng.uniform(1, 5))
            self.step(t, lambda: service.close(self.session, staff.operator, self.case))

    def extend(self, until: datetime) -> None:
        assert self.staff is not None
        extension = service.request_extension(self.session, self.executor(), self.case, until,
                                               "Требуется закупка материалов и подрядчик")
        service.decide_extension(self.session, self.staff.curator, extension.id,
                                 approve=self.rng.random() < 0.85)

    def reroute(self) -> None:
        assert self.staff is not None
        case = self.case
        avoid = next((e.details.get("from_executor") for e in reversed(
            CaseRepository(self.session).events(case.id)) if e.kind == "handback"), None)
        executor = _fallback_executor(self.session, case, avoid=avoid)
        if executor is None:
            raise OtklikError("nobody else covers this territory")
        service.route(self.session, self.staff.operator, case, executor)

    def answer_text(self, t: datetime, brush_off: bool) -> str:
        if brush_off:
            return self.rng.choice(BRUSH_OFFS)
        case = self.case
        address = " ".join(p for p in (case.street, case.house) if p) or "указанному адресу"
        template = self.rng.choice(GOOD.get(case.topic or "", GENERIC))
        return template.format(address=address, date=_ru_date(t - timedelta(days=1)),
                               date2=_ru_date(t + timedelta(days=self.rng.randint(14, 120))))


def _fallback_executor(session, case: Case, avoid: int | None = None) -> int | None:  # type: ignore[no-untyped-def]
    """What an operator would pick: the municipality's administration, else a ministry."""
    from otklik.cases.routing import case_places

    organizations = OrganizationRepository(session)
    covering = organizations.covering(case_places(session, case))
    candidates, _ = organizations.page(Scope.system(), region_code=case.region_code,
                                       limit=1000)
    ordered = sorted(candidates, key=lambda o: (o.kind != OrganizationKind.municipal_admin,
                                                o.kind != OrganizationKind.ministry, o.id))
    for organization in ordered:
        if organization.id == avoid or organization.kind == OrganizationKind.management_center:
            continue
        if organization.id in covering:
            return organization.id
    return None


def _daily_ticks(now: datetime) -> None:
    """Run the SLA escalation once for each simulated day, then now."""
    with session_scope() as session:
        first = session.scalar(select(Case.received_at).order_by(Case.received_at).limit(1))
    if first is None:
        return
    day = first.replace(hour=9, minute=0, second=0, microsecond=0)
    while day < now:
        with simulated_now(day), session_scope() as session:
            service.escalate_due(session, Actor.system("sla"), now=day)
        day += timedelta(days=1)
    with session_scope() as session:
        service.escalate_due(session, Actor.system("sla"), now=now)
