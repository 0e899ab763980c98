"""What each demo role sees, asked from outside: cases, messages, problems (with their cases),
decisions and report files, by id and in lists, through the API and the HTML pages.

A small world in three regions: Tambov (68, the demo's home region: the executor's
municipality and another one), Karelia (86: the demo deputy's district and another
municipality) and Samara (36, nobody's but its own users'). Each municipality has a message,
a case routed to its administration and a problem; each region has a problem shared by two
municipalities, decisions about one municipality and about the whole region, and a brief.
The demo users are made by the demo's own loader (src/otklik/demo/loader.py); two users of
Samara stand for "a user of another region". What each should see is computed here in plain
Python from the rules in docs/workspace.md; an object outside the scope answers 404, exactly
like an id that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, aliased
from tests.builders import PASSWORD, make_user
from tests.conftest import login

from otklik.accounts.repository import AccountRepository
from otklik.accounts.scope import covered_municipalities
from otklik.audit.actor import Actor
from otklik.db.base import utcnow
from otklik.demo.loader import load_users
from otklik.models.account import Role, User
from otklik.models.analytics import ReportFile
from otklik.models.case import Case, CaseMessage, CaseStatus, Problem
from otklik.models.decision import Decision, DecisionLink
from otklik.models.message import Message, MessageEnrichment
from otklik.models.organization import Organization, OrganizationKind, OrganizationTerritory
from otklik.models.territory import Territory, TerritoryLevel

HTML = {"accept": "text/html"}
MISSING = 999_999_999
#: The demo's users and, for "another region", two users of Samara.
ROLES = ("admin", "operator", "curator", "executor", "analyst", "head", "deputy",
         "samara_operator", "samara_head")


@dataclass
class Place:
    """A municipality of the world with its administration (the cases' executor)."""

    region: str
    municipality: int
    organization: int


@dataclass
class World:
    """The objects of the fixture and what they are about."""

    places: dict[str, Place]
    #: case id -> (region, municipality, executor, problem)
    cases: dict[int, tuple[str, int, int, int]] = field(default_factory=dict)
    #: message id -> (region, municipality, case id)
    messages: dict[int, tuple[str, int, int]] = field(default_factory=dict)
    #: problem id -> region
    problems: dict[int, str] = field(default_factory=dict)
    #: decision id -> (region, municipality or None for the whole region)
    decisions: dict[int, tuple[str, int | None]] = field(default_factory=dict)
    #: report file id -> region
    reports: dict[int, str] = field(default_factory=dict)
    #: a region's problem spanning two municipalities
    shared: dict[str, int] = field(default_factory=dict)
    #: the region-wide decision of a region
    region_wide: dict[str, int] = field(default_factory=dict)


def _places(session: Session, region: str, first: int | None = None) -> list[Place]:
    """Municipalities of a region with their administrations (``first``: this one first)."""
    rows = session.execute(
        select(Territory.id, Organization.id)
        .join(OrganizationTerritory, OrganizationTerritory.territory_id == Territory.id)
        .join(Organization, Organization.id == OrganizationTerritory.organization_id)
        .where(Territory.level == TerritoryLevel.municipality, Territory.region_code == region,
               Organization.kind == OrganizationKind.municipal_admin)
        .order_by(Territory.id)).all()
    places = [Place(region, m, o) for m, o in rows]
    places.sort(key=lambda p: p.municipality != first)
    return places[:2]


def _case(session: Session, world: World, place: Place, problem: int, n: int,
          created: datetime) -> None:
    text = f"Яма на дороге у дома {n}, колёса бьём каждый день"
    message = Message(source="vk", source_id=f"scope-{n}", region_code=place.region, text=text,
                      text_length=len(text), content_hash=f"scope{n}", created_at=created,
                      received_at=created, enrich_status="done", attachments=[], raw={})
    session.add(message)
    session.flush()
    session.add(MessageEnrichment(message_id=message.id, relevant=True, topic="roads",
                                  sentiment="negative", region_code=place.region,
                                  municipality_id=place.municipality, result={}))
    case = Case(region_code=place.region, status=CaseStatus.routed, title=text[:60],
                topic="roads", source="vk", municipality_id=place.municipality,
                executor_id=place.organization, problem_id=problem, received_at=created,
                routed_at=created, resolution_due=created + timedelta(days=10), routing={},
                pauses=[])
    session.add(case)
    session.flush()
    session.add(CaseMessage(message_id=message.id, case_id=case.id, is_primary=True))
    world.cases[case.id] = (place.region, place.municipality, place.organization, problem)
    world.messages[message.id] = (place.region, place.municipality, case.id)


def _problem(session: Session, world: World, region: str, municipality: int,
             title: str) -> int:
    problem = Problem(region_code=region, title=title, topic="roads",
                      municipality_id=municipality, first_seen=utcnow() - timedelta(days=9),
                      last_seen=utcnow(), size=1)
    session.add(problem)
    session.flush()
    world.problems[problem.id] = region
    return problem.id


def _decision(session: Session, world: World, region: str, municipality: int | None,
              decided: datetime) -> int:
    decision = Decision(region_code=region, title=f"Ремонт дорог ({region}, {municipality})",
                        decided_on=decided.date(), decided_by="Правительство")
    session.add(decision)
    session.flush()
    session.add(DecisionLink(decision_id=decision.id, topic="roads"))
    if municipality is not None:
        session.add(DecisionLink(decision_id=decision.id, territory_id=municipality))
    world.decisions[decision.id] = (region, municipality)
    return decision.id


@pytest.fixture
def world(session: Session) -> World:
    """The demo users and the three regions' objects."""
    load_users(session, Actor.system("tests"), PASSWORD)
    executor = AccountRepository(session).by_username("executor")
    deputy = AccountRepository(session).by_username("deputy")
    assert executor is not None and deputy is not None
    district = next(iter(AccountRepository(session).territory_ids(deputy.id)))
    home = session.get(Organization, executor.organization_id)
    assert home is not None
    home_municipality = session.scalar(select(OrganizationTerritory.territory_id).where(
        OrganizationTerritory.organization_id == home.id))
    tambov = _places(session, "68", home_municipality)
    karelia = _places(session, "86", district)
    samara = _places(session, "36")[:1]
    assert tambov[0].organization == home.id and karelia[0].municipality == district
    places = {"A": tambov[0], "B": tambov[1], "K": karelia[0], "P": karelia[1],
              "S": samara[0]}
    world = World(places)
    now = utcnow()
    decided = now - timedelta(days=20)
    n = 0
    for name, place in places.items():
        problem = _problem(session, world, place.region, place.municipality, f"Ямы ({name})")
        for _ in range(2):
            n += 1
            _case(session, world, place, problem, n, now - timedelta(days=5, hours=n))
        _decision(session, world, place.region, place.municipality, decided)
    for region, (one, two) in (("68", ("A", "B")), ("86", ("K", "P"))):
        problem = _problem(session, world, region, places[one].municipality, "Общая проблема")
        world.shared[region] = problem
        for name in (one, two):
            n += 1
            _case(session, world, places[name], problem, n, now - timedelta(days=4, hours=n))
    for region in ("68", "86", "36"):
        world.region_wide[region] = _decision(session, world, region, None, decided)
        report = ReportFile(region_code=region, period="2026-11", fmt="pdf",
                            title=f"Справка {region}", content=b"%PDF", size=4)
        session.add(report)
        session.flush()
        world.reports[report.id] = region
    make_user(session, Role.operator, ["36"]).username = "samara_operator"
    make_user(session, Role.head, ["36"]).username = "samara_head"
    session.flush()
    return world


# -- what each role should see (plain Python, from docs/workspace.md) ----------------------------


@dataclass(frozen=True)
class Expect:
    """A role's view of the world: predicates on the objects' facts."""

    region: Callable[[str], bool]
    municipality: Callable[[int], bool] = lambda m: True
    organization: int | None = None
    analytics: bool = True
    #: Narrowed to a district or an organization: no region-wide briefs.
    narrowed: bool = False

    def case(self, facts: tuple[str, int, int, int]) -> bool:
        region, municipality, executor, _ = facts
        return (self.region(region) and self.municipality(municipality)
                and self.organization in (None, executor))


def expectations(session: Session, world: World) -> dict[str, Expect]:
    """The rules of docs/workspace.md written out per role."""
    executor = AccountRepository(session).by_username("executor")
    assert executor is not None
    district = world.places["K"].municipality
    everywhere = Expect(region=lambda r: True)
    tambov = Expect(region=lambda r: r == "68", analytics=False)
    return {
        "admin": everywhere, "analyst": everywhere,
        "operator": tambov, "curator": tambov,
        "head": Expect(region=lambda r: r == "68"),
        "executor": Expect(region=lambda r: r == "68", organization=executor.organization_id,
                           analytics=False, narrowed=True),
        "deputy": Expect(region=lambda r: r == "86", municipality=lambda m: m == district,
                         narrowed=True),
        "samara_operator": Expect(region=lambda r: r == "36", analytics=False),
        "samara_head": Expect(region=lambda r: r == "36"),
    }


def _visible_cases(world: World, expect: Expect) -> set[int]:
    return {i for i, facts in world.cases.items() if expect.case(facts)}


def _visible_problems(world: World, expect: Expect) -> set[int]:
    cases = _visible_cases(world, expect)
    return {p for p, region in world.problems.items() if expect.region(region) and any(
        world.cases[c][3] == p for c in cases)}


def _visible_messages(world: World, expect: Expect) -> set[int]:
    if expect.organization is not None:
        return set()  # executors read messages in their cases' cards, not as messages
    return {i for i, (region, municipality, _) in world.messages.items()
            if expect.region(region) and expect.municipality(municipality)}


def _visible_decisions(world: World, expect: Expect) -> set[int]:
    if not expect.analytics:
        return set()
    return {i for i, (region, municipality) in world.decisions.items()
            if expect.region(region) and (municipality is None
                                          or expect.municipality(municipality))}


def _visible_reports(world: World, expect: Expect) -> set[int]:
    if not expect.analytics or expect.narrowed:
        return set()
    return {i for i, region in world.reports.items() if expect.region(region)}


def _by_id(get: Callable[..., Any], template: str, ids: dict[int, Any], visible: set[int],
           *, html: bool = False, denied: int = 404) -> None:
    """Each object answers 200 when visible, else exactly what a missing id answers."""
    headers = HTML if html else {}
    missing = get(template.format(MISSING), headers=headers).status_code
    assert missing == denied, template
    for ident in ids:
        status = get(template.format(ident), headers=headers).status_code
        assert status == (200 if ident in visible else missing), (template.format(ident),
                                                                  status)


def _listed(page: str, marker: str, ids: dict[int, Any]) -> set[int]:
    return {i for i in ids if marker.format(i) in page}


# -- the tests -----------------------------------------------------------------------------------


@pytest.mark.parametrize("role", ROLES)
def test_each_role_sees_exactly_its_scope(client: Any, session: Session, world: World,
                                          role: str) -> None:
    expect = expectations(session, world)[role]
    login(client, role, PASSWORD)
    get = client.get
    cases, problems = _visible_cases(world, expect), _visible_problems(world, expect)
    messages, decisions = _visible_messages(world, expect), _visible_decisions(world, expect)
    reports = _visible_reports(world, expect)
    assert cases, "every role sees some case of the world"

    # Cases: the API and the card by id, the API list and the queue (the executor's cabinet).
    _by_id(get, "/api/v1/cases/{}", world.cases, cases)
    _by_id(get, "/cases/{}", world.cases, cases, html=True)
    listed = {c["id"] for c in get("/api/v1/cases?limit=500").json()["items"]}
    assert listed & set(world.cases) == cases
    queue = get("/my" if expect.organization else "/cases?status=all").text
    assert _listed(queue, 'data-case-id="{}"', world.cases) == cases

    # Problems: by id and in lists, and each problem's cases.
    _by_id(get, "/api/v1/problems/{}", world.problems, problems)
    _by_id(get, "/problems/{}", world.problems, problems, html=True)
    listed = {p["id"] for p in get("/api/v1/problems?limit=500").json()["items"]}
    assert listed & set(world.problems) == problems
    assert _listed(get("/problems").text, 'data-href="/problems/{}"', world.problems) == problems
    for problem in problems:
        own = {c for c in cases if world.cases[c][3] == problem}
        api = {c["id"] for c in get(f"/api/v1/cases?problem_id={problem}").json()["items"]}
        page = get(f"/problems/{problem}").text
        assert api == own == _listed(page, 'href="/cases/{}"', world.cases), problem

    # Messages: the API by id and the list (an executor reads them only in its cases' cards).
    if expect.organization is None:
        _by_id(get, "/api/v1/messages/{}", world.messages, messages)
        listed = {m["id"] for m in get("/api/v1/messages?limit=500").json()["items"]}
        assert listed & set(world.messages) == messages
    else:
        _by_id(get, "/api/v1/messages/{}", world.messages, set())
        assert get("/api/v1/messages").status_code == 404
        for case in cases:
            card = get(f"/api/v1/cases/{case}").json()
            assert {m["id"] for m in card["messages"]} == {
                m for m, facts in world.messages.items() if facts[2] == case}

    # Decisions and briefs: analytics roles only (the others are refused whatever the id).
    if expect.analytics:
        _by_id(get, "/api/v1/decisions/{}", world.decisions, decisions)
        _by_id(get, "/analytics/decisions/{}", world.decisions, decisions, html=True)
        listed = {d["id"] for d in get("/api/v1/decisions?limit=500").json()["items"]}
        assert listed & set(world.decisions) == decisions
        assert _listed(get("/analytics/decisions").text, 'data-decision-id="{}"',
                       world.decisions) == decisions
        _by_id(get, "/analytics/reports/files/{}", world.reports, reports, html=True)
        assert _listed(get("/analytics/reports").text, '/analytics/reports/files/{}"',
                       world.reports) == reports
    else:
        _by_id(get, "/api/v1/decisions/{}", world.decisions, set(), denied=403)
        _by_id(get, "/analytics/decisions/{}", world.decisions, set(), html=True, denied=403)
        _by_id(get, "/analytics/reports/files/{}", world.reports, set(), html=True,
               denied=403)


def test_a_deputy_measures_a_decision_in_their_district(client: Any, session: Session,
                                                        world: World) -> None:
    """The effect of a region-wide decision counts and lists the district's messages only;
    a dashboard filter on another municipality is a 404, not zeros."""
    decision = world.region_wide["86"]
    district = {m for m, (_, municipality, _) in world.messages.items()
                if municipality == world.places["K"].municipality}
    region = {m for m, (code, _, _) in world.messages.items() if code == "86"}
    seen: dict[str, set[int]] = {}
    for role in ("analyst", "deputy"):
        client.cookies.clear()
        login(client, role, PASSWORD)
        listed = client.get(f"/api/v1/decisions/{decision}/messages?side=after&window=30")
        assert listed.status_code == 200, listed.text
        seen[role] = {m["id"] for m in listed.json()["items"]} & set(world.messages)
        effect = client.get(f"/api/v1/decisions/{decision}/effect?window=30").json()
        assert effect["messages_after"] == listed.json()["total"]
    assert seen["analyst"] == region and seen["deputy"] == district
    other = world.places["P"].municipality
    assert client.get(f"/api/v1/analytics/dashboard?municipality_id={other}"
                      ).status_code == 404
    assert client.get(f"/api/v1/analytics/dashboard?municipality_id="
                      f"{world.places['K'].municipality}").status_code == 200


def test_a_narrowed_user_cannot_answer_a_whole_problem(client: Any, session: Session,
                                                       world: World) -> None:
    """A bulk answer goes to every case of a problem: a curator narrowed to one
    municipality sees the shared problem but may not answer the cases it does not see."""
    curator = session.scalar(select(User).where(User.username == "curator"))
    assert curator is not None
    AccountRepository(session).set_territories(curator.id, [world.places["A"].municipality])
    session.flush()
    csrf = login(client, "curator", PASSWORD)
    problem = world.shared["68"]
    answered = client.post(f"/api/v1/problems/{problem}/answer", headers={"x-csrf-token": csrf},
                           json={"text": "Ремонт дороги запланирован на весну, подрядчик "
                                         "определён, работы начнутся в апреле."})
    assert answered.status_code == 403, answered.text
    assert {c["id"] for c in client.get(f"/api/v1/cases?problem_id={problem}").json()[
        "items"]} == {c for c, facts in world.cases.items()
                      if facts[3] == problem and facts[1] == world.places["A"].municipality}


def test_covered_municipalities_follow_the_territory_tree(session: Session) -> None:
    """A municipality stands for itself, a settlement for its municipality, a region for all
    of its municipalities."""
    parent = aliased(Territory)
    municipality, settlement = session.execute(
        select(parent.id, Territory.id).join(parent, parent.id == Territory.parent_id).where(
            Territory.level == TerritoryLevel.settlement, Territory.region_code == "86",
            parent.level == TerritoryLevel.municipality)
        .order_by(Territory.id).limit(1)).one()
    region = session.scalar(select(Territory.id).where(
        Territory.level == TerritoryLevel.region, Territory.region_code == "86"))
    all_86 = set(session.scalars(select(Territory.id).where(
        Territory.level == TerritoryLevel.municipality, Territory.region_code == "86")))

    def covered(*ids: int) -> set[int]:
        return set(session.scalars(covered_municipalities(ids)))

    assert covered(municipality) == {municipality}
    assert covered(settlement) == {municipality}
    assert covered(region) == all_86 and len(all_86) > 2
    assert covered() == set()
