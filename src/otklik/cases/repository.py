"""Every query of cases, their messages, events, answers, rules and policies."""

from __future__ import annotations

import builtins
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any, TypeVar, cast

from sqlalchemy import (
    ColumnElement,
    CursorResult,
    Select,
    Table,
    and_,
    bindparam,
    event,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, defer
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from otklik.accounts.scope import Scope
from otklik.db.ids import give_id
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
    ModelVersion,
    Problem,
    Publication,
    RoutingRule,
)
from otklik.models.message import Message, MessageEnrichment
from otklik.models.organization import Organization, OrganizationTerritory
from otklik.models.taxonomy import TaxonomyVersion
from otklik.models.territory import Territory, TerritoryLevel
from otklik.nlp.taxonomy.taxonomy import Taxonomy
from otklik.workspace.confidence import UNCERTAIN, case_confidence

T = TypeVar("T")
_REFERENCE_KEY = "otklik_case_reference"
_RESERVED_KEY = "otklik_case_reserved_ids"
_NEW_KEY = "otklik_case_reference_added"
#: The rows read for every case built (two or three times per case before this cache; the
#: routing rules, the region's territory, the active executor model, the executor, what it
#: covers and the rubricator in use once per case).
_CACHED_TYPES = (DeadlinePolicyRow, CalendarExceptionRow, RoutingRule, Territory, ModelVersion,
                 Organization, OrganizationTerritory, TaxonomyVersion)


def _reference_cache(session: Session) -> dict[tuple[str, str | None], Any]:
    """Deadline policies and calendar corrections, read once per transaction instead of for
    every case (building a batch's cases read them two or three times per case: the profile
    in docs/performance.md). Forgotten at the end of the transaction (commit or rollback,
    a SAVEPOINT's too) and when the session flushes a change to such a row, so an edit is
    seen at once in its own session, and by others from their next transaction."""
    if _pending_change(session):  # added, not flushed yet: the query would have seen it
        _forget_reference(session)
    cache: dict[tuple[str, str | None], Any] | None = session.info.get(_REFERENCE_KEY)
    if cache is None:
        cache = session.info[_REFERENCE_KEY] = {}
        if not event.contains(session, "after_flush", _forget_on_change):
            event.listen(session, "after_flush", _forget_on_change)
            event.listen(session, "after_commit", _forget_reference)
            event.listen(session, "after_soft_rollback", _forget_reference)
    return cache


def _quiet(session: Session) -> AbstractContextManager[Any]:
    """Read reference rows without flushing the batch's pending rows first (a flush per
    cache miss splits a batch's INSERTs in many), unless a change of such a row is pending:
    then the query must see it, as it would have."""
    changing = _pending_change(session) or _changed_unflushed(session, _CACHED_TYPES)
    return nullcontext() if changing else session.no_autoflush


def _rules_of(session: Session, regions: Sequence[str | None]
              ) -> dict[str | None, list[RoutingRule]]:
    rules: dict[str | None, list[RoutingRule]] = {r: [] for r in regions}
    for rule in session.scalars(
            select(RoutingRule).where(RoutingRule.region_code.in_(_named(regions)),
                                      RoutingRule.enabled.is_(True))
            .order_by(RoutingRule.region_code, RoutingRule.position, RoutingRule.id)):
        rules[rule.region_code].append(rule)
    return rules


def _organizations_in(session: Session, regions: Sequence[str | None]
                      ) -> dict[str | None, dict[int, Organization]]:
    found: dict[str | None, dict[int, Organization]] = {r: {} for r in regions}
    for org in session.scalars(
            select(Organization).where(Organization.region_code.in_(_named(regions)))):
        found[org.region_code][org.id] = org
    return found


def _coverage_in(session: Session, regions: Sequence[str | None]
                 ) -> dict[str | None, dict[int, set[int]]]:
    coverage: dict[str | None, dict[int, set[int]]] = {r: {} for r in regions}
    for region, org_id, territory in session.execute(
            select(Organization.region_code, OrganizationTerritory.organization_id,
                   OrganizationTerritory.territory_id)
            .join(Organization, Organization.id == OrganizationTerritory.organization_id)
            .where(Organization.region_code.in_(_named(regions)))):
        coverage[region].setdefault(org_id, set()).add(territory)
    return coverage


def _region_ids(session: Session, regions: Sequence[str | None]
                ) -> dict[str | None, int | None]:
    ids: dict[str | None, int | None] = dict.fromkeys(regions)
    for region, territory_id in session.execute(
            select(Territory.region_code, Territory.id).where(
                Territory.level == TerritoryLevel.region,
                Territory.region_code.in_(_named(regions)))):
        if ids[region] is None:
            ids[region] = territory_id
    return ids


def _policies_of(session: Session, regions: Sequence[str | None]
                 ) -> dict[str | None, list[DeadlinePolicyRow]]:
    """Each region's deadline policies in order, then the global ones (None: those alone)."""
    rows = session.scalars(
        select(DeadlinePolicyRow).where(or_(DeadlinePolicyRow.region_code.in_(_named(regions)),
                                            DeadlinePolicyRow.region_code.is_(None)))
        .order_by(DeadlinePolicyRow.region_code.is_(None), DeadlinePolicyRow.position,
                  DeadlinePolicyRow.id))
    return _with_global(regions, rows, lambda row: row.region_code)


def _calendar_of(session: Session, regions: Sequence[str | None]
                 ) -> dict[str | None, list[CalendarExceptionRow]]:
    """Each region's calendar corrections, then the country's (None: those alone)."""
    rows = session.scalars(
        select(CalendarExceptionRow).where(or_(
            CalendarExceptionRow.region_code.in_(_named(regions)),
            CalendarExceptionRow.region_code.is_(None)))
        .order_by(CalendarExceptionRow.id))
    return _with_global(regions, rows, lambda row: row.region_code)


def _named(regions: Sequence[str | None]) -> list[str]:
    return [r for r in regions if r is not None]


def _with_global(regions: Sequence[str | None], rows: Any, region_of: Callable[[Any], str | None]
                 ) -> dict[str | None, list[Any]]:
    """Rows by region, each region's own followed by those of every region (region None)."""
    own: dict[str | None, list[Any]] = {r: [] for r in regions}
    common: list[Any] = []
    for row in rows:
        region = region_of(row)
        (common if region is None else own[region]).append(row)
    return {r: common if r is None else own[r] + common for r in regions}


#: What building cases reads of a region, by cache key: one query for any number of regions.
_REGION_READS: dict[str, Callable[[Session, Sequence[str | None]], dict[str | None, Any]]] = {
    "rules": _rules_of, "organizations": _organizations_in, "coverage": _coverage_in,
    "region": _region_ids, "policies": _policies_of, "calendar": _calendar_of}


def _changed_unflushed(session: Session, types: tuple[type, ...]) -> bool:
    """True when a loaded row of these types has a change not flushed yet."""
    return any(isinstance(row, types) for row in session.dirty)


def _forget_reference(session: Session, *_: Any) -> None:
    session.info.pop(_REFERENCE_KEY, None)


def _pending_change(session: Session) -> bool:
    """True when a row of the cached types was added or deleted and not flushed yet. The
    added ones are noted as they are added (a batch keeps hundreds of its own rows pending:
    looking through them at every read cost a quarter of building its cases)."""
    if _NEW_KEY not in session.info:  # the listeners are not there yet (event.contains
        # on every call was 4 % of building a batch's cases)
        event.listen(session, "transient_to_pending", _note_new)
        event.listen(session, "after_flush_postexec", _forget_new)
        event.listen(session, "after_soft_rollback", _forget_new)
        session.info[_NEW_KEY] = any(isinstance(row, _CACHED_TYPES) for row in session.new)
    return bool(session.info.get(_NEW_KEY)) or any(
        isinstance(row, _CACHED_TYPES) for row in session.deleted)


def _note_new(session: Session, instance: Any) -> None:
    if isinstance(instance, _CACHED_TYPES):
        session.info[_NEW_KEY] = True


def _forget_new(session: Session, *_: Any) -> None:
    session.info[_NEW_KEY] = any(isinstance(row, _CACHED_TYPES) for row in session.new)


def _forget_on_change(session: Session, _flush_context: Any) -> None:
    if _pending_change(session) or _changed_unflushed(session, _CACHED_TYPES):
        _forget_reference(session)


def _add_with_id(session: Session, row: Any) -> Any:
    """Add a row and give it its id: a reserved one when the transaction has one left
    (:meth:`CaseRepository.reserve`), else by a flush."""
    reserved = session.info.get(_RESERVED_KEY, {}).get(row.__tablename__)
    session.add(row)
    if row.id is None and reserved:
        row.id = reserved.pop(0)
    else:
        session.flush()
    return row


def _forget_reserved(session: Session, *_: Any) -> None:
    session.info.pop(_RESERVED_KEY, None)


class _RuleIndex:
    """A region's enabled rules by topic, in their order, with what the match asks of each
    (its subtopic and territory) read once: a region has hundreds of rules (one per
    municipality and topic) and a batch routes dozens of cases per topic."""

    def __init__(self, rules: Sequence[RoutingRule], region_code: str) -> None:
        self.rules = [(rule, rule.topic or None, rule.subtopic or None, rule.territory_id)
                      for rule in rules
                      # a rule disabled or moved in this session, not flushed yet, is out
                      if rule.enabled and rule.region_code == region_code]
        self.by_topic: dict[str | None, list[tuple[RoutingRule, str | None, int | None]]] = {}

    def first(self, topic: str | None, subtopic: str | None, places: set[int]
              ) -> RoutingRule | None:
        """The first rule whose topic, subtopic and territory are each empty or the case's."""
        candidates = self.by_topic.get(topic)
        if candidates is None:
            candidates = self.by_topic[topic] = [
                (rule, rule_subtopic, territory)
                for rule, rule_topic, rule_subtopic, territory in self.rules
                if rule_topic is None or (topic is not None and rule_topic == topic)]
        for rule, rule_subtopic, territory in candidates:
            if ((rule_subtopic is None or (subtopic is not None and rule_subtopic == subtopic))
                    and (territory is None or territory in places)):
                return rule
        return None


class CaseRepository:
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

    def reserve(self, model: type[Case] | type[Answer] | type[Problem], count: int) -> None:
        """Reserve ids for the next ``count`` rows of ``model`` added here in this
        transaction, in one query (PostgreSQL's sequence): the rows then get their ids
        without a flush each and go to the database together, in one INSERT per table at
        the next flush. Elsewhere (SQLite) nothing is reserved and each row is flushed for
        its id as before. Ids reserved and not used are gaps, as after a rollback."""
        if count <= 0 or self.session.get_bind().dialect.name != "postgresql":
            return
        table = model.__tablename__
        sequence = func.pg_get_serial_sequence(f'"{table}"', "id")
        ids = self.session.scalars(
            select(func.nextval(sequence)).select_from(func.generate_series(1, count))).all()
        reserved: dict[str, list[int]] = self.session.info.setdefault(_RESERVED_KEY, {})
        reserved.setdefault(table, []).extend(ids)
        if not event.contains(self.session, "after_commit", _forget_reserved):
            event.listen(self.session, "after_commit", _forget_reserved)
            event.listen(self.session, "after_soft_rollback", _forget_reserved)

    def release_reserved(self) -> None:
        """Give up the ids reserved and not used yet (they stay gaps, as at a commit): the
        next rows get new ones, as if this unit of work had ended here (the demo's load
        builds several time buckets in one transaction, each as if in its own)."""
        _forget_reserved(self.session)

    def set_problems(self, placed: Sequence[tuple[Case, int]]) -> None:
        """Put cases into problems (``(case, problem id)``) in one executemany UPDATE, not
        one UPDATE per case (the ORM sends a versioned row's UPDATE alone): each row still
        checks and bumps the case's ``version``, and a case changed meanwhile by someone
        else raises :class:`StaleDataError` as the ORM's flush would. The loaded cases get
        the stored values without becoming dirty."""
        if not placed:
            return
        self.session.flush()  # pending changes of these cases first: their version moves
        table = cast(Table, Case.__table__)
        result = cast(CursorResult[Any], self.session.execute(
            table.update()
            .where(table.c.id == bindparam("case_id"), table.c.version == bindparam("seen"))
            .values(problem_id=bindparam("problem"), version=bindparam("seen") + 1),
            [{"case_id": case.id, "seen": case.version, "problem": problem_id}
             for case, problem_id in placed]))
        if (self.session.get_bind().dialect.supports_sane_multi_rowcount
                and result.rowcount != len(placed)):
            raise StaleDataError(
                f"UPDATE of case problems matched {result.rowcount} of {len(placed)} rows: "
                "a case was changed by someone else meanwhile")
        for case, problem_id in placed:
            set_committed_value(case, "problem_id", problem_id)
            set_committed_value(case, "version", case.version + 1)

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
        """Attach a message to a case."""
        self.session.add(CaseMessage(case_id=case_id, message_id=message_id, is_primary=primary))

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
                .where(CaseMessage.message_id.in_(sorted(set(message_ids))))):
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

    def message_ids_with_case(self, message_ids: Sequence[int]) -> set[int]:
        """Which of these messages are in a case already."""
        return set(self.session.scalars(
            select(CaseMessage.message_id).where(CaseMessage.message_id.in_(list(message_ids)))
        ))

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
            select(MessageEnrichment).where(MessageEnrichment.message_id.in_(list(message_ids)))
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
        or its case's), for the mass-copy check — one query."""
        rows = self.session.execute(
            select(Answer, func.coalesce(Answer.problem_id, Case.problem_id))
            .outerjoin(Case, Case.id == Answer.case_id)
            .where(Answer.organization_id == organization_id, Answer.kind == "final",
                   Answer.created_at >= since)
            .order_by(Answer.id.desc()).limit(500)
        ).all()
        return [(answer, problem) for answer, problem in rows]

    def publication(self, answer_id: int, message_id: int) -> Publication | None:
        """The publication of an answer under a message, if any."""
        return self.session.scalar(
            select(Publication).where(Publication.answer_id == answer_id,
                                      Publication.message_id == message_id)
        )

    def add_publication(self, publication: Publication, *, flush: bool = True) -> Publication:
        """Insert a publication row (now, or at the next flush)."""
        self.session.add(publication)
        if flush:
            self.session.flush()
        return publication

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
        return _rules_of(self.session, [region_code])[region_code]

    def first_rule(self, region_code: str, topic: str | None, subtopic: str | None,
                   territory_ids: Sequence[int]) -> RoutingRule | None:
        """The first enabled rule of a region (by position) that matches a case.

        A rule matches when each of its topic, subtopic and territory is empty or equal to
        the case's (the territory: the case's municipality or settlement). The region's
        enabled rules are read once per transaction (:func:`_reference_cache`, forgotten when
        a rule changes) and matched here: a batch of cases costs one query, not one each.
        Only the rules of the case's topic (or of none) are looked at: :class:`_RuleIndex`,
        kept beside the rules."""
        rules = self.enabled_rules(region_code)
        index = self.derived("rule_index", region_code, rules,
                             lambda: _RuleIndex(rules, region_code), RoutingRule)
        return index.first(topic, subtopic, set(territory_ids))

    def derived(self, name: str, region_code: str | None, source: object,
                build: Callable[[], T], *types: type) -> T:
        """A value worked out from reference rows read once per transaction (``source``:
        the cached rows it comes from), kept beside them: forgotten with them (an edit, a
        commit, a rollback), and worked out afresh while a row of ``types`` has a change
        this session has not flushed yet (the rows' own attributes would show it)."""
        if _changed_unflushed(self.session, types):
            return build()
        cache = _reference_cache(self.session)
        key = (f"derived {name}", region_code)
        held = cache.get(key)
        if held is None or held[0] is not source:
            held = cache[key] = (source, build())
        value: T = held[1]
        return value

    def read_regions(self, region_codes: Sequence[str | None]) -> None:
        """Read what building cases asks of each of these regions (enabled rules,
        organizations and what they cover, the region's territory, deadline policies and
        calendar corrections) for all of them at once, into the per-transaction cache the
        single-region reads below fill: one query per kind for a batch, not per region
        (a batch spans several regions). A region already cached is not read again."""
        named = _named(region_codes)
        for kind in _REGION_READS:
            self._region_read(kind, named)

    def _region_read(self, kind: str, region_codes: Sequence[str | None]
                     ) -> dict[str | None, Any]:
        """``kind`` (a key of :data:`_REGION_READS`) of each of these regions, by region:
        those not cached yet are read in one query and cached."""
        cache = _reference_cache(self.session)
        wanted = list(dict.fromkeys(r for r in region_codes if (kind, r) not in cache))
        if wanted:
            with _quiet(self.session):
                values = _REGION_READS[kind](self.session, wanted)
            for region in wanted:
                cache[(kind, region)] = values[region]
        return {r: cache[(kind, r)] for r in region_codes}

    def region_id(self, region_code: str) -> int | None:
        """The territory id of a region, read once per transaction."""
        found: int | None = self._region_read("region", [region_code])[region_code]
        return found

    def active_model_row(self, label_field: str) -> ModelVersion | None:
        """The active registered model of a label field, read once per transaction."""
        cache = _reference_cache(self.session)
        key = ("model", label_field)
        if key not in cache or (cache[key] is not None and not cache[key].active):
            from otklik.language.registry import active_row

            with _quiet(self.session):
                cache[key] = active_row(self.session, label_field)
        row: ModelVersion | None = cache[key]
        return row

    def organization(self, organization_id: int, region_code: str | None = None
                     ) -> Organization | None:
        """An organization by id, read once per transaction (the executor of every case a
        batch routes to it); with the region it is expected in, every organization of that
        region is read at once."""
        cache = _reference_cache(self.session)
        if region_code is not None:
            found = self._organizations_of(region_code).get(organization_id)
            if found is not None:
                return found
        key = ("organization", str(organization_id))
        if key not in cache:
            with _quiet(self.session):
                cache[key] = self.session.get(Organization, organization_id)
        one: Organization | None = cache[key]
        return one

    def _organizations_of(self, region_code: str) -> dict[int, Organization]:
        found: dict[int, Organization] = self._region_read("organizations",
                                                           [region_code])[region_code]
        return found

    def covers(self, organization_id: int, territory_ids: Sequence[int],
               region_code: str | None) -> bool:
        """True when the organization covers any of these territories: what the
        organizations of the region cover is read once per transaction (an organization of
        another region is asked on its own)."""
        if region_code is None:
            return organization_id in self.covering(territory_ids)
        coverage: dict[int, set[int]] = self._region_read("coverage",
                                                          [region_code])[region_code]
        if organization_id not in self._organizations_of(region_code):
            return organization_id in self.covering(territory_ids)
        return bool(coverage.get(organization_id, set()) & set(territory_ids))

    def covering(self, territory_ids: Sequence[int]) -> set[int]:
        """Ids of the organizations that cover any of these territories, read once per
        transaction for each set of territories."""
        cache = _reference_cache(self.session)
        key = ("covering", ",".join(map(str, sorted(set(territory_ids)))))
        if key not in cache:
            from otklik.organizations.repository import OrganizationRepository

            with _quiet(self.session):
                cache[key] = OrganizationRepository(self.session).covering(territory_ids)
        found: set[int] = cache[key]
        return found

    def active_taxonomy(self) -> Taxonomy:
        """The rubricator in use (:func:`otklik.language.taxonomy_service.active_taxonomy`),
        read once per transaction (each interim answer names the case's topic)."""
        cache = _reference_cache(self.session)
        key = ("taxonomy", None)
        if key not in cache:
            from otklik.language.taxonomy_service import active_taxonomy

            with _quiet(self.session):
                cache[key] = active_taxonomy(self.session)
        taxonomy: Taxonomy = cache[key]
        return taxonomy

    def enabled_rules(self, region_code: str) -> Sequence[RoutingRule]:
        """A region's enabled routing rules in order, read once per transaction."""
        rules: Sequence[RoutingRule] = self._region_read("rules", [region_code])[region_code]
        return rules

    def add_rule(self, rule: RoutingRule) -> RoutingRule:
        """Insert a routing rule."""
        self.session.add(rule)
        self.session.flush()
        return rule

    def policies(self, region_code: str | None) -> Sequence[DeadlinePolicyRow]:
        """Deadline policies of a region and the global ones, in order (read once per
        transaction: see :func:`_reference_cache`)."""
        rows: Sequence[DeadlinePolicyRow] = self._region_read("policies",
                                                              [region_code])[region_code]
        return rows

    def add_policy(self, row: DeadlinePolicyRow) -> DeadlinePolicyRow:
        """Insert a policy."""
        self.session.add(row)
        self.session.flush()
        return row

    def calendar_exceptions(self, region_code: str | None) -> Sequence[CalendarExceptionRow]:
        """Calendar corrections for a region and the country (read once per transaction)."""
        rows: Sequence[CalendarExceptionRow] = self._region_read("calendar",
                                                                 [region_code])[region_code]
        return rows

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
