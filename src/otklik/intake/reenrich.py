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
* the rewritten messages of the batch are announced once it commits
  (:class:`otklik.events.MessagesReenriched`, with each message's answer before and after):
  the cases follow in their own job (:mod:`otklik.cases.reclassify`: topic and place where
  no person decided, routing again, cases for newly relevant messages; its audit entries,
  ``message.reenrich.cases``, are counted with the run's), and the analytics rollups
  rebuild the reporting days of those messages (their rows carry a new ``enriched_at``).

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

from otklik import events
from otklik.accounts.scope import Scope
from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.days import day_start_utc, reporting_day
from otklik.db.base import utcnow
from otklik.errors import Forbidden, InvalidInput
from otklik.events import EnrichmentChange, MessagesReenriched
from otklik.intake.repository import MessageRepository
from otklik.models.audit import AuditEntry
from otklik.models.case import OPEN_STATUSES, Case, CaseMessage
from otklik.models.message import Message, MessageEnrichment
from otklik.queue import enqueue_after_commit

#: Columns whose difference makes a stored enrichment "changed".
COMPARED = ("relevant", "kind", "language", "topic", "subtopic", "topic_confidence",
            "sentiment", "urgency", "region_code", "municipality_id", "settlement_id",
            "street", "house", "dedup_key", "duplicate_of_id", "model_version")
#: Columns that say which pipeline decided, not what it decided.
STAMPS = ("model_version",)
#: Columns counted as a change of topic, and of place.
TOPIC_FIELDS = ("topic", "subtopic")
PLACE_FIELDS = ("municipality_id", "settlement_id", "street", "house")
#: The audit action of what the cases did after one batch (:mod:`otklik.cases.reclassify`).
CASES_FOLLOWED = "message.reenrich.cases"


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
    oldest_day: date | None = None

    def add(self, other: ReenrichSummary) -> None:
        """Fold a batch's summary into the run's."""
        for name in ("seen", "rewritten", "restamped", "failed", "topic_changed", "became_relevant",
                     "stopped_relevant", "territory_changed"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        if other.oldest_day is not None and (self.oldest_day is None
                                             or other.oldest_day < self.oldest_day):
            self.oldest_day = other.oldest_day

    def as_dict(self) -> dict[str, Any]:
        """The counts as JSON (the audit entry)."""
        out = asdict(self)
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
    duplicate = values["duplicate_of_id"]  # (the key is the row's column, not the result's)
    values["result"]["duplicate_of"] = None if duplicate is None else str(duplicate)


def _differs(prior: dict[str, Any], values: dict[str, Any]) -> bool:
    """True when the answer itself changed (not only the versions that gave it)."""
    return any(prior[name] != values[name] for name in COMPARED if name not in STAMPS)


def _restamped(prior: dict[str, Any], values: dict[str, Any]) -> bool:
    return (prior["model_version"] != values["model_version"]
            or prior["taxonomy_version"] != values["result"].get("taxonomy_version"))


def reenrich_batch(session: Session, actor: Actor, message_ids: Sequence[int], *,
                   run_id: str = "") -> ReenrichSummary:
    """Re-enrich these messages with the active pipeline and store what changed (see the
    module docstring); idempotent: what equals the stored result is not written. The
    rewritten messages are announced after the commit (:class:`otklik.events.
    MessagesReenriched`): the cases follow in their own job."""
    from otklik.intake.tasks import decide, store_all

    summary = ReenrichSummary()
    messages = MessageRepository(session).by_ids(message_ids)
    if not messages:
        return summary
    ids = [m.id for m in messages]
    before = {i: _snapshot(row) for i, row in MessageRepository(session).enrichments(ids).items()}
    changes: dict[int, EnrichmentChange] = {}
    written: list[tuple[Message, dict[str, Any]]] = []
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
                written.append((message, values))
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
        written.append((message, values))
        changes[message.id] = EnrichmentChange(
            before=None if prior is None else {f: prior[f] for f in COMPARED},
            after={f: values[f] for f in COMPARED})
    store_all(session, written)  # the batch's writes together
    if changes:
        events.announce(session, MessagesReenriched(run_id=run_id, actor=actor.label,
                                                    seen=ids, changes=changes))
    return summary


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
                    part = (reenrich_batch(session, actor, ids, run_id=run_id) if ids
                            else ReenrichSummary())
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
#: What the cases did after the batches (counted with the run's reports, not as batches).
CASE_REPORTS = (CASES_FOLLOWED,)
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
        run.action.in_(RUN_REPORTS + CASE_REPORTS)))
    for run_id, action, details in reports:
        status = out[str(run_id)]
        for name in STATUS_COUNTS:
            status.counts[name] += int((details or {}).get(name) or 0)
        if action == "message.reenrich":
            status.finished = True
        elif action in RUN_REPORTS:
            status.batches_done += 1
    for status in out.values():
        if status.batches is not None:
            status.batches_done = min(status.batches_done, status.batches)
            status.finished = status.batches_done >= status.batches
    return list(out.values())


def cases_followed(session: Session, run_id: str) -> dict[str, Any]:
    """What the cases did after a run's batches so far (their ``message.reenrich.cases``
    entries summed): counts, and the case ids an operator should look at."""
    out: dict[str, Any] = {}
    rows = session.scalars(select(AuditEntry.details).where(
        AuditEntry.object_type == "reenrich_run", AuditEntry.object_id == run_id,
        AuditEntry.action.in_(CASE_REPORTS)).order_by(AuditEntry.id))
    for details in rows:
        for name, value in (details or {}).items():
            if isinstance(value, list):
                out.setdefault(name, []).extend(value)
            elif isinstance(value, int) and not isinstance(value, bool):
                out[name] = out.get(name, 0) + value
    return out


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
