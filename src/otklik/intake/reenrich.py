"""Re-enrichment: run the language stages again over stored messages after the active topic
model or the active rubricator changed (``otklik enrich --from-db``).

What a run changes, batch by batch (each batch one unit of work):

* ``message_enrichment`` — overwritten with what the active pipeline decides now, but only
  when something differs (a second run with the same pipeline writes nothing). The
  near-duplicate answer (``dedup_key``, ``duplicate_of_id``) is kept: it depends only on the
  texts and their order, not on the model or the rubricator, and the stage's per-process
  memory could otherwise call an old message a copy of a newer one. A kept or new
  ``duplicate_of_id`` that names the message itself or a message stored after it is dropped.
  If the stages fail on a message, its stored enrichment stays as it was.
* a case whose *primary* message changed — its topic and subtopic, and its place
  (municipality, settlement, street, house) follow the new enrichment, each group only when
  no person decided it: no operator's correction (a ``Label`` of that field on the case or on
  the message) and the case still holding what the machine gave it before (the previous
  enrichment's values). The change is written to the case's history (``reclassified``). The
  region, urgency (deadlines were counted from it), kind, deadlines and status are never
  touched here.
* such a case whose topic or place changed is routed again by the routing rules
  (:func:`otklik.cases.service.route`, reason ``reclassified``) when no person has decided
  where it goes: it is new, in triage or routed but not yet accepted, and its history has no
  routing step of a person (routed by an operator, handed back, triaged, assigned or accepted
  by someone). A case in triage that a rule now matches is routed as on first routing
  (deadlines, interim answer); a routed one moves to the new rule's executor (its deadlines
  stay, as when an operator re-routes). Without a matching rule, or when the rule's executor
  cannot take the case, the executor is kept and the case is listed for an operator to
  check. The outcome is in the ``reclassified`` event (``rerouted`` or ``routing``).
* a message that becomes relevant and has no case is sent to case building (like a newly
  enriched one, :func:`otklik.cases.tasks.build_cases`), with the comments under it in the
  same batch; a message that stops being relevant keeps its case (someone may be working on
  it): the case's history says so and the run's summary lists it.
* the analytics rollups: the rewritten rows carry a new ``enriched_at``, so the next refresh
  rebuilds the reporting days of those messages; changed cases move ``updated_at``.

The run's start and end (filters, model and rubricator versions, counts) go to the audit
log (``message.reenrich``). Services never commit: the CLI and the job do.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.analytics.schemas import day_start_utc, reporting_day
from otklik.analytics.tasks import rollups_changed
from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.db.base import utcnow
from otklik.errors import Forbidden, InvalidInput
from otklik.intake.repository import MessageRepository
from otklik.models.audit import AuditEntry
from otklik.models.case import OPEN_STATUSES, Case, CaseEvent, CaseMessage, CaseStatus, Label
from otklik.models.message import Message, MessageEnrichment
from otklik.queue import enqueue_after_commit

#: Columns whose difference makes a stored enrichment "changed".
COMPARED = ("relevant", "kind", "language", "topic", "subtopic", "topic_confidence",
            "sentiment", "urgency", "region_code", "municipality_id", "settlement_id",
            "street", "house", "dedup_key", "duplicate_of_id", "model_version")
#: Columns that say which pipeline decided, not what it decided.
STAMPS = ("model_version",)
#: Case fields that follow the primary message's enrichment, in groups decided together.
TOPIC_FIELDS = ("topic", "subtopic")
PLACE_FIELDS = ("municipality_id", "settlement_id", "street", "house")
#: Case ids listed by name in the summary and the audit entry (the counts are complete).
LISTED = 200
#: The routing reason of a case re-routed because its topic or place changed.
REROUTE_REASON = "reclassified"
#: Routing reasons that mean the machine chose the executor (a routing rule).
MACHINE_ROUTING = ("rule", REROUTE_REASON)
#: Statuses in which the executor has not yet taken the case: it may still be re-routed.
REROUTABLE = frozenset({CaseStatus.new, CaseStatus.triage, CaseStatus.routed})
#: History steps that show a person took part in where the case goes.
ROUTING_STEPS = ("route", "handback", "triage", "assign", "accept")


@dataclass(frozen=True)
class ReenrichFilter:
    """Which stored messages a run takes (all of them by default)."""

    since: date | None = None
    until: date | None = None
    region_code: str | None = None
    source: str | None = None
    #: Only messages in an open case.
    open_cases: bool = False
    #: Only messages enriched by another topic model or rubricator than the active ones.
    outdated: bool = False
    limit: int | None = None

    def describe(self) -> dict[str, Any]:
        """The filter as JSON for the audit log."""
        return {k: (v.isoformat() if isinstance(v, date) else v)
                for k, v in asdict(self).items() if v not in (None, False)}


@dataclass(frozen=True)
class Stamp:
    """The model and rubricator versions of the active pipeline."""

    model_version: str | None
    taxonomy_version: str


@dataclass
class ReenrichSummary:
    """What a run (or one batch) changed."""

    seen: int = 0
    rewritten: int = 0
    #: Same answer, stored with the versions of the pipeline that gave it now.
    restamped: int = 0
    failed: int = 0
    topic_changed: int = 0
    became_relevant: int = 0
    stopped_relevant: int = 0
    territory_changed: int = 0
    cases_updated: int = 0
    #: Updated cases that have an executor and kept it (a person decided, the executor took
    #: the case, the case is done, or no rule says where it goes now).
    routed_cases_updated: int = 0
    #: Updated cases routed again by the rules (see the module docstring).
    rerouted: list[int] = field(default_factory=list)
    #: Updated cases not re-routed because a person decided where they go.
    reroute_kept_person: int = 0
    #: Updated cases not re-routed because the executor has taken them into work.
    reroute_kept_in_work: int = 0
    #: Cases kept at an executor that no rule names for the new topic or place (or whose
    #: rule names an organization that cannot take them): an operator should look.
    reroute_check: list[int] = field(default_factory=list)
    #: Cases where the new enrichment differed but a person's decision was kept.
    cases_kept: int = 0
    #: Newly relevant messages (and their comments) sent to case building.
    sent_to_cases: list[int] = field(default_factory=list)
    #: Cases kept although their message is no longer relevant.
    kept_irrelevant_cases: list[int] = field(default_factory=list)
    oldest_day: date | None = None

    def add(self, other: ReenrichSummary) -> None:
        """Fold a batch's summary into the run's."""
        for name in ("seen", "rewritten", "restamped", "failed", "topic_changed", "became_relevant",
                     "stopped_relevant", "territory_changed", "cases_updated",
                     "routed_cases_updated", "cases_kept", "reroute_kept_person",
                     "reroute_kept_in_work"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("sent_to_cases", "kept_irrelevant_cases", "rerouted", "reroute_check"):
            getattr(self, name).extend(getattr(other, name))
        if other.oldest_day is not None and (self.oldest_day is None
                                             or other.oldest_day < self.oldest_day):
            self.oldest_day = other.oldest_day

    def as_dict(self) -> dict[str, Any]:
        """The counts as JSON (the audit entry): long id lists are cut to :data:`LISTED`."""
        out = asdict(self)
        out["sent_to_cases"] = len(self.sent_to_cases)
        out["kept_irrelevant_cases"] = self.kept_irrelevant_cases[:LISTED]
        out["kept_irrelevant"] = len(self.kept_irrelevant_cases)
        for name in ("rerouted", "reroute_check"):
            out[name] = getattr(self, name)[:LISTED]
            out[f"{name}_count"] = len(getattr(self, name))
        out["oldest_day"] = self.oldest_day.isoformat() if self.oldest_day else None
        return out


# -- which messages ------------------------------------------------------------------------------


def current_stamp(session: Session) -> Stamp:
    """The versions the active pipeline stamps on what it decides."""
    from otklik.intake.tasks import active_pipeline, pipeline_versions

    model_version, taxonomy_version = pipeline_versions(active_pipeline(session))
    return Stamp(model_version, taxonomy_version)


def _selection(flt: ReenrichFilter, stamp: Stamp) -> Select[Any]:
    e = MessageEnrichment
    query = (select(Message.id).outerjoin(e, e.message_id == Message.id)
             .where(Message.enrich_status != "pending"))  # pending ones: the intake queue's
    if flt.since is not None:
        query = query.where(Message.created_at >= day_start_utc(flt.since))
    if flt.until is not None:
        query = query.where(Message.created_at < day_start_utc(flt.until + timedelta(days=1)))
    if flt.region_code:
        query = query.where(or_(Message.region_code == flt.region_code,
                                e.region_code == flt.region_code))
    if flt.source:
        query = query.where(Message.source == flt.source)
    if flt.open_cases:
        query = query.where(exists(
            select(CaseMessage.message_id).join(Case, Case.id == CaseMessage.case_id)
            .where(CaseMessage.message_id == Message.id,
                   Case.status.in_(list(OPEN_STATUSES)), Case.merged_into_id.is_(None))))
    if flt.outdated:
        taxonomy = e.result["taxonomy_version"].as_string()
        model = (e.model_version.is_not(None) if stamp.model_version is None
                 else or_(e.model_version.is_(None), e.model_version != stamp.model_version))
        query = query.where(or_(e.message_id.is_(None), model, taxonomy.is_(None),
                                taxonomy != stamp.taxonomy_version))
    return query


def count_selected(session: Session, flt: ReenrichFilter, stamp: Stamp) -> int:
    """How many messages the filter takes (at most its limit)."""
    total = session.scalar(select(func.count()).select_from(_selection(flt, stamp).subquery()))
    return min(total or 0, flt.limit) if flt.limit is not None else total or 0


def selected_ids(session: Session, flt: ReenrichFilter, stamp: Stamp, after_id: int,
                 limit: int) -> list[int]:
    """The next page of the filter's message ids, in id (stored) order after ``after_id``."""
    query = _selection(flt, stamp).where(Message.id > after_id).order_by(Message.id)
    return list(session.scalars(query.limit(limit)))


# -- one batch -----------------------------------------------------------------------------------


def _snapshot(row: MessageEnrichment) -> dict[str, Any]:
    values = {name: getattr(row, name) for name in COMPARED}
    values["taxonomy_version"] = (row.result or {}).get("taxonomy_version")
    values["enriched_at"] = row.enriched_at
    return values


def _sane_duplicate(message_id: int, duplicate_of: int | None) -> int | None:
    """A copy is of an earlier stored message: never of itself or of a later one."""
    return duplicate_of if duplicate_of is not None and duplicate_of < message_id else None


def _keep_dedup(message: Message, values: dict[str, Any], prior: dict[str, Any] | None) -> None:
    if prior is not None:
        values["dedup_key"] = prior["dedup_key"]
        values["duplicate_of_id"] = prior["duplicate_of_id"]
    values["duplicate_of_id"] = _sane_duplicate(message.id, values["duplicate_of_id"])
    result = values["result"]
    result["dedup_key"] = values["dedup_key"]
    duplicate = values["duplicate_of_id"]
    result["duplicate_of"] = None if duplicate is None else str(duplicate)


def _differs(prior: dict[str, Any], values: dict[str, Any]) -> bool:
    """True when the answer itself changed (not only the versions that gave it)."""
    return any(prior[name] != values[name] for name in COMPARED if name not in STAMPS)


def _restamped(prior: dict[str, Any], values: dict[str, Any]) -> bool:
    return (prior["model_version"] != values["model_version"]
            or prior["taxonomy_version"] != values["result"].get("taxonomy_version"))


def _cases_of(session: Session, message_ids: Sequence[int]) -> dict[int, tuple[Case, bool]]:
    """message id -> (its case, whether it is the case's primary message)."""
    rows = session.execute(
        select(CaseMessage.message_id, CaseMessage.is_primary, Case)
        .join(Case, Case.id == CaseMessage.case_id)
        .where(CaseMessage.message_id.in_(list(message_ids))))
    return {message_id: (case, bool(primary)) for message_id, primary, case in rows}


def _corrected(session: Session, case_ids: Sequence[int], message_ids: Sequence[int]
               ) -> set[tuple[str, int, str]]:
    """("case" | "message", id, field) of every operator's correction of these."""
    conditions = []
    if case_ids:
        conditions.append(Label.case_id.in_(list(case_ids)))
    if message_ids:
        conditions.append(Label.message_id.in_(list(message_ids)))
    if not conditions:
        return set()
    rows = session.execute(select(Label.case_id, Label.message_id, Label.field)
                           .where(or_(*conditions)))
    out: set[tuple[str, int, str]] = set()
    for case_id, message_id, name in rows:
        if case_id is not None:
            out.add(("case", case_id, name))
        if message_id is not None:
            out.add(("message", message_id, name))
    return out


def reenrich_batch(session: Session, actor: Actor, message_ids: Sequence[int]
                   ) -> ReenrichSummary:
    """Re-enrich these messages with the active pipeline and apply what changed (see the
    module docstring); idempotent: what equals the stored result is not written."""
    from otklik.cases.service import record_event, route
    from otklik.cases.tasks import build_cases
    from otklik.intake.tasks import decide, store

    summary = ReenrichSummary()
    messages = MessageRepository(session).by_ids(message_ids)
    if not messages:
        return summary
    ids = [m.id for m in messages]
    before = {i: _snapshot(row) for i, row in MessageRepository(session).enrichments(ids).items()}
    cases = _cases_of(session, ids)
    corrections = _corrected(session, sorted({c.id for c, _ in cases.values()}), ids)
    newly: list[int] = []
    changed_cases: dict[int, dict[str, Any]] = {}
    for message, values in decide(session, messages):
        summary.seen += 1
        prior = before.get(message.id)
        if values is None:
            summary.failed += 1
            if prior is None:
                message.enrich_status = "failed"
            continue
        _keep_dedup(message, values, prior)
        if prior is not None and not _differs(prior, values):
            if _restamped(prior, values):  # same answer: only the versions are noted, and
                values["enriched_at"] = prior["enriched_at"]  # the rollups have nothing to do
                store(session, message, values)
                summary.restamped += 1
            continue
        summary.rewritten += 1
        day = reporting_day(message.created_at)
        summary.oldest_day = day if summary.oldest_day is None else min(day, summary.oldest_day)
        was_relevant = bool(prior and prior["relevant"])
        if prior is not None and any(prior[f] != values[f] for f in TOPIC_FIELDS):
            summary.topic_changed += 1
        if prior is not None and any(prior[f] != values[f] for f in PLACE_FIELDS):
            summary.territory_changed += 1
        if values["relevant"] and not was_relevant:
            summary.became_relevant += 1
        elif was_relevant and not values["relevant"]:
            summary.stopped_relevant += 1
        store(session, message, values)
        in_case = cases.get(message.id)
        if in_case is None:
            if values["relevant"] and not was_relevant:
                newly.append(message.id)
            continue
        case, primary = in_case
        changes = changed_cases.setdefault(case.id, {"case": case, "details": {}})
        if was_relevant and not values["relevant"]:
            summary.kept_irrelevant_cases.append(case.id)
            changes["details"]["no_longer_relevant"] = message.id
        if primary and prior is not None and case.merged_into_id is None:
            _follow(case, message, prior, values, corrections, changes["details"], summary)
    moved = [c["case"].id for c in changed_cases.values() if "changes" in c["details"]]
    decided = _routed_by_person(session, moved)
    for change in changed_cases.values():
        details = change["details"]
        if not details:
            continue
        case = change["case"]
        target = None
        if "changes" in details:
            case.updated_at = utcnow()
            summary.cases_updated += 1
            target = _reroute_target(session, case, case.id in decided, details, summary)
        record_event(session, actor, case, "reclassified", None, **details)
        if target is not None:
            route(session, actor, case, target, reason=REROUTE_REASON)
    comments = [m.id for m in messages
                if m.parent_id in set(newly) and m.id not in cases and m.id not in newly]
    summary.sent_to_cases = newly + comments
    if summary.sent_to_cases:
        enqueue_after_commit(session, build_cases, list(summary.sent_to_cases))
    if summary.rewritten:
        rollups_changed(session, "messages")
    return summary


def _follow(case: Case, message: Message, prior: dict[str, Any], values: dict[str, Any],
            corrections: set[tuple[str, int, str]], details: dict[str, Any],
            summary: ReenrichSummary) -> None:
    """Move the case's machine-given fields to the new enrichment where no person decided."""
    groups: list[tuple[str, ...]] = [TOPIC_FIELDS]
    if values["region_code"] == case.region_code:  # another region: a person must look
        groups.append(PLACE_FIELDS)
    for group in groups:
        if all(prior[f] == values[f] for f in group):
            continue
        corrected = any(("case", case.id, f) in corrections
                        or ("message", message.id, f) in corrections for f in group)
        untouched = all(getattr(case, f) == prior[f] for f in group)
        if corrected or not untouched:
            summary.cases_kept += 1
            details.setdefault("kept", []).extend(group)
            continue
        for name in group:
            if getattr(case, name) != values[name]:
                details.setdefault("changes", {})[name] = [getattr(case, name), values[name]]
                setattr(case, name, values[name])
    if details.get("changes") or details.get("kept"):
        details["message_id"] = message.id


# -- routing again -------------------------------------------------------------------------------


def _routed_by_person(session: Session, case_ids: Sequence[int]) -> set[int]:
    """The cases whose history shows a person deciding where they go (see
    :data:`ROUTING_STEPS`); routing by a rule or by re-enrichment is the machine's."""
    if not case_ids:
        return set()
    rows = session.execute(
        select(CaseEvent.case_id, CaseEvent.kind, CaseEvent.actor_id, CaseEvent.details)
        .where(CaseEvent.case_id.in_(list(case_ids)), CaseEvent.kind.in_(ROUTING_STEPS)))
    return {case_id for case_id, kind, actor_id, details in rows
            if actor_id is not None or kind in ("handback", "accept")
            or (kind == "route" and (details or {}).get("reason") not in MACHINE_ROUTING)}


def _reroute_target(session: Session, case: Case, decided_by_person: bool,
                    details: dict[str, Any], summary: ReenrichSummary) -> int | None:
    """The executor to route a reclassified case to now, or None to leave it where it is;
    the outcome goes to the event's ``details`` and the run's summary."""
    from otklik.cases import routing
    from otklik.cases.service import check_routable

    current = case.executor_id
    if case.status not in REROUTABLE or decided_by_person:
        if case.status not in REROUTABLE and case.status in OPEN_STATUSES:
            summary.reroute_kept_in_work += 1
            details["routing"] = "kept_in_work"
        elif case.status in REROUTABLE:
            summary.reroute_kept_person += 1
            details["routing"] = "kept_person"
        if current is not None:
            summary.routed_cases_updated += 1
        return None
    suggestion = routing.suggest(session, case)
    # The suggestion shown on the card follows; the clock's keys stay.
    case.routing = {**(case.routing or {}), **suggestion.as_dict()}
    target = suggestion.executor_id if suggestion.from_rule else None
    if target is None or target == current:
        if current is not None and target is None:
            summary.routed_cases_updated += 1
            summary.reroute_check.append(case.id)
            details["routing"] = "no_rule"
        return None
    try:
        check_routable(session, case, target)
    except InvalidInput as exc:  # a rule naming the wrong organization: a person must look
        if current is not None:
            summary.routed_cases_updated += 1
        summary.reroute_check.append(case.id)
        details["routing"] = "rule_invalid"
        details["routing_error"] = exc.message
        return None
    summary.rerouted.append(case.id)
    details["rerouted"] = {"from": current, "to": target, "rule_id": suggestion.rule_id}
    return target


# -- a whole run ---------------------------------------------------------------------------------


def record_run(session: Session, actor: Actor, action: str, flt: ReenrichFilter, stamp: Stamp,
               run_id: str, **details: Any) -> None:
    """The run's audit entry: who, which filter, which model and rubricator, what changed."""
    import getpass

    try:
        os_user: str | None = getpass.getuser()
    except (KeyError, OSError):
        os_user = None
    audit.record(session, actor, action, "reenrich_run", run_id, region_code=flt.region_code,
                 details={"filter": flt.describe(), "model_version": stamp.model_version,
                          "taxonomy_version": stamp.taxonomy_version, "os_user": os_user,
                          **details})


def run_inline(flt: ReenrichFilter, actor: Actor, *, batch_size: int = 256,
               dry_run: bool = False, run_id: str,
               started: Callable[[int, Stamp], None] | None = None,
               progress: Callable[[int], None] | None = None) -> ReenrichSummary:
    """Re-enrich every selected message in this process, batch by batch, each batch its own
    committed unit of work (rolled back instead when ``dry_run``)."""
    from sqlalchemy.orm.exc import StaleDataError

    from otklik.db.session import session_scope

    with session_scope() as session:
        stamp = current_stamp(session)
        total = count_selected(session, flt, stamp)
        if not dry_run:
            record_run(session, actor, "message.reenrich.start", flt, stamp, run_id,
                       selected=total)
    if started:
        started(total, stamp)
    summary = ReenrichSummary()
    after, left = 0, flt.limit
    while left is None or left > 0:
        size = batch_size if left is None else min(batch_size, left)
        for attempt in range(3):
            try:
                with session_scope() as session:
                    ids = selected_ids(session, flt, stamp, after, size)
                    part = reenrich_batch(session, actor, ids) if ids else ReenrichSummary()
                    if dry_run:
                        session.rollback()  # nothing stored, no job sent
                break
            except StaleDataError:  # an operator saved one of the cases meanwhile: redo
                if attempt == 2:
                    raise
        if not ids:
            break
        after = ids[-1]
        left = None if left is None else left - len(ids)
        summary.add(part)
        if progress:
            progress(len(ids))
    if not dry_run:
        with session_scope() as session:
            record_run(session, actor, "message.reenrich", flt, stamp, run_id,
                       **summary.as_dict())
    return summary


def enqueue_run(session: Session, actor: Actor, flt: ReenrichFilter, *, run_id: str,
                batch_size: int = 256, progress: Callable[[int], None] | None = None
                ) -> tuple[int, int, Stamp]:
    """Queue the selected messages for the ``enrich`` queue in batches
    (:func:`otklik.intake.tasks.reenrich_messages`), sent when ``session`` commits, with the
    run's audit entry (``message.reenrich.queued``); returns (messages, batches, stamp)."""
    from otklik.intake.tasks import reenrich_messages

    stamp = current_stamp(session)
    messages = batches = 0
    after, left = 0, flt.limit
    while left is None or left > 0:
        size = batch_size if left is None else min(batch_size, left)
        ids = selected_ids(session, flt, stamp, after, size)
        if not ids:
            break
        enqueue_after_commit(session, reenrich_messages, ids, run_id)
        after = ids[-1]
        left = None if left is None else left - len(ids)
        messages += len(ids)
        batches += 1
        if progress:
            progress(len(ids))
    record_run(session, actor, "message.reenrich.queued", flt, stamp, run_id,
               selected=messages, batches=batches)
    return messages, batches, stamp


def queue_run(flt: ReenrichFilter, actor: Actor, *, batch_size: int = 256, run_id: str,
              progress: Callable[[int], None] | None = None) -> tuple[int, int, Stamp]:
    """:func:`enqueue_run` as its own unit of work (the CLI's ``--queue``)."""
    from otklik.db.session import session_scope

    with session_scope() as session:
        return enqueue_run(session, actor, flt, run_id=run_id, batch_size=batch_size,
                           progress=progress)


# -- from the admin pages ------------------------------------------------------------------------

#: The windows the admin pages offer: days back from today (None: every stored message).
WINDOWS = (7, 30, 90)
#: Audit actions that start a run, and those that report what it did.
RUN_STARTS = ("message.reenrich.queued", "message.reenrich.start")
RUN_REPORTS = ("message.reenrich.batch", "message.reenrich")
#: Counts a run's status shows, summed over its batches.
STATUS_COUNTS = ("seen", "rewritten", "failed", "topic_changed", "territory_changed",
                 "cases_updated", "cases_kept", "rerouted_count", "reroute_check_count")


@dataclass(frozen=True)
class QueuedRun:
    """A run sent to the queue from an admin page."""

    run_id: str
    messages: int
    batches: int
    stamp: Stamp


def start_queued(session: Session, actor: Actor, *, days: int | None,
                 region_code: str | None = None, open_cases: bool = False) -> QueuedRun:
    """Queue a run for the messages of the last ``days`` reporting days (every message when
    None) that the active model and rubricator have not enriched yet, in one region or all
    of the admin's; the jobs leave when the caller commits."""
    import uuid

    actor.require("admin")
    if days is not None and days not in WINDOWS:
        raise InvalidInput(f"период переразметки: {', '.join(map(str, WINDOWS))} дней или всё")
    scope = actor.scope
    if region_code:
        if not scope.sees_region(region_code):
            raise Forbidden(f"регион {region_code} вне вашей зоны ответственности")
    elif not scope.all_regions:
        if len(scope.region_codes) != 1:
            raise InvalidInput("выберите один из своих регионов")
        region_code = next(iter(scope.region_codes))
    since = reporting_day(utcnow()) - timedelta(days=days - 1) if days else None
    flt = ReenrichFilter(since=since, region_code=region_code or None, open_cases=open_cases,
                         outdated=True)
    run_id = uuid.uuid4().hex[:12]
    messages, batches, stamp = enqueue_run(session, actor, flt, run_id=run_id)
    return QueuedRun(run_id, messages, batches, stamp)


@dataclass
class RunStatus:
    """One run as the audit log tells it: who started it, on what, how far it got."""

    run_id: str
    at: datetime
    actor: str
    queued: bool
    filter: dict[str, Any]
    model_version: str | None
    taxonomy_version: str | None
    selected: int
    batches: int | None
    batches_done: int = 0
    finished: bool = False
    counts: dict[str, int] = field(default_factory=dict)


def recent_runs(session: Session, scope: Scope, limit: int = 5) -> list[RunStatus]:
    """The newest runs (queued from a page or the CLI, or run in the CLI) of the scope's
    regions, with their batches' counts summed."""
    run = AuditEntry
    query = (select(run).where(run.object_type == "reenrich_run", run.action.in_(RUN_STARTS))
             .order_by(run.id.desc()).limit(limit))
    if not scope.all_regions:
        query = query.where(scope.region_filter(run.region_code))
    out: dict[str, RunStatus] = {}
    for head in session.scalars(query):
        details = head.details or {}
        queued = head.action == "message.reenrich.queued"
        out[str(head.object_id)] = RunStatus(
            run_id=str(head.object_id), at=head.at, actor=head.actor, queued=queued,
            filter=details.get("filter") or {}, model_version=details.get("model_version"),
            taxonomy_version=details.get("taxonomy_version"),
            selected=int(details.get("selected") or 0),
            batches=int(details.get("batches") or 0) if queued else None,
            counts=dict.fromkeys(STATUS_COUNTS, 0))
    if not out:
        return []
    reports = session.execute(select(run.object_id, run.action, run.details).where(
        run.object_type == "reenrich_run", run.object_id.in_(list(out)),
        run.action.in_(RUN_REPORTS)))
    for run_id, action, details in reports:
        status = out[str(run_id)]
        for name in STATUS_COUNTS:
            status.counts[name] += int((details or {}).get(name) or 0)
        if action == "message.reenrich":
            status.finished = True
        else:
            status.batches_done += 1
    for status in out.values():
        if status.batches is not None:
            status.batches_done = min(status.batches_done, status.batches)
            status.finished = status.batches_done >= status.batches
    return list(out.values())


@dataclass(frozen=True)
class PipelineChange:
    """An activation of a rubricator version or a topic model."""

    at: datetime
    actor: str
    what: str  # "taxonomy" or "model"
    version: str | None


def unapplied_change(session: Session) -> PipelineChange | None:
    """The newest activation of a rubricator version or a topic model when no
    re-enrichment run has started since (stored messages still carry the earlier results)."""
    from otklik.language.registry import TOPIC_MODEL_FIELDS

    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.object_type.in_(("taxonomy_version", "model")),
                                 AuditEntry.action.in_(("taxonomy.activate", "model.activate")))
        .order_by(AuditEntry.id.desc()).limit(50))
    change = next((r for r in rows if r.action == "taxonomy.activate"
                   or (r.details or {}).get("label_field") in TOPIC_MODEL_FIELDS), None)
    if change is None:
        return None
    later = session.scalar(select(AuditEntry.id).where(
        AuditEntry.object_type == "reenrich_run", AuditEntry.action.in_(RUN_STARTS),
        AuditEntry.id > change.id).limit(1))
    if later is not None:
        return None
    details = change.details or {}
    if change.action == "model.activate":
        return PipelineChange(change.at, change.actor, "model", details.get("version"))
    from otklik.language.taxonomy_service import version_label

    version = (version_label(int(change.object_id)) if change.object_id
               else details.get("packaged"))
    return PipelineChange(change.at, change.actor, "taxonomy",
                          None if version is None else str(version))
