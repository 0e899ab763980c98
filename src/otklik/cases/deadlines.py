"""Deadlines of cases: policies by topic and urgency, counted in the executor's working hours
and time zone on the Russian production calendar (the arithmetic is in otklik.sla).

The clock of a case starts when it is received (or reopened); the pauses while the resident
was asked for details are kept on the case, so deadlines are always recomputed exactly.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import cast

from sqlalchemy.orm import Session

from otklik.bounds import check_calendar_day
from otklik.cases.reference import AnyOrganization, OrganizationRow
from otklik.cases.repository import CaseRepository
from otklik.models.case import CalendarExceptionRow, Case, DeadlinePolicyRow
from otklik.sla.calendar import (
    CalendarException,
    ExceptionKind,
    ProductionCalendar,
    SlaClock,
    WorkingHours,
)
from otklik.sla.policy import (
    DEFAULT_POLICIES,
    DeadlinePolicy,
    compute_deadlines,
    resolve_policy,
)

Pause = tuple[datetime, datetime]
log = logging.getLogger(__name__)


def policy_for(session: Session, case: Case) -> DeadlinePolicy:
    """The most specific policy for the case's topic, subtopic and urgency."""
    repo = CaseRepository(session)
    rows = repo.policies(case.region_code)
    policies = repo.derived(  # parsed once per transaction, beside the rows
        "policies", case.region_code, rows,
        lambda: _Policies([DeadlinePolicy.from_json(r.policy) for r in rows]
                          or list(DEFAULT_POLICIES)),
        DeadlinePolicyRow)
    return policies.resolve(case.topic, case.subtopic, case.urgency)


class _Policies:
    """A region's parsed policies and the one resolved for each (topic, subtopic, urgency)
    asked so far: a batch's cases repeat a few of them, and each case asks twice (its
    deadlines, its interim answer). Kept beside the rows it comes from, so an edit of a
    policy makes a new one."""

    __slots__ = ("policies", "chosen")

    def __init__(self, policies: list[DeadlinePolicy]) -> None:
        self.policies = policies
        self.chosen: dict[tuple[str | None, str | None, str | None], DeadlinePolicy] = {}

    def resolve(self, topic: str | None, subtopic: str | None, urgency: str | None
                ) -> DeadlinePolicy:
        key = (topic, subtopic, urgency)
        found = self.chosen.get(key)
        if found is None:
            found = self.chosen[key] = resolve_policy(self.policies, topic, subtopic, urgency)
        return found


@lru_cache(maxsize=64)
def _calendar(exceptions: tuple[tuple[str, str, str], ...]) -> ProductionCalendar:
    corrections = []
    for day, kind, note in exceptions:
        try:
            parsed = check_calendar_day(date.fromisoformat(day))
        except ValueError:
            # stored before days were validated: one bad row must not stop every deadline
            log.warning("calendar exception %r is not a valid day and is ignored; delete it "
                        "on the admin's calendar page", day)
            continue
        corrections.append(CalendarException(day=parsed, kind=cast(ExceptionKind, kind),
                                             note=note))
    return ProductionCalendar(corrections)


@lru_cache(maxsize=1024)
def _clock(exceptions: tuple[tuple[str, str, str], ...], hours: str, tz: str) -> SlaClock:
    import json

    return SlaClock(_calendar(exceptions), WorkingHours.from_json(json.loads(hours)), tz)


def clock_for(session: Session, case: Case, organization: AnyOrganization | None = None
              ) -> SlaClock:
    """The executor's clock: their working hours and time zone, the region's calendar.

    Clocks are cached per (calendar corrections, hours, zone): an admin's edit of the
    calendar makes a new key, so it takes effect at once.
    """
    import json

    if organization is None and case.executor_id is not None:
        organization = CaseRepository(session).organization(case.executor_id,
                                                            case.region_code)
    repo = CaseRepository(session)
    rows = repo.calendar_exceptions(case.region_code)
    calendar = repo.derived(  # once per transaction, beside the rows
        "calendar", case.region_code, rows,
        lambda: _Calendar(tuple(sorted((r.day, r.kind, r.note) for r in rows))),
        CalendarExceptionRow)
    if organization is None:
        return _clock(calendar.exceptions, json.dumps(WorkingHours.standard().to_json()),
                      "Europe/Moscow")
    if isinstance(organization, OrganizationRow):  # values: a change reads a new row
        held = calendar.clocks.get(organization.id)
        if held is None or held[0] is not organization:
            held = calendar.clocks[organization.id] = (organization, _clock(
                calendar.exceptions, json.dumps(organization.working_hours, sort_keys=True),
                organization.timezone))
        return held[1]
    return _clock(calendar.exceptions, json.dumps(organization.working_hours, sort_keys=True),
                  organization.timezone)


class _Calendar:
    """A region's calendar corrections and the clock of each organization asked so far (by
    id, with the values it was worked out from: a changed organization is a new row): the
    key of :func:`_clock` (the hours dumped to JSON, the corrections hashed) cost more than
    the lookup, once per routed case."""

    __slots__ = ("exceptions", "clocks")

    def __init__(self, exceptions: tuple[tuple[str, str, str], ...]) -> None:
        self.exceptions = exceptions
        self.clocks: dict[int, tuple[OrganizationRow, SlaClock]] = {}


def _pauses(case: Case) -> Sequence[Pause]:
    return [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in case.pauses or []]


def assign(session: Session, case: Case, *, start: datetime | None = None,
           organization: AnyOrganization | None = None, reopened: bool = False
           ) -> DeadlinePolicy:
    """Set the deadlines from the clock start (received, or reopened) minus the pauses;
    returns the policy they follow (routing asks it next whether to send an interim
    answer)."""
    if start is not None:
        case.routing = {**(case.routing or {}), "clock_start": start.isoformat()}
    clock_start = datetime.fromisoformat((case.routing or {}).get(
        "clock_start", case.received_at.isoformat()))
    policy = policy_for(session, case)
    clock = clock_for(session, case, organization)
    due = compute_deadlines(policy, clock, clock_start, pauses=_pauses(case))
    if not reopened and case.first_response_at is None:
        case.first_response_due = due.first_response_due
    case.resolution_due = due.resolution_due
    case.warn_at = due.warn_at
    return policy


def wants_interim_answer(session: Session, case: Case,
                         policy: DeadlinePolicy | None = None) -> bool:
    """True when the policy publishes an interim answer on routing (``policy``: the case's,
    when the caller has it already, as :func:`assign` returns it)."""
    return bool((policy if policy is not None else policy_for(session, case)).interim_answer)


def clarification_window(session: Session, case: Case) -> timedelta:
    """How long the resident has to answer a clarification request."""
    return policy_for(session, case).clarification_window


def after_pause(session: Session, case: Case) -> None:
    """Recompute the deadlines once a pause has ended (the clock stood still meanwhile)."""
    extended = (case.routing or {}).get("extended_until")
    assign(session, case)
    if extended:
        case.resolution_due = max(case.resolution_due or datetime.fromisoformat(extended),
                                  datetime.fromisoformat(extended))


def extend(case: Case, until: datetime) -> None:
    """A curator's approved extension: the resolution deadline moves to ``until``."""
    case.routing = {**(case.routing or {}), "extended_until": until.isoformat()}
    previous = case.resolution_due
    case.resolution_due = until
    if case.warn_at is not None and previous is not None:
        case.warn_at = until - max(previous - case.warn_at, timedelta(hours=2))


def remaining(session: Session, case: Case, now: datetime) -> timedelta | None:
    """Working time left to the resolution deadline (negative when overdue)."""
    if case.resolution_due is None:
        return None
    pauses: list[tuple[datetime, datetime | None]] = list(_pauses(case))
    if case.paused_since is not None:
        pauses.append((case.paused_since, None))
    return clock_for(session, case).remaining(case.resolution_due, now, pauses=pauses)
