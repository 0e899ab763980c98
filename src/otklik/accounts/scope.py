"""What part of the country a user may see: the one place scoping rules live.

A user sees the regions they are given (or all of them). Two narrowings apply on top,
everywhere the same — lists, objects by id, objects reached through other objects, counts:

- territories (``user_territory``; a deputy's district): only cases, messages and problems
  of the municipalities those territories stand for (:func:`covered_municipalities`), and no
  region-wide files (briefs);
- an organization (an executor): only the cases routed to it, the messages of those cases
  and the problems that hold one of them;
- an expert (``expert_id``): no case, message or problem at all; only the contests and the
  applications of the tracks they are assigned to, less those they declared a conflict of
  interest on (:meth:`Scope.contest_filter`, :meth:`Scope.application_filter`).
- an organization (a page owner, ``owner``): only its own official pages and their rating
  (:meth:`Scope.page_filter`); an owner reads no cases, messages or analytics at all.

Repositories build their queries from :meth:`Scope.case_filter`, :meth:`Scope.message_filter`
and :meth:`Scope.problem_filter`; an object outside the scope does not exist (404).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true
from sqlalchemy.orm import aliased

from otklik.models.account import Role, User
from otklik.models.case import Case, CaseMessage, Problem
from otklik.models.contests import (
    Contest,
    ContestApplication,
    ContestConflict,
    ContestExpert,
    ContestTrack,
)
from otklik.models.incident import Incident, IncidentCase, IncidentMessage
from otklik.models.message import Message, MessageEnrichment
from otklik.models.participation import Proposal
from otklik.models.territory import Territory, TerritoryLevel

#: Permissions by role. Repositories filter by scope; services check these.
#: Every role has "tokens" (managing one's own API tokens); a token has it only when minted
#: with that scope.
PERMISSIONS: dict[Role, frozenset[str]] = {
    Role.admin: frozenset(
        {"read", "write", "admin", "audit", "users", "reference.write", "intake", "analytics",
         "contests", "tokens", "webhooks"}
    ),
    Role.operator: frozenset({"read", "write", "intake", "triage", "moderate", "tokens"}),
    Role.curator: frozenset(
        {"read", "write", "triage", "approve_extension", "moderate", "contests", "tokens"}
    ),
    Role.executor: frozenset({"read", "answer", "tokens"}),
    Role.analyst: frozenset({"read", "analytics", "tokens"}),
    Role.head: frozenset({"read", "analytics", "tokens"}),
    Role.deputy: frozenset({"read", "analytics", "tokens"}),
    #: An expert of a contest panel: scores the applications of their tracks, nothing else.
    Role.expert: frozenset({"contests.score", "tokens"}),
    Role.owner: frozenset({"pages", "tokens"}),
}

#: Roles bound to one organization (the scope narrows to it).
ORGANIZATION_ROLES = frozenset({Role.executor, Role.owner})


@dataclass(frozen=True)
class Scope:
    """A user's view of the data: all regions, or some, maybe narrowed to an organization."""

    all_regions: bool = False
    region_codes: frozenset[str] = field(default_factory=frozenset)
    territory_ids: frozenset[int] = field(default_factory=frozenset)
    organization_id: int | None = None
    permissions: frozenset[str] = field(default_factory=frozenset)
    #: The user id of an expert: they see only their contest assignments.
    expert_id: int | None = None

    @classmethod
    def for_user(cls, user: User, territory_ids: frozenset[int] = frozenset()) -> Scope:
        """The scope of a user from their role and assignments."""
        return cls(
            all_regions=user.all_regions,
            region_codes=frozenset(user.region_codes or ()),
            territory_ids=territory_ids,
            organization_id=(user.organization_id if user.role in ORGANIZATION_ROLES
                             else None),
            permissions=PERMISSIONS[user.role],
            expert_id=user.id if user.role == Role.expert else None,
        )

    @classmethod
    def system(cls) -> Scope:
        """Everything: for CLI commands and background jobs."""
        return cls(all_regions=True, permissions=frozenset().union(*PERMISSIONS.values()))

    def can(self, permission: str) -> bool:
        """True when the scope carries the permission."""
        return permission in self.permissions

    def sees_region(self, region_code: str | None) -> bool:
        """True when objects of that region are visible."""
        return self.all_regions or (region_code is not None and region_code in self.region_codes)

    def administers(self, user: User) -> bool:
        """True when an admin of this scope manages ``user``: a federal admin everybody,
        a regional admin the regional users who share one of their regions."""
        if self.all_regions:
            return True
        return not user.all_regions and bool(set(user.region_codes or ()) & self.region_codes)

    def region_filter(self, column: Any) -> ColumnElement[bool]:
        """A WHERE clause restricting ``column`` (a region_code column) to the scope."""
        if self.all_regions:
            return true()
        if not self.region_codes:
            return false()
        return column.in_(sorted(self.region_codes))

    # -- narrowing: a district (territories), an organization ------------------------------------

    @property
    def narrowed(self) -> bool:
        """True when the user sees only part of their regions (a district or an organization):
        region-wide objects (briefs of a whole region) are not theirs."""
        return (bool(self.territory_ids) or self.organization_id is not None
                or self.expert_id is not None)

    def district_filter(self, municipality: Any) -> ColumnElement[bool]:
        """A WHERE clause restricting ``municipality`` (a municipality id column) to the
        user's territories; true when the user is not narrowed to any."""
        if not self.territory_ids:
            return true()
        return municipality.in_(covered_municipalities(self.territory_ids))

    def case_filter(self) -> ColumnElement[bool]:
        """The cases the scope sees: its regions, its district, its organization's."""
        if self.expert_id is not None:
            return false()
        conditions = [self.region_filter(Case.region_code),
                      self.district_filter(Case.municipality_id)]
        if self.organization_id is not None:
            conditions.append(Case.executor_id == self.organization_id)
        return and_(*conditions)

    def message_filter(self) -> ColumnElement[bool]:
        """The messages the scope sees: of its regions; narrowed to a district, those the
        language stages placed in it; for an organization, those of its cases."""
        conditions = [self.region_filter(Message.region_code)]
        if self.territory_ids:
            conditions.append(Message.id.in_(select(MessageEnrichment.message_id).where(
                self.district_filter(MessageEnrichment.municipality_id))))
        if self.organization_id is not None:
            conditions.append(Message.id.in_(
                select(CaseMessage.message_id).join(Case, Case.id == CaseMessage.case_id)
                .where(Case.executor_id == self.organization_id)))
        return and_(*conditions)

    def problem_filter(self) -> ColumnElement[bool]:
        """The problems the scope sees: of its regions; when narrowed, those with at least
        one case the scope sees (whose list of cases then shows only those)."""
        if self.expert_id is not None:
            return false()
        region = self.region_filter(Problem.region_code)
        if not self.narrowed:
            return region
        return and_(region, exists(select(Case.id).where(Case.problem_id == Problem.id,
                                                        self.case_filter())))

    def contest_filter(self) -> ColumnElement[bool]:
        """The contests the scope sees: of its regions; an expert, those of their tracks."""
        region = self.region_filter(Contest.region_code)
        if self.expert_id is None:
            return region
        return and_(region, Contest.id.in_(
            select(ContestTrack.contest_id).join(ContestExpert,
                                                 ContestExpert.track_id == ContestTrack.id)
            .where(ContestExpert.user_id == self.expert_id)))

    def application_filter(self) -> ColumnElement[bool]:
        """The contest applications the scope sees: of its contests; an expert, those of the
        tracks they are assigned to, less the ones they are recused from (a conflict)."""
        contests = ContestApplication.contest_id.in_(
            select(Contest.id).where(self.region_filter(Contest.region_code)))
        if self.expert_id is None:
            return contests
        return and_(
            contests,
            ContestApplication.track_id.in_(select(ContestExpert.track_id).where(
                ContestExpert.user_id == self.expert_id)),
            ~exists(select(ContestConflict.id).where(
                ContestConflict.application_id == ContestApplication.id,
                ContestConflict.user_id == self.expert_id)))
    def proposal_filter(self) -> ColumnElement[bool]:
        """The residents' proposals the scope sees: its regions, its district; for an
        organization, those it is responsible for reviewing."""
        conditions = [self.region_filter(Proposal.region_code),
                      self.district_filter(Proposal.municipality_id)]
        if self.organization_id is not None:
            conditions.append(Proposal.organization_id == self.organization_id)
        return and_(*conditions)

    def page_filter(self, region: Any, organization: Any, municipality: Any
                    ) -> ColumnElement[bool]:
        """The official pages the scope sees (columns of a page: region code, owner
        organization, municipality): of its regions and district; bound to an organization,
        that organization's pages only."""
        conditions = [self.region_filter(region), self.district_filter(municipality)]
        if self.organization_id is not None:
            conditions.append(organization == self.organization_id)
        return and_(*conditions)

    def incident_filter(self) -> ColumnElement[bool]:
        """The incidents the scope sees: of its regions and district; for an organization,
        those holding one of its cases (an incident is a problem's big sibling)."""
        conditions = [self.region_filter(Incident.region_code),
                      self.district_filter(Incident.municipality_id)]
        if self.organization_id is not None:
            conditions.append(or_(
                Incident.id.in_(select(IncidentCase.incident_id)
                                .join(Case, Case.id == IncidentCase.case_id)
                                .where(Case.executor_id == self.organization_id)),
                Incident.id.in_(select(IncidentMessage.incident_id)
                                .join(CaseMessage,
                                      CaseMessage.message_id == IncidentMessage.message_id)
                                .join(Case, Case.id == CaseMessage.case_id)
                                .where(Case.executor_id == self.organization_id))))
        return and_(*conditions)

    def region_wide_filter(self, column: Any) -> ColumnElement[bool]:
        """A WHERE clause for objects about a whole region (``column``: its region code),
        such as a region's brief: none when the scope is narrowed."""
        return false() if self.narrowed else self.region_filter(column)

    def sees_region_wide(self, region_code: str | None) -> bool:
        """True when an object about the whole of that region is visible."""
        return not self.narrowed and self.sees_region(region_code)


def covered_municipalities(territory_ids: Iterable[int]) -> Select[Any]:
    """The municipalities a set of territories stands for, as a subquery: a municipality
    itself, the municipality of a settlement (or of a street's settlement), and every
    municipality of a region."""
    ids = sorted(territory_ids)
    picked, below = aliased(Territory), aliased(Territory)
    return select(Territory.id).where(
        Territory.level == TerritoryLevel.municipality,
        or_(Territory.id.in_(ids),
            Territory.id.in_(select(picked.parent_id).where(picked.id.in_(ids))),
            Territory.id.in_(select(picked.parent_id)
                             .join(below, below.parent_id == picked.id)
                             .where(below.id.in_(ids))),
            Territory.region_code.in_(select(picked.region_code).where(
                picked.id.in_(ids), picked.level == TerritoryLevel.region))))
