"""Cases follow a re-enrichment of their messages (``otklik enrich --from-db``): the consumer
of :class:`otklik.events.MessagesReenriched`, one job per re-enriched batch, after intake
committed the new enrichments (:mod:`otklik.intake.reenrich`).

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
* a message that becomes relevant and has no case goes to case building (like a newly
  enriched one), with the comments under it in the same batch; a message that stops being
  relevant keeps its case (someone may be working on it): the case's history says so and the
  run's summary lists it.

What the job did goes to the audit log (``message.reenrich.cases``, object the run), which
also makes it idempotent: a batch already followed is not followed twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.cases import builder, routing
from otklik.cases.problems import queue_problem_assignment
from otklik.cases.service import check_routable, record_event, route
from otklik.db.base import utcnow
from otklik.errors import InvalidInput
from otklik.events import MessagesReenriched
from otklik.models.audit import AuditEntry
from otklik.models.case import OPEN_STATUSES, Case, CaseEvent, CaseMessage, CaseStatus, Label
from otklik.models.message import Message

#: Case fields that follow the primary message's enrichment, in groups decided together.
TOPIC_FIELDS = ("topic", "subtopic")
PLACE_FIELDS = ("municipality_id", "settlement_id", "street", "house")
#: Case ids listed by name in the audit entry (the counts are complete).
LISTED = 200
#: The routing reason of a case re-routed because its topic or place changed.
REROUTE_REASON = "reclassified"
#: Routing reasons that mean the machine chose the executor (a routing rule).
MACHINE_ROUTING = ("rule", REROUTE_REASON)
#: Statuses in which the executor has not yet taken the case: it may still be re-routed.
REROUTABLE = frozenset({CaseStatus.new, CaseStatus.triage, CaseStatus.routed})
#: History steps that show a person took part in where the case goes.
ROUTING_STEPS = ("route", "handback", "triage", "assign", "accept")
#: The audit action of one followed batch (the run's reports count it).
FOLLOWED = "message.reenrich.cases"


@dataclass
class CaseFollowSummary:
    """What the cases did after a re-enriched batch (or several)."""

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

    def add(self, other: CaseFollowSummary) -> None:
        """Fold a batch's summary into the run's."""
        for name in ("cases_updated", "routed_cases_updated", "cases_kept",
                     "reroute_kept_person", "reroute_kept_in_work"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        for name in ("sent_to_cases", "kept_irrelevant_cases", "rerouted", "reroute_check"):
            getattr(self, name).extend(getattr(other, name))

    def as_dict(self) -> dict[str, Any]:
        """The counts as JSON (the audit entry): long id lists are cut to :data:`LISTED`."""
        out = asdict(self)
        out["sent_to_cases"] = self.sent_to_cases[:LISTED]
        out["sent_to_cases_count"] = len(self.sent_to_cases)
        out["kept_irrelevant_cases"] = self.kept_irrelevant_cases[:LISTED]
        out["kept_irrelevant"] = len(self.kept_irrelevant_cases)
        for name in ("rerouted", "reroute_check"):
            out[name] = getattr(self, name)[:LISTED]
            out[f"{name}_count"] = len(getattr(self, name))
        return out


def follow(session: Session, actor: Actor, event: MessagesReenriched) -> CaseFollowSummary:
    """Apply a re-enriched batch to its cases (see the module docstring)."""
    summary = CaseFollowSummary()
    messages = session.scalars(select(Message).where(Message.id.in_(event.seen))
                               .order_by(Message.id)).all()
    ids = [m.id for m in messages]
    cases = _cases_of(session, ids)
    corrections = _corrected(session, sorted({c.id for c, _ in cases.values()}), ids)
    newly: list[int] = []
    changed_cases: dict[int, dict[str, Any]] = {}
    by_id = {m.id: m for m in messages}
    for message_id, enriched in event.changes.items():  # in the order intake decided them
        message = by_id.get(message_id)
        if message is None:
            continue
        prior, values = enriched.before, enriched.after
        was_relevant = bool(prior and prior["relevant"])
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
        touched = builder.build_cases(session, Actor.system("intake"), summary.sent_to_cases)
        if touched:
            queue_problem_assignment(session, touched)
    return summary


def follow_once(session: Session, event: MessagesReenriched) -> CaseFollowSummary | None:
    """:func:`follow` and its audit entry, unless this batch of the run was followed already
    (a retried job); None then."""
    batch = min(event.seen)
    done = session.scalars(select(AuditEntry.details).where(
        AuditEntry.object_type == "reenrich_run", AuditEntry.object_id == event.run_id,
        AuditEntry.action == FOLLOWED))
    if event.run_id and any((d or {}).get("batch") == batch for d in done):
        return None
    actor = Actor.system(event.actor)
    summary = follow(session, actor, event)
    audit.record(session, actor, FOLLOWED, "reenrich_run", event.run_id or None,
                 details={"batch": batch, **summary.as_dict()})
    return summary


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


def _follow(case: Case, message: Message, prior: dict[str, Any], values: dict[str, Any],
            corrections: set[tuple[str, int, str]], details: dict[str, Any],
            summary: CaseFollowSummary) -> None:
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
                    details: dict[str, Any], summary: CaseFollowSummary) -> int | None:
    """The executor to route a reclassified case to now, or None to leave it where it is;
    the outcome goes to the event's ``details`` and the run's summary."""
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
