"""Admin rules of cases: routing rules, deadline policies, calendar exceptions, reports."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.cases.repository import CaseRepository
from otklik.cases.schemas import CalendarExceptionCreate, PolicyCreate, RuleCreate
from otklik.errors import Conflict, Forbidden, InvalidInput, NotFound
from otklik.models.case import CalendarExceptionRow, DeadlinePolicyRow, RoutingRule
from otklik.organizations.repository import OrganizationRepository
from otklik.sla.policy import DeadlinePolicy
from otklik.territories.repository import TerritoryRepository


def _region(actor: Actor, region_code: str | None) -> None:
    actor.require("reference.write")
    if region_code is None and not actor.scope.all_regions:
        raise Forbidden("only a federal administrator can set rules for all regions")
    if region_code is not None and not actor.scope.sees_region(region_code):
        raise Forbidden(f"region {region_code} is outside your scope")


def list_rules(session: Session, actor: Actor, region_code: str, *, topic: str | None = None,
               executor_id: int | None = None) -> Sequence[RoutingRule]:
    """A region's enabled routing rules in order (optionally of one topic or executor)."""
    actor.require("read")
    if not actor.scope.sees_region(region_code):
        return []
    return [r for r in CaseRepository(session).rules(region_code)
            if (topic is None or r.topic == topic)
            and (executor_id is None or r.executor_id == executor_id)]


def add_rule(session: Session, actor: Actor, data: RuleCreate) -> RoutingRule:
    """Add a routing rule after checking the executor and the territory."""
    _region(actor, data.region_code)
    organization = OrganizationRepository(session).get(data.executor_id)
    if organization is None or organization.region_code != data.region_code:
        raise InvalidInput(f"organization {data.executor_id} is not in region "
                           f"{data.region_code}")
    if data.territory_id is not None:
        territory = TerritoryRepository(session).get(data.territory_id)
        if territory is None or territory.region_code != data.region_code:
            raise InvalidInput(f"territory {data.territory_id} is not in region "
                               f"{data.region_code}")
    rule = CaseRepository(session).add_rule(RoutingRule(**data.model_dump()))
    audit.record(session, actor, "routing_rule.add", "routing_rule", rule.id,
                 region_code=data.region_code, details=data.model_dump())
    return rule


def add_policy(session: Session, actor: Actor, data: PolicyCreate) -> DeadlinePolicyRow:
    """Add a deadline policy after validating it."""
    _region(actor, data.region_code)
    try:
        policy = DeadlinePolicy.from_json(data.policy)
    except (ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"deadline policy: {exc}") from exc
    row = CaseRepository(session).add_policy(DeadlinePolicyRow(
        region_code=data.region_code, position=data.position, policy=policy.to_json()))
    audit.record(session, actor, "deadline_policy.add", "deadline_policy", row.id,
                 region_code=data.region_code, details=row.policy)
    return row


def add_calendar_exception(session: Session, actor: Actor,
                           data: CalendarExceptionCreate) -> CalendarExceptionRow:
    """Correct the production calendar."""
    _region(actor, data.region_code)
    if CaseRepository(session).calendar_exception_on(data.region_code, data.day) is not None:
        raise Conflict(f"{data.day} is already corrected for "
                       f"{'region ' + data.region_code if data.region_code else 'all regions'}: "
                       "delete that correction first")
    row = CalendarExceptionRow(**data.model_dump())
    session.add(row)
    session.flush()
    audit.record(session, actor, "calendar_exception.add", "calendar_exception", row.id,
                 region_code=data.region_code, details=data.model_dump())
    return row


def remove_calendar_exception(session: Session, actor: Actor, exception_id: int
                              ) -> CalendarExceptionRow:
    """Undo a correction of the production calendar (a mistaken day, a cancelled holiday)."""
    actor.require("reference.write")
    repo = CaseRepository(session)
    row = repo.calendar_exception(exception_id)
    if row is None or (row.region_code is not None
                       and not actor.scope.sees_region(row.region_code)):
        raise NotFound(f"calendar exception {exception_id} not found")
    _region(actor, row.region_code)
    details = {"region_code": row.region_code, "day": row.day, "kind": row.kind,
               "note": row.note}
    repo.delete_calendar_exception(row)
    audit.record(session, actor, "calendar_exception.remove", "calendar_exception",
                 exception_id, region_code=details["region_code"], details=details)
    return row


def handback_report(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Organizations by hand-backs (the admin's routing report)."""
    actor.require("read")
    rows = CaseRepository(session).handback_report(actor.scope)
    organizations = OrganizationRepository(session)
    for row in rows:
        organization = organizations.get(row["executor_id"]) if row["executor_id"] else None
        row["executor"] = organization.name if organization else None
    return rows
