"""Loading the demo: five regions' organizations and the demo users.

Territories come from the shipped reference (all of Russia); messages, cases and the rest
are added by their own domains' demo steps.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from otklik.accounts.repository import AccountRepository
from otklik.accounts.schemas import UserCreate
from otklik.accounts.scope import Scope
from otklik.accounts.service import create_user
from otklik.audit.actor import Actor
from otklik.demo.organizations import DEMO_REGIONS, REGIONAL_BODIES, municipal_admin_name
from otklik.models.account import Role, User
from otklik.models.organization import Organization, OrganizationKind
from otklik.models.territory import TerritoryLevel
from otklik.organizations.repository import OrganizationRepository
from otklik.organizations.schemas import OrganizationCreate
from otklik.organizations.service import create_organization
from otklik.territories.repository import TerritoryRepository

#: The executor demo user answers for this municipality (the Michurinsk overpass story).
EXECUTOR_MUNICIPALITY_HINT = "города Мичуринска"
HOME_REGION = "68"
#: The deputy demo user: a member of Karelia's legislature (DESIGN.md story 1) who sees the
#: analytics of their district.
DEPUTY_REGION = "86"
DEPUTY_DISTRICT = "Кондопожский район"


@dataclass(frozen=True)
class DemoLogin:
    """A demo user to print."""

    username: str
    role: Role
    scope: str


def load_organizations(session: Session, actor: Actor) -> int:
    """Create the demo regions' organizations (idempotent by region and name)."""
    territories = TerritoryRepository(session)
    repo = OrganizationRepository(session)
    created = 0
    for code, gen in DEMO_REGIONS.items():
        region = territories.region(code)
        if region is None:
            continue
        for kind, template, short in REGIONAL_BODIES:
            name = template.format(gen=gen)
            if repo.by_name(code, name) is None:
                create_organization(session, actor, OrganizationCreate(
                    region_code=code, name=name, short_name=short, kind=kind,
                    territory_ids=[region.id],
                ))
                created += 1
        capital = (region.names or {}).get("capital")
        for municipality in territories.children(region.id):
            name = municipal_admin_name(municipality.name)
            if repo.by_name(code, name) is None:
                create_organization(session, actor, OrganizationCreate(
                    region_code=code, name=name, short_name=municipality.short_name,
                    kind=OrganizationKind.municipal_admin, territory_ids=[municipality.id],
                ))
                created += 1
            if capital and municipality.short_name == capital:
                name = f"Водоканал города {capital}"
                if repo.by_name(code, name) is None:
                    create_organization(session, actor, OrganizationCreate(
                        region_code=code, name=name, short_name="Водоканал",
                        kind=OrganizationKind.utility, territory_ids=[municipality.id],
                    ))
                    created += 1
    return created


def _executor_organization(session: Session) -> Organization:
    repo = OrganizationRepository(session)
    rows, _ = repo.page(
        Scope.system(), region_code=HOME_REGION, kind=OrganizationKind.municipal_admin,
        q=EXECUTOR_MUNICIPALITY_HINT, limit=1,
    )
    if not rows:
        rows, _ = repo.page(Scope.system(), region_code=HOME_REGION,
                            kind=OrganizationKind.municipal_admin, limit=1)
    return rows[0]


def _deputy_district(session: Session) -> int | None:
    """The deputy's district: a municipality of Karelia (None when not loaded)."""
    rows, _ = TerritoryRepository(session).page(
        Scope.system(), level=TerritoryLevel.municipality, region_code=DEPUTY_REGION,
        q=DEPUTY_DISTRICT, limit=1)
    return rows[0].id if rows else None


def load_users(session: Session, actor: Actor, password: str) -> list[DemoLogin]:
    """Create the demo users (admin, operator, curator, executor, analyst, head, and a
    deputy of Karelia's legislature scoped to their district)."""
    accounts = AccountRepository(session)
    executor_org = _executor_organization(session)
    district = _deputy_district(session)
    plan = [
        ("admin", Role.admin, "Администратор Отклика", True, None),
        ("operator", Role.operator, "Оператор ЦУР Тамбовской области", False, None),
        ("curator", Role.curator, "Куратор ЦУР Тамбовской области", False, None),
        ("executor", Role.executor, f"Исполнитель: {executor_org.name}", False, executor_org.id),
        ("analyst", Role.analyst, "Аналитик (все регионы)", True, None),
        ("head", Role.head, "Руководитель: Правительство Тамбовской области", False, None),
    ]
    if district is not None:
        plan.append(("deputy", Role.deputy, "Депутат Законодательного Собрания Республики "
                     f"Карелия ({DEPUTY_DISTRICT})", False, None))
    logins: list[DemoLogin] = []
    for username, role, full_name, all_regions, organization_id in plan:
        deputy = role == Role.deputy
        region = DEPUTY_REGION if deputy else HOME_REGION
        if accounts.by_username(username) is None:
            create_user(session, actor, UserCreate(
                username=username, password=password, role=role, full_name=full_name,
                all_regions=all_regions, region_codes=[] if all_regions else [region],
                organization_id=organization_id,
                territory_ids=[district] if deputy and district is not None else [],
            ), is_demo=True)
        scope = "все регионы" if all_regions else "Тамбовская область"
        if organization_id:
            scope = executor_org.name
        if deputy:
            scope = f"Республика Карелия: {DEPUTY_DISTRICT}"
        logins.append(DemoLogin(username, role, scope))
    _demo_views(session, accounts.by_username("operator"))
    return logins


#: Saved queue views the demo operator starts with (docs/workspace.md).
DEMO_VIEWS = (("Просроченные", "overdue=1"), ("Дороги на разборе", "topic=roads&status=triage"))


def _demo_views(session: Session, user: User | None) -> None:
    from otklik.accounts.service import actor_for
    from otklik.workspace import service as views

    if user is None:
        return
    operator = actor_for(session, user)
    if not views.list_views(session, operator):
        for name, query in DEMO_VIEWS:
            views.save_view(session, operator, name, query)


def demo_is_loaded(session: Session) -> bool:
    """True when the demo users exist already (a second `make demo` reuses the data)."""
    return bool(AccountRepository(session).demo_users())


def demo_regions_loaded(session: Session) -> bool:
    """True when the five demo regions' territories are in the database."""
    repo = TerritoryRepository(session)
    return all(repo.region(code) is not None for code in DEMO_REGIONS) and bool(
        repo.count_by_level().get(TerritoryLevel.settlement.value)
    )


def demo_messages_loaded(session: Session) -> bool:
    """True when messages are stored already (the stream is loaded once)."""
    from otklik.intake.repository import MessageRepository

    return bool(MessageRepository(session).count_by_source())


def load_channel_places(session: Session, actor: Actor) -> int:
    """Tie the demo's town communities to their towns (idempotent); returns how many."""
    from otklik.demo.stream_vocab import load_regions
    from otklik.intake import channel_places
    from otklik.intake.repository import ChannelPlaceRepository

    territories = TerritoryRepository(session)
    repo = ChannelPlaceRepository(session)
    added = 0
    for code, region in load_regions().items():
        for channel in region.channels:
            if not channel.city or repo.by_channel(channel.name) is not None:
                continue
            towns, _ = territories.page(Scope.system(), level=TerritoryLevel.settlement,
                                        region_code=code, q=channel.city, limit=5)
            town = next((t for t in towns if t.name == channel.city), None)
            if town is None:
                continue
            channel_places.set_place(session, actor, channel.name, town.key)
            added += 1
    return added
