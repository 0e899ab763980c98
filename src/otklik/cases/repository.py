"""Every query of cases, their messages, events, answers, rules and policies."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import (
    ARRAY,
    BigInteger,
    ColumnElement,
    CursorResult,
    Integer,
    Select,
    Table,
    and_,
    bindparam,
    func,
    inspect,
    literal,
    or_,
    select,
    union,
    union_all,
    update,
)
from sqlalchemy import case as case_when
from sqlalchemy.orm import Session, defer
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError
from sqlalchemy.orm.util import identity_key

from otklik.accounts.scope import Scope
from otklik.cases.reference import ReferenceReads, rules_of
from otklik.db import appends
from otklik.db.base import utcnow
from otklik.db.ids import give_id
from otklik.db.lists import among
from otklik.db.session import forget_at_transaction_end
from otklik.models.account import Role, User
from otklik.models.case import (
    OPEN_STATUSES,
    Answer,
    CalendarExceptionRow,
    Case,
    CaseEvent,
    CaseMessage,
    CaseStatus,
    DeadlinePolicyRow,
    Extension,
    Problem,
    Publication,
    RoutingRule,
)
from otklik.models.message import Message, MessageEnrichment
from otklik.workspace.confidence import UNCERTAIN, case_confidence

_RESERVED_KEY = "otklik_case_reserved_ids"


def next_ids(session: Session, wanted: Sequence[tuple[str, int]]) -> list[tuple[str, int]]:
    """(table, id) for the next ids of each (table, count) wanted, from the tables' sequences
    in one query (PostgreSQL): each table's ids in the order its sequence gave them (UNION
    ALL keeps the parts' order), the tables one after another."""
    query = union_all(*(
        select(literal(table).label("t"),
               func.nextval(func.pg_get_serial_sequence(f'"{table}"', "id")).label("id"))
        .select_from(func.generate_series(1, n)) for table, n in wanted))
    return [(table, int(given)) for table, given in session.execute(query)]


def _reserved_id(session: Session, table: str) -> int | None:
    """The next id reserved for ``table`` in this transaction (:meth:`CaseRepository.
    reserve`), taken; None when none is left."""
    reserved = session.info.get(_RESERVED_KEY, {}).get(table)
    return reserved.pop(0) if reserved else None


def _add_with_id(session: Session, row: Any) -> Any:
    """Add a row and give it its id: a reserved one when the transaction has one left
    (:meth:`CaseRepository.reserve`), else by a flush."""
    session.add(row)
    reserved = _reserved_id(session, row.__tablename__) if row.id is None else None
    if reserved is not None:
        row.id = reserved
    else:
        session.flush()
    return row


def _forget_reserved(session: Session) -> None:
    session.info.pop(_RESERVED_KEY, None)


def _bigints(name: str, values: Sequence[int]) -> Any:
    return bindparam(name, list(values), type_=ARRAY(BigInteger))


def _ints(name: str, values: Sequence[int]) -> Any:
    return bindparam(name, list(values), type_=ARRAY(Integer))


#: The first key of the case builders' advisory locks (the second: the region's hash); the
#: two-number form, so it shares no key with the one-number locks (the audit sealer's).
BUILDING_LOCK = 0x6F746B63  # "otkc"


class CaseRepository(ReferenceReads):
    """Cases within a scope and everything hanging off them."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- cases -------------------------------------------------------------------------------

    def get(self, case_id: int) -> Case | None:
        """A case by id (no scope check: services do that)."""
        return self.session.get(Case, case_id)

    def add(self, case: Case) -> Case:
        """Insert a case and get its id (a reserved one: see :meth:`reserve`)."""
        return _add_with_id(self.session, case)

    def plan(self, values: dict[str, Any]) -> tuple[Case, bool]:
        """A new case of these values (its attributes), and True when it is planned: given a
        reserved id (:meth:`reserve`) and kept out of the session, inside
        :func:`otklik.db.appends.appending`; its row then goes out with the batch's appended
        rows once built (:meth:`add_planned`), with no ORM object to flush. A planned case
        is built without the ORM's constructor (its values put in place at once: the
        constructor's bookkeeping of each attribute set was a twentieth of opening a case,
        and it is never flushed). Otherwise (no id left, SQLite, outside a batch) it is
        built and added as :meth:`add` does, and False is returned."""
        reserved = (_reserved_id(self.session, Case.__tablename__)
                    if appends.active(self.session) else None)
        if reserved is None:
            return self.add(Case(**values)), False
        case: Case = inspect(Case).class_manager.new_instance()
        case.__dict__.update(values, id=reserved)
        return case, True

    def add_planned(self, row: Case | Answer) -> None:
        """Append the row of a planned case (:meth:`plan`), or of an answer of one, as it
        stands now (its id given ahead)."""
        appends.append(self.session, type(row), appends.values_of(row))

    def reserve(self, model: type[Case] | type[Answer] | type[Problem], count: int,
                *more: tuple[type[Case] | type[Answer] | type[Problem], int]) -> None:
        """Reserve ids for the next ``count`` rows of ``model`` (and of each of ``more``:
        (model, count) pairs) added here in this transaction, in one query (PostgreSQL's
        sequences): the rows then get their ids without a flush each and go to the database
        together, in one INSERT per table at the next flush. Elsewhere (SQLite) nothing is
        reserved and each row is flushed for its id as before. Ids reserved and not used
        are gaps, as after a rollback."""
        wanted = [(m.__tablename__, n) for m, n in ((model, count), *more) if n > 0]
        if not wanted or self.session.get_bind().dialect.name != "postgresql":
            return
        reserved: dict[str, list[int]] = self.session.info.setdefault(_RESERVED_KEY, {})
        for table, reserved_id in next_ids(self.session, wanted):
            reserved.setdefault(table, []).append(reserved_id)
        forget_at_transaction_end(self.session, _RESERVED_KEY)

    def release_reserved(self) -> None:
        """Give up the ids reserved and not used yet (they stay gaps, as at a commit): the
        next rows get new ones, as if this unit of work had ended here (the demo's load
        builds several time buckets in one transaction, each as if in its own)."""
        _forget_reserved(self.session)

    def unplaced_cases(self, case_ids: Sequence[int]) -> Sequence[Any]:
        """Those of these cases no problem holds and no operator pinned, oldest first (by
        received_at, id), as the columns problem clustering reads and the version it
        writes back with (plain rows: no case is loaded)."""
        return self.session.execute(
            select(Case.id, Case.version, Case.received_at, Case.topic, Case.subtopic,
                   Case.region_code, Case.municipality_id, Case.settlement_id, Case.street,
                   Case.house, Case.title)
            .where(Case.id.in_(sorted(set(case_ids))), Case.problem_id.is_(None),
                   Case.problem_pinned.is_not(True))
            .order_by(Case.received_at, Case.id)).all()

    def set_problems(self, placed: Sequence[tuple[int, int, int]]) -> None:
        """Put cases into problems (``(case id, its version as read, problem id)``) in one
        UPDATE, not one per case (the ORM sends a versioned row's UPDATE alone): on
        PostgreSQL one statement joined to the rows given as arrays (``unnest``), elsewhere
        one executemany. Each row still checks and bumps the case's ``version``, and a case
        changed meanwhile by someone else raises :class:`StaleDataError` as the ORM's flush
        would. The cases this session holds get the stored values without becoming dirty."""
        if not placed:
            return
        self.session.flush()  # pending changes of these cases first: their version moves
        table = cast(Table, Case.__table__)
        dialect = self.session.get_bind().dialect
        if dialect.name == "postgresql":
            rows = select(
                func.unnest(_bigints("case_ids", [c for c, _, _ in placed])).label("id"),
                func.unnest(_ints("seen", [v for _, v, _ in placed])).label("seen"),
                func.unnest(_bigints("problems", [p for _, _, p in placed])).label("problem"),
            ).subquery("placed")
            result = cast(CursorResult[Any], self.session.execute(
                table.update()
                .where(table.c.id == rows.c.id, table.c.version == rows.c.seen)
                .values(problem_id=rows.c.problem, version=rows.c.seen + 1)))
            counted = True
        else:
            result = cast(CursorResult[Any], self.session.execute(
                table.update()
                .where(table.c.id == bindparam("case_id"), table.c.version == bindparam("seen"))
                .values(problem_id=bindparam("problem"), version=bindparam("seen") + 1),
                [{"case_id": case_id, "seen": seen, "problem": problem_id}
                 for case_id, seen, problem_id in placed]))
            counted = dialect.supports_sane_multi_rowcount
        if counted and result.rowcount != len(placed):
            raise StaleDataError(
                f"UPDATE of case problems matched {result.rowcount} of {len(placed)} rows: "
                "a case was changed by someone else meanwhile")
        held = self.session.identity_map
        for case_id, seen, problem_id in placed:
            case = held.get(identity_key(Case, case_id))
            if case is None:
                continue
            expired = inspect(case).expired_attributes  # read afresh when next used
            for key, value in (("problem_id", problem_id), ("version", seen + 1)):
                if key not in expired:
                    set_committed_value(case, key, value)

    def many(self, case_ids: Sequence[int]) -> list[Case]:
        """These cases (those that exist), in one query."""
        return list(self.session.scalars(select(Case).where(Case.id.in_(sorted(set(case_ids))))))

    def scoped(self, scope: Scope) -> Select[Any]:
        """The base query of cases a scope may see (:meth:`Scope.case_filter`)."""
        return select(Case).where(scope.case_filter())

    def visible(self, scope: Scope, case_id: int) -> Case | None:
        """A case by id if the scope sees it."""
        return self.session.scalars(self.scoped(scope).where(Case.id == case_id)).first()

    def page(
        self,
        scope: Scope,
        *,
        statuses: Sequence[CaseStatus] | None = None,
        topic: str | None = None,
        executor_id: int | None = None,
        problem_id: int | None = None,
        overdue_at: datetime | None = None,
        region_code: str | None = None,
        limit: int = 50,
        offset: int = 0,
        sort: str = "deadline",
    ) -> tuple[Sequence[Case], int]:
        """A page of cases and the total: nearest deadline first, or with ``sort="uncertain"``
        the cases the machine was least sure about first (:mod:`otklik.workspace.confidence`)."""
        query = self.scoped(scope)
        if statuses:
            query = query.where(Case.status.in_(list(statuses)))
        if topic:
            query = query.where(Case.topic == topic)
        if executor_id is not None:
            query = query.where(Case.executor_id == executor_id)
        if problem_id is not None:
            query = query.where(Case.problem_id == problem_id)
        if region_code:
            query = query.where(Case.region_code == region_code)
        if overdue_at is not None:
            query = query.where(Case.status.in_(list(OPEN_STATUSES)),
                                Case.resolution_due < overdue_at)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        order = ((case_confidence().asc(), Case.id.asc()) if sort == UNCERTAIN
                 else (Case.resolution_due.asc().nulls_last(), Case.id.desc()))
        rows = self.session.scalars(query.order_by(*order).limit(limit).offset(offset)).all()
        return rows, total

    def count_by_status(self) -> dict[str, int]:
        """How many cases are in each status."""
        rows = self.session.execute(select(Case.status, func.count()).group_by(Case.status))
        return {status.value: count for status, count in rows}

    def count_overdue(self, now: datetime) -> int:
        """Open cases past a deadline now."""
        return self.session.scalar(
            select(func.count(Case.id)).where(
                Case.status.in_(list(OPEN_STATUSES)),
                or_(
                    Case.resolution_due < now,
                    and_(Case.first_response_at.is_(None), Case.first_response_due < now),
                ),
            )
        ) or 0

    def due_for_escalation(self, now: datetime, limit: int = 1000) -> Sequence[Case]:
        """Open, un-paused cases whose warning time or deadline has come."""
        active = [CaseStatus.routed, CaseStatus.in_work, CaseStatus.answer_drafted,
                  CaseStatus.on_moderation]
        return self.session.scalars(
            select(Case).where(
                Case.status.in_(active),
                Case.paused_since.is_(None),
                or_(
                    and_(Case.escalation_level == 0, Case.warn_at <= now),
                    and_(Case.escalation_level <= 1, Case.resolution_due <= now),
                    Case.escalation_level == 2,
                ),
            ).limit(limit)
        ).all()

    def clarifications_expired(self, now: datetime) -> Sequence[Case]:
        """Cases whose resident did not answer the clarification request in time."""
        return self.session.scalars(
            select(Case).where(Case.status == CaseStatus.clarification,
                               Case.clarification_due <= now)
        ).all()

    def assignable_users(self, case: Case) -> Sequence[User]:
        """Who may be given the case: active staff of its executor organization and the
        center's operators and curators who see its region; by name."""
        center = (Role.operator, Role.curator)
        conditions: builtins.list[ColumnElement[bool]] = [User.role.in_(center)]
        if case.executor_id is not None:
            conditions.append(and_(User.role == Role.executor,
                                   User.organization_id == case.executor_id))
        rows = self.session.scalars(
            select(User).where(User.is_active.is_(True), or_(*conditions))
            .order_by(User.full_name, User.username).limit(500)).all()
        return [u for u in rows if u.role not in center or u.all_regions
                or case.region_code in (u.region_codes or [])]

    # -- messages of cases ---------------------------------------------------------------------

    def add_message(self, case_id: int, message_id: int, primary: bool = False) -> None:
        """Attach a message to a case (in a batch: appended, :mod:`otklik.db.appends`)."""
        if not appends.append(self.session, CaseMessage, {
                "message_id": message_id, "case_id": case_id, "is_primary": primary,
                "added_at": utcnow()}):
            self.session.add(CaseMessage(case_id=case_id, message_id=message_id,
                                         is_primary=primary))

    def case_of_message(self, message_id: int) -> Case | None:
        """The case a message belongs to."""
        return self.session.scalar(
            select(Case).join(CaseMessage, CaseMessage.case_id == Case.id)
            .where(CaseMessage.message_id == message_id)
        )

    def cases_of_messages(self, message_ids: Sequence[int]) -> dict[int, Case]:
        """The case of each of these messages that is in one, in one query."""
        if not message_ids:
            return {}
        found: dict[int, Case] = {}
        for message_id, case in self.session.execute(
                select(CaseMessage.message_id, Case).join(Case, CaseMessage.case_id == Case.id)
                .where(among(self.session, CaseMessage.message_id, sorted(set(message_ids))))):
            found.setdefault(message_id, case)
        return found

    def messages(self, case_id: int) -> Sequence[Message]:
        """A case's messages, oldest first."""
        return self.session.scalars(
            select(Message).join(CaseMessage, CaseMessage.message_id == Message.id)
            .where(CaseMessage.case_id == case_id).order_by(Message.created_at, Message.id)
        ).all()

    def first_messages(self, case_ids: Sequence[int]
                       ) -> dict[int, tuple[Message, MessageEnrichment | None]]:
        """Each case's oldest message with its enrichment, in one query for many cases."""
        rows = self.session.execute(
            select(CaseMessage.case_id, Message, MessageEnrichment)
            .join(Message, CaseMessage.message_id == Message.id)
            .outerjoin(MessageEnrichment, MessageEnrichment.message_id == Message.id)
            .where(CaseMessage.case_id.in_(list(case_ids)))
            .options(defer(MessageEnrichment.result))
            .order_by(CaseMessage.case_id, Message.created_at, Message.id)
        ).all()
        first: dict[int, tuple[Message, MessageEnrichment | None]] = {}
        for case_id, message, enrichment in rows:
            first.setdefault(case_id, (message, enrichment))
        return first

    def first_texts(self, case_ids: Sequence[int]) -> dict[int, tuple[str, str | None]]:
        """Each case's oldest message's text and near-copy key (:meth:`first_messages`
        narrowed to the two columns problem clustering reads), in one query."""
        first: dict[int, tuple[str, str | None]] = {}
        if not case_ids:
            return first
        for case_id, text, dedup_key in self.session.execute(
                select(CaseMessage.case_id, Message.text, MessageEnrichment.dedup_key)
                .join(Message, CaseMessage.message_id == Message.id)
                .outerjoin(MessageEnrichment, MessageEnrichment.message_id == Message.id)
                .where(CaseMessage.case_id.in_(list(case_ids)))
                .order_by(CaseMessage.case_id, Message.created_at, Message.id)):
            first.setdefault(case_id, (text, dedup_key))
        return first

    def lock_building(self, message_ids: Sequence[int], *, their_cases: bool = False) -> None:
        """Wait until no other transaction builds cases in these messages' regions, and keep
        them to this one until it ends (PostgreSQL: an advisory lock per region, taken in one
        order, so two builders never wait for each other in a circle; SQLite has one writer
        anyway). Two batches building at once both place a comment, copy or thread that the
        other's messages reach (a post's waiting comments, an original's copies): one of them
        failed on the second ``case_message`` row and was redone seconds later by a retry, as
        were all its other cases. After the wait, this transaction reads what the other
        stored, so it skips it. Take it before reading which messages have cases, and once
        per transaction: ``their_cases`` adds the regions of the cases these messages are in
        (a re-enrichment's follow-up changes those cases, and a message may have moved to
        another region than its case's), all in the one order."""
        self._lock_regions(message_ids, (), their_cases=their_cases)

    def lock_cases_regions(self, case_ids: Sequence[int]) -> None:
        """:meth:`lock_building` for a job that changes these cases (problem assignment):
        it waits while a builder changes them (a follow-up joining one), instead of finding
        them changed after it read them and starting over."""
        self._lock_regions((), case_ids)

    def _lock_regions(self, message_ids: Sequence[int], case_ids: Sequence[int], *,
                      their_cases: bool = False) -> None:
        """The builders' lock of the region of each of these messages and cases (and of the
        messages' cases), in the regions' order (PostgreSQL; nothing elsewhere)."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        parts = [select(func.coalesce(model.region_code, "").label("region"))
                 .where(among(self.session, model.id, list(ids)))
                 for model, ids in ((Message, message_ids), (Case, case_ids)) if ids]
        if their_cases and message_ids:
            parts.append(select(func.coalesce(Case.region_code, "").label("region"))
                         .join(CaseMessage, CaseMessage.case_id == Case.id)
                         .where(among(self.session, CaseMessage.message_id, list(message_ids))))
        if not parts:
            return
        regions = (union(*parts) if len(parts) > 1 else parts[0].distinct()).subquery()
        ordered = select(regions.c.region).order_by(regions.c.region).subquery()
        self.session.execute(select(func.count(func.pg_advisory_xact_lock(
            literal(BUILDING_LOCK), func.hashtext(ordered.c.region)))))

    def message_ids_with_case(self, message_ids: Sequence[int]) -> set[int]:
        """Which of these messages are in a case already."""
        return set(self.session.scalars(
            select(CaseMessage.message_id).where(among(self.session, CaseMessage.message_id,
                                                       list(message_ids)))))

    def move_messages(self, from_case: int, to_case: int,
                      message_ids: Sequence[int] | None = None) -> int:
        """Move messages between cases (merge, split)."""
        query = select(CaseMessage).where(CaseMessage.case_id == from_case)
        if message_ids is not None:
            query = query.where(CaseMessage.message_id.in_(list(message_ids)))
        rows = self.session.scalars(query).all()
        for row in rows:
            row.case_id = to_case
            row.is_primary = False
        return len(rows)

    def enrichments(self, message_ids: Sequence[int]) -> dict[int, MessageEnrichment]:
        """What the language stages decided about these messages."""
        # without the whole record (``result``, read on access): its JSON was a tenth of
        # building a batch's cases
        rows = self.session.scalars(
            select(MessageEnrichment).where(among(self.session, MessageEnrichment.message_id,
                                                  list(message_ids)))
            .options(defer(MessageEnrichment.result))
        )
        return {r.message_id: r for r in rows}

    # -- history, answers, publications, extensions -------------------------------------------

    def add_event(self, event: CaseEvent) -> None:
        """Record a step of a case's history (its id taken ahead on PostgreSQL, so a batch's
        history goes out in one executemany: :mod:`otklik.db.ids`)."""
        give_id(self.session, event)
        self.session.add(event)

    def events(self, case_id: int) -> Sequence[CaseEvent]:
        """A case's history, oldest first."""
        return self.session.scalars(
            select(CaseEvent).where(CaseEvent.case_id == case_id).order_by(CaseEvent.id)
        ).all()

    def add_answer(self, answer: Answer) -> Answer:
        """Insert an answer and get its id (a reserved one: see :meth:`reserve`)."""
        return _add_with_id(self.session, answer)

    def add_planned_answer(self, values: dict[str, Any]) -> int:
        """Append the answer of a planned case (:meth:`plan`) with it, built from
        ``values`` (its attributes) with no ORM object (one per case a batch routes), its
        id reserved or taken ahead; returns the id."""
        reserved = _reserved_id(self.session, Answer.__tablename__)
        if reserved is None:
            answer = Answer(**values)
            give_id(self.session, answer)
            self.add_planned(answer)
            return answer.id
        appends.append(self.session, Answer, appends.row_of(Answer, {**values, "id": reserved}))
        return reserved

    def answers(self, case_id: int) -> Sequence[Answer]:
        """A case's answers, oldest first."""
        return self.session.scalars(
            select(Answer).where(Answer.case_id == case_id).order_by(Answer.id)
        ).all()

    def answer(self, answer_id: int) -> Answer | None:
        """An answer by id."""
        return self.session.get(Answer, answer_id)

    def recent_answers_of(self, organization_id: int, since: datetime
                          ) -> Sequence[tuple[Answer, int | None]]:
        """An organization's recent final answers with the problem each answered (its own,
        or its case's), for the mass-copy check — one query. Their quality reports (a JSON
        document each, which the check does not read) are left unloaded: every answer drafted
        reads up to 500 of them again."""
        rows = self.session.execute(
            select(Answer, func.coalesce(Answer.problem_id, Case.problem_id))
            .outerjoin(Case, Case.id == Answer.case_id)
            .where(Answer.organization_id == organization_id, Answer.kind == "final",
                   Answer.created_at >= since)
            .order_by(Answer.id.desc()).limit(500).options(defer(Answer.quality))
        ).all()
        return [(answer, problem) for answer, problem in rows]

    def publication(self, answer_id: int, message_id: int) -> Publication | None:
        """The publication of an answer under a message, if any."""
        return self.session.scalar(
            select(Publication).where(Publication.answer_id == answer_id,
                                      Publication.message_id == message_id)
        )

    def add_publications(self, rows: Sequence[Publication]) -> None:
        """Insert these publication rows, in their order, at the next flush; when none is
        pending (no reply to send: nothing reads them afterwards), at once and as plain
        rows (one COPY on PostgreSQL: :func:`otklik.db.appends.insert_rows`)."""
        if rows and all(row.status != "pending" for row in rows):
            appends.insert_rows(self.session.connection(), cast(Table, Publication.__table__),
                                [{name: value for name, value in appends.values_of(row).items()
                                  if name != "id"} for row in rows])  # the database's id
            return
        self.session.add_all(rows)

    def publications_of(self, answer_ids: Sequence[int]
                        ) -> dict[tuple[int, int], Publication]:
        """The publication rows of these answers by (answer id, message id), in one query."""
        if not answer_ids:
            return {}
        return {(p.answer_id, p.message_id): p for p in self.session.scalars(
            select(Publication).where(Publication.answer_id.in_(sorted(set(answer_ids)))))}

    def answers_by_id(self, answer_ids: Sequence[int]) -> list[Answer]:
        """These answers (those that exist) in id order, in one query."""
        if not answer_ids:
            return []
        return list(self.session.scalars(select(Answer).where(
            Answer.id.in_(sorted(set(answer_ids)))).order_by(Answer.id)))

    def messages_of_cases(self, case_ids: Sequence[int]) -> dict[int, list[Message]]:
        """Each case's messages, oldest first (as :meth:`messages`), in one query."""
        if not case_ids:
            return {}
        found: dict[int, list[Message]] = {}
        for case_id, message in self.session.execute(
                select(CaseMessage.case_id, Message)
                .join(Message, CaseMessage.message_id == Message.id)
                .where(CaseMessage.case_id.in_(sorted(set(case_ids))))
                .order_by(Message.created_at, Message.id)):
            found.setdefault(case_id, []).append(message)
        return found

    def mark_published(self, answers: Sequence[Answer], at: datetime) -> None:
        """These answers are published (``at``; an approved one's status becomes
        ``published``): one UPDATE for all, not one each at the flush."""
        self.mark_published_each([(answer, at) for answer in answers])

    def mark_published_each(self, published: Sequence[tuple[Answer, datetime]]) -> None:
        """These answers are published, each at its own moment (as :meth:`mark_published`):
        one UPDATE when they share a moment, one executemany for several moments."""
        if not published:
            return
        status = case_when((Answer.status == "approved", "published"), else_=Answer.status)
        moments = {at for _, at in published}
        if len(moments) == 1:
            self.session.execute(
                update(Answer).where(Answer.id.in_([a.id for a, _ in published]))
                .values(published_at=moments.pop(), status=status),
                execution_options={"synchronize_session": False})
        else:
            table = cast(Table, Answer.__table__)
            self.session.connection().execute(
                update(table).where(table.c.id == bindparam("answer_id"))
                .values(published_at=bindparam("at"), status=status),
                [{"answer_id": answer.id, "at": at} for answer, at in published])
        for answer, at in published:  # the loaded answers as the UPDATE left them
            set_committed_value(answer, "published_at", at)
            if answer.status == "approved":
                set_committed_value(answer, "status", "published")

    def publications(self, answer_id: int) -> Sequence[Publication]:
        """Where an answer went."""
        return self.session.scalars(
            select(Publication).where(Publication.answer_id == answer_id)
            .order_by(Publication.id)
        ).all()

    def add_extension(self, extension: Extension) -> Extension:
        """Insert an extension request."""
        self.session.add(extension)
        self.session.flush()
        return extension

    def extension(self, extension_id: int) -> Extension | None:
        """An extension request by id."""
        return self.session.get(Extension, extension_id)

    def extensions(self, case_id: int) -> Sequence[Extension]:
        """A case's extension requests."""
        return self.session.scalars(
            select(Extension).where(Extension.case_id == case_id).order_by(Extension.id)
        ).all()

    # -- problems -------------------------------------------------------------------------------

    def problem(self, problem_id: int) -> Problem | None:
        """A problem by id."""
        return self.session.get(Problem, problem_id)

    def problems_by_id(self, problem_ids: Sequence[int | None]) -> dict[int, Problem]:
        """These problems (those that exist) by id, in one query."""
        ids = sorted({i for i in problem_ids if i is not None})
        if not ids:
            return {}
        return {p.id: p for p in self.session.scalars(select(Problem).where(Problem.id.in_(ids)))}

    def add_problem(self, problem: Problem) -> Problem:
        """Insert a problem and get its id (a reserved one: see :meth:`reserve`)."""
        return _add_with_id(self.session, problem)

    def active_problems(self, since: datetime) -> Sequence[Problem]:
        """Problems seen since a moment (to seed the clusterer)."""
        return self.session.scalars(
            select(Problem).where(Problem.last_seen >= since).order_by(Problem.id)
        ).all()

    def visible_problem(self, scope: Scope, problem_id: int) -> Problem | None:
        """A problem by id if the scope sees it (:meth:`Scope.problem_filter`)."""
        return self.session.scalars(select(Problem).where(
            Problem.id == problem_id, scope.problem_filter())).first()

    def visible_problems(self, scope: Scope, problem_ids: Sequence[int]) -> dict[int, Problem]:
        """The problems among these ids the scope sees, by id."""
        if not problem_ids:
            return {}
        return {p.id: p for p in self.session.scalars(select(Problem).where(
            Problem.id.in_(list(problem_ids)), scope.problem_filter()))}

    def problems(self, scope: Scope, *, region_code: str | None = None, limit: int = 50,
                 offset: int = 0) -> tuple[Sequence[Problem], int]:
        """A page of problems the scope sees, biggest first."""
        query = select(Problem).where(scope.problem_filter())
        if region_code:
            query = query.where(Problem.region_code == region_code)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(
            query.order_by(Problem.size.desc(), Problem.last_seen.desc()).limit(limit)
            .offset(offset)
        ).all()
        return rows, total

    def count_problems(self) -> int:
        """How many problems exist."""
        return self.session.scalar(select(func.count(Problem.id))) or 0

    def cases_of_problem(self, scope: Scope, problem_id: int) -> Sequence[Case]:
        """The cases of a problem the scope sees."""
        return self.session.scalars(
            self.scoped(scope).where(Case.problem_id == problem_id).order_by(Case.received_at)
        ).all()
    # -- routing, policies, calendar -------------------------------------------------------------

    def rules(self, region_code: str) -> Sequence[RoutingRule]:
        """A region's enabled routing rules in order (read now: not cached)."""
        return rules_of(self.session, [region_code])[region_code]

    def add_rule(self, rule: RoutingRule) -> RoutingRule:
        """Insert a routing rule."""
        self.session.add(rule)
        self.session.flush()
        return rule

    def add_policy(self, row: DeadlinePolicyRow) -> DeadlinePolicyRow:
        """Insert a policy."""
        self.session.add(row)
        self.session.flush()
        return row

    def calendar_exception(self, exception_id: int) -> CalendarExceptionRow | None:
        """One calendar correction by id."""
        return self.session.get(CalendarExceptionRow, exception_id)

    def calendar_exception_on(self, region_code: str | None, day: str
                              ) -> CalendarExceptionRow | None:
        """The correction of ``day`` for a region (None: for all regions), if there is one."""
        region = (CalendarExceptionRow.region_code.is_(None) if region_code is None
                  else CalendarExceptionRow.region_code == region_code)
        return self.session.scalars(select(CalendarExceptionRow).where(
            region, CalendarExceptionRow.day == day)).first()

    def delete_calendar_exception(self, row: CalendarExceptionRow) -> None:
        """Remove a calendar correction."""
        self.session.delete(row)
        self.session.flush()

    def handback_report(self, scope: Scope) -> list[dict[str, Any]]:
        """Organizations ranked by how often cases are handed back to triage."""
        # one expression object in SELECT and GROUP BY: PostgreSQL sees one bound key, not two
        executor = CaseEvent.details["from_executor"].as_string().label("executor")
        rows = self.session.execute(
            select(executor, func.count())
            .join(Case, Case.id == CaseEvent.case_id)
            .where(CaseEvent.kind == "handback", scope.case_filter())
            .group_by(executor)
            .order_by(func.count().desc())
        ).all()
        return [{"executor_id": int(e) if e else None, "handbacks": n} for e, n in rows]
