"""The demo's routing rules and deadline policies for the five regions.

Municipal matters go to the municipality's administration; regional ones to the ministry,
inspection, utility or waste operator responsible; what matches nothing goes to triage.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.audit.actor import Actor
from otklik.cases.admin import add_policy, add_rule
from otklik.cases.repository import CaseRepository
from otklik.cases.schemas import PolicyCreate, RuleCreate
from otklik.demo.organizations import DEMO_REGIONS
from otklik.models.organization import OrganizationKind
from otklik.organizations.repository import OrganizationRepository
from otklik.sla.policy import DEFAULT_POLICIES
from otklik.territories.repository import TerritoryRepository

#: Topics a municipality's administration answers for its own territory.
MUNICIPAL_TOPICS = ("roads", "improvement", "transport", "safety", "trade", "agriculture",
                    "government", "culture_sport", "ecology")

#: (topic, subtopic) → short name of the regional body (see demo/organizations.py).
REGIONAL: list[tuple[str, str | None, str]] = [
    ("utilities", "utilities.power", "Электросети"),
    ("utilities", "utilities.gas", "Газораспределение"),
    ("utilities", None, "Минстрой и ЖКХ"),
    ("housing", None, "ГЖИ"),
    ("waste", None, "Регоператор ТКО"),
    ("health", None, "Минздрав"),
    ("education", None, "Минобрнауки"),
    ("social", None, "Минсоцзащиты"),
    ("employment", None, "Минсоцзащиты"),
    ("ecology", None, "Минприроды"),
    ("communications", None, "Минцифры"),
    ("culture_sport", None, "Минкультуры"),
    ("construction", None, "Минстрой и ЖКХ"),
    ("roads", None, "Минтранс"),
    ("transport", None, "Минтранс"),
]


def load_routing(session: Session, actor: Actor) -> int:
    """Create the demo regions' routing rules once (idempotent per region)."""
    repo = CaseRepository(session)
    organizations = OrganizationRepository(session)
    territories = TerritoryRepository(session)
    created = 0
    for code in DEMO_REGIONS:
        region = territories.region(code)
        if region is None or repo.rules(code):
            continue
        orgs, _ = organizations.page(Scope.system(), region_code=code, limit=1000)
        by_short = {o.short_name: o for o in orgs if o.kind != OrganizationKind.municipal_admin}
        admins = {territory_id: o for o in orgs if o.kind == OrganizationKind.municipal_admin
                  for territory_id in organizations.territory_ids(o.id)}
        for municipality in territories.children(region.id):
            admin = admins.get(municipality.id)
            if admin is None:
                continue
            for topic in MUNICIPAL_TOPICS:
                add_rule(session, actor, RuleCreate(
                    region_code=code, executor_id=admin.id, topic=topic,
                    territory_id=municipality.id, position=10,
                    note=f"{topic}: администрация муниципалитета"))
                created += 1
        for position, (topic, subtopic, short) in enumerate(REGIONAL, start=50):
            body = by_short.get(short)
            if body is not None:
                add_rule(session, actor, RuleCreate(
                    region_code=code, executor_id=body.id, topic=topic, subtopic=subtopic,
                    position=position, note=f"{topic}: {short}"))
                created += 1
    return created


def load_policies(session: Session, actor: Actor) -> int:
    """Store the default deadline policies once (for all regions)."""
    if CaseRepository(session).policies(None):
        return 0
    for position, policy in enumerate(DEFAULT_POLICIES):
        add_policy(session, actor, PolicyCreate(region_code=None, position=position,
                                                policy=policy.to_json()))
    return len(DEFAULT_POLICIES)


def load_regions_for_cases(session: Session, actor: Actor) -> None:
    """The five demo regions with what building their cases needs — territories, bodies,
    deadline rules, routing and the town communities' places — in one call (benches and
    tests that build cases from a demo stream without the rest of the demo)."""
    from otklik.demo import loader
    from otklik.territories.service import load_territories

    load_territories(session, actor, list(DEMO_REGIONS))
    loader.load_organizations(session, actor)
    load_policies(session, actor)
    load_routing(session, actor)
    loader.load_channel_places(session, actor)
