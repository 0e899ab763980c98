"""The access matrix's world: who calls, and one object of each kind a route addresses.

Two regions matter: Tambov (68, where the demo users work: its objects fill every path) and
Samara (36: the same kinds of objects, the "neighbouring ids" an IDOR probe tries). Karelia
(86) holds the demo deputy's district, so every Tambov object is outside the deputy's view.
The demo users come from the demo's own loader; the cases, messages, problems, decisions and
report files are built with the helpers of tests/accounts/test_scope_by_role.py.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from tests.accounts.test_scope_by_role import World as ScopeWorld
from tests.accounts.test_scope_by_role import _case, _decision, _places, _problem
from tests.builders import PASSWORD, make_user
from tests.contests.builders import a_panel, an_application

from otklik.accounts import apikeys
from otklik.accounts import service as accounts
from otklik.accounts.repository import AccountRepository
from otklik.accounts.schemas import TokenCreate
from otklik.accounts.scope import PERMISSIONS
from otklik.audit.actor import Actor
from otklik.demo.loader import load_users
from otklik.models.account import Role, User
from otklik.models.analytics import ReportFile
from otklik.models.case import Answer, CalendarExceptionRow, Extension
from otklik.models.message import Message, MessageEnrichment
from otklik.models.organization import Organization, OrganizationTerritory
from otklik.models.participation import Proposal
from otklik.participation import campaigns, promises, proposals
from otklik.participation.schemas import CampaignCreate, PromiseCreate
from otklik.reports import schedule as schedules
from otklik.workspace import service as views

SYSTEM = Actor.system("access matrix")
HOME, NEIGHBOUR = "68", "36"


@dataclass(frozen=True)
class Identity:
    """One caller of the walk: a role (None = nobody, or an integrator's key) and where it
    stands. ``regions`` None = every region."""

    name: str
    role: Role | None
    permissions: frozenset[str]
    regions: frozenset[str] | None = frozenset({HOME})
    #: "home" (the executor's organization, whose cases the world's objects are), "other"
    organization: str | None = None
    #: narrowed to a district outside the home objects (the deputy)
    district: bool = False
    #: an expert: sees only the contests of their tracks
    expert: bool = False
    #: authenticates with a bearer token, not a cookie session
    token: bool = False
    #: what it is, for the failure messages and the doc
    about: str = ""

    @property
    def logged_in(self) -> bool:
        return self.role is not None or self.token

    def sees_home_region(self) -> bool:
        return self.regions is None or HOME in self.regions


def identities() -> list[Identity]:
    """Every role of PERMISSIONS as a demo user of Tambov (the admin and the analyst: of
    every region; the deputy: of a Karelian district; the page owner: of the executor's
    organization), a user of another region and of
    another organization, nobody, a user's API token narrowed to ``read`` and an
    integrator's key with only ``open311``."""
    p = PERMISSIONS
    every = None
    return [
        Identity("admin", Role.admin, p[Role.admin], every, about="federal administrator"),
        Identity("operator", Role.operator, p[Role.operator], about="operator of Tambov"),
        Identity("curator", Role.curator, p[Role.curator], about="curator of Tambov"),
        Identity("executor", Role.executor, p[Role.executor], organization="home",
                 about="executor of the home organization (Tambov)"),
        Identity("analyst", Role.analyst, p[Role.analyst], every, about="analyst, every region"),
        Identity("head", Role.head, p[Role.head], about="head of Tambov"),
        Identity("deputy", Role.deputy, p[Role.deputy], frozenset({"86"}), district=True,
                 about="deputy of a Karelian district"),
        Identity("expert", Role.expert, p[Role.expert], expert=True,
                 about="expert of the Tambov contest's track"),
        Identity("owner", Role.owner, p[Role.owner], organization="home",
                 about="page owner: the home organization, whose Tambov page the world has"),
        Identity("other_region", Role.operator, p[Role.operator], frozenset({NEIGHBOUR}),
                 about="operator of another region (Samara)"),
        Identity("other_region_head", Role.head, p[Role.head], frozenset({NEIGHBOUR}),
                 about="head of another region (Samara)"),
        Identity("other_org", Role.executor, p[Role.executor], organization="other",
                 about="executor of another organization of Tambov"),
        Identity("nobody", None, frozenset(), frozenset(), about="not logged in"),
        Identity("token_read", Role.operator, frozenset({"read"}), token=True,
                 about="the operator's API token with the scope read"),
        Identity("key_open311", None, frozenset({"open311"}), token=True,
                 about="an integrator's key of Tambov with the scope open311"),
    ]


@dataclass
class Objects:
    """Ids of the world: ``home`` fills the paths, ``neighbour`` is the same kind of object
    in Samara (or of another user), ``missing`` an id nobody has (max + 1)."""

    home: dict[str, object] = field(default_factory=dict)
    neighbour: dict[str, object] = field(default_factory=dict)
    missing: dict[str, object] = field(default_factory=dict)
    #: identity name -> username (cookie) or secret (bearer)
    logins: dict[str, str] = field(default_factory=dict)
    secrets: dict[str, str] = field(default_factory=dict)


def _user(session: Session, name: str) -> User:
    user = AccountRepository(session).by_username(name)
    assert user is not None, name
    return user


def _rename(user: User, name: str) -> User:
    user.username = name
    return user


#: The world's placed channel and registered (inactive) model.
MATRIX_CHANNEL = "Матрица доступа"
MATRIX_MODEL = "matrix-1"


def build(session: Session) -> Objects:
    """Build the world in ``session`` (flushed, never committed)."""
    load_users(session, SYSTEM, PASSWORD)
    objects = Objects()
    executor = _user(session, "executor")
    home_municipality = session.scalar(select(OrganizationTerritory.territory_id).where(
        OrganizationTerritory.organization_id == executor.organization_id))
    tambov = _places(session, HOME, home_municipality)
    samara = _places(session, NEIGHBOUR)
    assert tambov[0].organization == executor.organization_id
    scope_world = ScopeWorld(places={})
    now = datetime.now(UTC)
    for key, place, n in (("home", tambov[0], 1), ("neighbour", samara[0], 2)):
        target = objects.home if key == "home" else objects.neighbour
        problem = _problem(session, scope_world, place.region, place.municipality, "Ямы")
        before = set(scope_world.cases)
        _case(session, scope_world, place, problem, 900 + n, now - timedelta(days=3))
        (case,) = set(scope_world.cases) - before
        message = next(m for m, facts in scope_world.messages.items() if facts[2] == case)
        decision = _decision(session, scope_world, place.region, None, now - timedelta(days=20))
        report = ReportFile(region_code=place.region, period="2026-11", fmt="pdf",
                            title=f"Справка {place.region}", content=b"%PDF", size=4)
        session.add(report)
        extension = Extension(case_id=case, reason="нужно время", status="pending",
                              requested_until=now + timedelta(days=20))
        holiday = CalendarExceptionRow(region_code=place.region, day="2026-12-31",
                                       kind="holiday", note="matrix")
        session.add_all([extension, holiday])
        session.flush()
        target.update(case_id=case, message_id=message, problem_id=problem,
                      decision_id=decision, file_id=report.id, extension_id=extension.id,
                      exception_id=holiday.id, organization_id=place.organization,
                      territory_id=place.municipality)
        target.update(_participation(session, place.region, place.organization,
                                     place.municipality, n))
        target.update(_later_domains(session, place.region, place.organization, n))
        _copy_of_fake(session, int(target["fake_id"]), message)  # type: ignore[call-overload]
        target["incident_id"] = _incident(session, place.region, place.municipality, case, n)
        target["schedule_id"] = schedules.create_schedule(
            session, SYSTEM, region_code=place.region, okrug=None, period_kind="weekly",
            formats=["pdf"]).id
    # the users: the demo's, an expert of the home contest, two of Samara, another org's
    other_org = session.scalar(select(Organization.id).where(
        Organization.region_code == HOME, Organization.id != executor.organization_id)
        .order_by(Organization.id).limit(1))
    _rename(make_user(session, Role.operator, [NEIGHBOUR]), "other_region")
    _rename(make_user(session, Role.head, [NEIGHBOUR]), "other_region_head")
    _rename(make_user(session, Role.executor, [HOME], organization_id=other_org), "other_org")
    _rename(make_user(session, Role.owner, [HOME], organization_id=executor.organization_id),
            "owner")
    home_panel = a_panel(session, experts=1)
    _rename(home_panel.experts[0], "expert")
    objects.home["contest_id"] = home_panel.contest.id
    objects.home["application_id"] = an_application(session, home_panel).id
    # the track nobody scores yet and the expert, for the form assigning an expert
    objects.home["track_id"] = home_panel.tracks[1]
    objects.home["expert_user_id"] = home_panel.experts[0].id
    objects.home["criterion_id"], objects.home["criterion2_id"] = home_panel.criteria[:2]
    samara_panel = a_panel(session, experts=1)
    objects.neighbour["application_id"] = an_application(session, samara_panel).id
    samara_panel.contest.region_code = NEIGHBOUR
    objects.neighbour["contest_id"] = samara_panel.contest.id
    session.flush()
    # the users, their saved views and tokens as path objects
    operator, samara = _user(session, "operator"), _user(session, "other_region")
    objects.home["user_id"], objects.neighbour["user_id"] = operator.id, samara.id
    samara_actor = accounts.actor_for(session, samara)
    objects.home["view_id"] = views.list_views(session, accounts.actor_for(session, operator)
                                               )[0].id
    objects.neighbour["view_id"] = views.save_view(session, samara_actor, "Мои", "topic=roads"
                                                   ).id
    token, secret = accounts.create_token(session, accounts.actor_for(session, operator),
                                          TokenCreate(name="matrix", scopes=["read"]))
    objects.home["token_id"] = token.id
    objects.secrets["token_read"] = secret
    objects.neighbour["token_id"] = accounts.create_token(
        session, samara_actor, TokenCreate(name="matrix", scopes=["read"]))[0].id
    key, secret = apikeys.create_key(session, SYSTEM, scopes=["open311"], name="matrix",
                                     region=HOME)
    objects.home["key_id"] = key.id
    objects.secrets["key_open311"] = secret
    objects.neighbour["key_id"] = apikeys.create_key(
        session, SYSTEM, scopes=["open311"], name="matrix", region=NEIGHBOUR)[0].id
    # a channel placed in Tambov and a registered model (removed and activated by the admin
    # forms; each request is rolled back)
    from otklik.models.case import ModelVersion
    from otklik.models.message import ChannelPlace

    session.add_all([ChannelPlace(channel=MATRIX_CHANNEL, territory_id=home_municipality),
                     ModelVersion(label_field="topic", version=MATRIX_MODEL,
                                  path="models/matrix", metrics={})])
    session.flush()
    _missing(session, objects)
    return objects


def _participation(session: Session, region: str, organization: int, municipality: int,
                   n: int) -> dict[str, object]:
    """A direct line with a question and a promise; a resident's proposal with its notice."""
    now = datetime.now(UTC)
    campaign = campaigns.create_campaign(session, SYSTEM, CampaignCreate(
        region_code=region, title="Прямая линия", opens_at=now - timedelta(days=20),
        closes_at=now - timedelta(days=10), air_at=now - timedelta(days=9),
        announcement_urls=[]))
    question = campaigns.add_question(
        session, campaign, text=f"Когда отремонтируют дорогу на улице номер {n}?",
        channel="hotline", received_at=now - timedelta(days=12), topic="roads",
        municipality_id=municipality)
    promise = promises.make_promise(session, SYSTEM, question.id, PromiseCreate(
        text="Ремонт дороги летом", organization_id=organization, working_days=30))
    text = f"Предлагаю сделать велодорожку вдоль набережной номер {n}, это удобно всем"
    message = Message(source="vk", source_id=f"matrix-proposal-{n}", region_code=region,
                      text=text, text_length=len(text), content_hash=f"matrixprop{n}",
                      created_at=now - timedelta(days=2), received_at=now - timedelta(days=2),
                      enrich_status="done", attachments=[], raw={})
    session.add(message)
    session.flush()
    enrichment = MessageEnrichment(message_id=message.id, relevant=True, kind="proposal",
                                   topic="social", sentiment="neutral", region_code=region,
                                   municipality_id=municipality, result={})
    session.add(enrichment)
    session.flush()
    proposal = proposals.from_message(session, SYSTEM, message, enrichment, organization)
    proposals.change_status(session, SYSTEM, proposal.id, "under_review")
    notice = session.scalar(select(Answer.id).where(Answer.case_id == proposal.case_id)
                            .order_by(Answer.id.desc()).limit(1))
    session.flush()
    return {"campaign_id": campaign.id, "question_id": question.id, "promise_id": promise.id,
            "proposal_id": proposal.id, "answer_id": notice}


def _later_domains(session: Session, region: str, organization: int, n: int
                   ) -> dict[str, object]:
    """A fake and a suspect, an official page of the place's organization (the owner's), a
    webhook subscription (of nobody: an administrator of its region sees it), a duty roster
    of the region with one member."""
    from otklik.models.fakes import Fake, FakeSuspect
    from otklik.models.notify import DutyMember, DutyRoster
    from otklik.models.publics import PublicPage
    from otklik.models.territory import Territory, TerritoryLevel
    from otklik.models.webhooks import WebhookSubscription

    now = datetime.now(UTC)
    fake = Fake(region_code=region, claim=f"Вода в районе номер {n} отравлена", key_phrases=[],
                status="checking", refutation_state="none", version=1)
    suspect = FakeSuspect(region_code=region, text=f"Срочно: в городе номер {n} закрывают школы",
                          text_hash=f"matrix-suspect-{n}".ljust(64, "0"), source="vk",
                          score=0.9, reasons=[], authors=3)
    page = PublicPage(region_code=region, platform="vk", external_id=f"matrix{n}",
                      url=f"https://vk.com/matrix{n}", name=f"Школа номер {n}",
                      page_type="school", page_class="active", status="active", cursor={},
                      organization_id=organization)
    hook = WebhookSubscription(name=f"matrix {n}", url="https://example.org/hook",
                               events=["case.created"], secret="whsec_matrix", region_code=region,
                               owner_id=None, is_active=False, consecutive_failures=10,
                               created_at=now, updated_at=now)
    territory = session.scalar(select(Territory.id).where(
        Territory.region_code == region, Territory.level == TerritoryLevel.region).limit(1))
    roster = DutyRoster(name=f"Дежурные {n}", region_id=territory, escalate_after_minutes=15,
                        is_active=True)
    session.add_all([fake, suspect, page, hook, roster])
    session.flush()
    member = DutyMember(roster_id=roster.id, position=0, name="Дежурный",
                        email="duty@example.org")
    session.add(member)
    session.flush()
    return {"fake_id": fake.id, "suspect_id": suspect.id, "page_id": page.id,
            "subscription_id": hook.id, "roster_id": roster.id, "member_id": member.id,
            "region_territory_id": territory}


def _copy_of_fake(session: Session, fake: int, message: int) -> None:
    """The case's message is a copy of the region's fake (its origin is marked by hand)."""
    from otklik.models.fakes import FakeCopy

    session.add(FakeCopy(fake_id=fake, message_id=message, score=0.9, source="vk",
                         posted_at=datetime.now(UTC) - timedelta(days=3)))
    session.flush()


def _incident(session: Session, region: str, municipality: int, case: int, n: int) -> int:
    """An open incident of the region holding the world's case (whoever sees the case sees
    the incident: accounts/scope.py incident_filter)."""
    from otklik.models.incident import Incident, IncidentCase, IncidentStatus

    now = datetime.now(UTC)
    incident = Incident(title=f"Нет воды, район {n}", kind="hazard", hazard="no_water",
                        region_code=region, municipality_id=municipality,
                        territory_ids=[municipality], severity="high", opened_by="matrix",
                        status=IncidentStatus.open,
                        started_at=now, created_at=now, updated_at=now)
    session.add(incident)
    session.flush()
    session.add(IncidentCase(incident_id=incident.id, case_id=case))
    session.flush()
    return incident.id


#: Which table an object parameter's ids come from, for a guessed id (max + 1).
def _missing(session: Session, objects: Objects) -> None:
    from otklik import models

    tables = {
        "case_id": models.case.Case, "message_id": Message, "problem_id": models.case.Problem,
        "decision_id": models.decision.Decision, "file_id": ReportFile,
        "extension_id": Extension, "exception_id": CalendarExceptionRow,
        "organization_id": Organization, "territory_id": models.territory.Territory,
        "campaign_id": models.participation.Campaign,
        "question_id": models.participation.CampaignQuestion,
        "promise_id": models.participation.Promise, "proposal_id": Proposal,
        "answer_id": Answer, "schedule_id": models.analytics.ReportSchedule,
        "contest_id": models.contests.Contest,
        "application_id": models.contests.ContestApplication,
        "user_id": User, "view_id": models.workspace.SavedView,
        "token_id": models.account.ApiToken, "key_id": models.account.ApiToken,
        "fake_id": models.fakes.Fake, "suspect_id": models.fakes.FakeSuspect,
        "page_id": models.publics.PublicPage,
        "subscription_id": models.webhooks.WebhookSubscription,
        "roster_id": models.notify.DutyRoster, "member_id": models.notify.DutyMember,
        "incident_id": models.incident.Incident,
    }
    for name, table in tables.items():
        objects.missing[name] = (session.scalar(select(func.max(table.id))) or 0) + 1
