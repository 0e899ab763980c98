"""ORM tables, one file per table group. Importing this package registers them all."""

import otklik.models.analytics  # noqa: F401  (rollups, report schedules)
import otklik.models.contests  # noqa: F401  (contests: tracks, experts, applications)
import otklik.models.decision  # noqa: F401  (decisions)
import otklik.models.fakes  # noqa: F401  (the registry of fakes)
import otklik.models.incident  # noqa: F401  (incidents, their timeline and updates)
import otklik.models.media  # noqa: F401  (residents' photos)
import otklik.models.notify  # noqa: F401  (alerts, duty rosters, the delivery log)
import otklik.models.open311  # noqa: F401  (Open311 service requests)
import otklik.models.participation  # noqa: F401  (direct lines, proposals)
import otklik.models.pd  # noqa: F401  (consents, anonymised messages)
import otklik.models.publics  # noqa: F401  (official pages and their rating)
import otklik.models.report_delivery  # noqa: F401  (e-mailed briefs)
import otklik.models.taxonomy  # noqa: F401  (rubricator versions)
import otklik.models.webhooks  # noqa: F401  (integrators' webhook subscriptions)
import otklik.models.workspace  # noqa: F401  (saved views of the queue)
from otklik.models.account import ApiToken, Role, User, UserSession, UserTerritory
from otklik.models.audit import AuditEntry
from otklik.models.case import (
    Answer,
    CalendarExceptionRow,
    Case,
    CaseEvent,
    CaseMessage,
    CaseStatus,
    DeadlinePolicyRow,
    Extension,
    Label,
    ModelVersion,
    Problem,
    Publication,
    RoutingRule,
)
from otklik.models.message import (
    ChannelPlace,
    Connector,
    IntakeEvent,
    Message,
    MessageEnrichment,
    MessageRevision,
)
from otklik.models.organization import Organization, OrganizationKind, OrganizationTerritory
from otklik.models.territory import Territory, TerritoryLevel

__all__ = [
    "Answer",
    "CalendarExceptionRow",
    "Case",
    "CaseEvent",
    "ChannelPlace",
    "CaseMessage",
    "CaseStatus",
    "DeadlinePolicyRow",
    "Extension",
    "Label",
    "ModelVersion",
    "Problem",
    "Publication",
    "RoutingRule",
    "ApiToken",
    "AuditEntry",
    "Connector",
    "IntakeEvent",
    "Message",
    "MessageEnrichment",
    "MessageRevision",
    "Organization",
    "OrganizationKind",
    "OrganizationTerritory",
    "Role",
    "Territory",
    "TerritoryLevel",
    "User",
    "UserSession",
    "UserTerritory",
]
