"""A user of one region cannot read another region's territories or organizations."""

import pytest
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, an_organization, make_user
from tests.conftest import TEST_REGIONS, login

from otklik.accounts.service import actor_for
from otklik.errors import NotFound
from otklik.models.account import Role
from otklik.models.organization import OrganizationKind
from otklik.models.territory import TerritoryLevel
from otklik.organizations import service as organizations
from otklik.territories import service as territories
from otklik.territories.repository import TerritoryRepository


def test_service_hides_other_regions(session: Session) -> None:
    tambov_operator = actor_for(session, make_user(session, Role.operator, ["68"]))
    samara = TerritoryRepository(session).region("36")
    assert samara is not None
    with pytest.raises(NotFound):
        territories.get_territory(session, tambov_operator, samara.id)
    regions, total = territories.list_territories(session, tambov_operator,
                                                  level=TerritoryLevel.region)
    assert [r.region_code for r in regions] == ["68"] and total == 1
    rows, _ = territories.list_territories(session, tambov_operator, q="самара")
    assert all(r.region_code == "68" for r in rows)
    samara_org = an_organization(session, "36")
    with pytest.raises(NotFound):
        organizations.get_organization(session, tambov_operator, samara_org.id)
    orgs, _ = organizations.list_organizations(session, tambov_operator, limit=1000)
    assert orgs and {o.region_code for o in orgs} == {"68"}


def test_federal_user_sees_all_regions(session: Session) -> None:
    analyst = actor_for(session, make_user(session, Role.analyst, all_regions=True))
    regions, total = territories.list_territories(session, analyst, level=TerritoryLevel.region,
                                                  limit=200)
    assert total == len(TEST_REGIONS)
    assert {"Северо-Западный", "Центральный", "Приволжский", "Южный", "Северо-Кавказский"} == {
        r.federal_district for r in regions}


def test_executor_sees_only_their_organization(session: Session) -> None:
    org = an_organization(session, "68", OrganizationKind.municipal_admin)
    executor = actor_for(session, make_user(session, Role.executor, ["68"],
                                            organization_id=org.id))
    orgs, total = organizations.list_organizations(session, executor)
    assert total == 1 and orgs[0].id == org.id
    other = an_organization(session, "68", OrganizationKind.ministry)
    with pytest.raises(NotFound):
        organizations.get_organization(session, executor, other.id)


def test_api_scoping_by_id_and_list(session: Session, client) -> None:  # type: ignore[no-untyped-def]
    user = make_user(session, Role.operator, ["86"])
    login(client, user.username, PASSWORD)
    karelia = TerritoryRepository(session).region("86")
    samara = TerritoryRepository(session).region("36")
    assert karelia and samara
    assert client.get(f"/api/v1/territories/{karelia.id}").status_code == 200
    assert client.get(f"/api/v1/territories/{samara.id}").status_code == 404
    listing = client.get("/api/v1/territories", params={"region_code": "36"}).json()
    assert listing["total"] == 0
    children = client.get("/api/v1/territories", params={"parent_id": karelia.id}).json()
    assert children["total"] == 18
    samara_org = an_organization(session, "36")
    assert client.get(f"/api/v1/organizations/{samara_org.id}").status_code == 404
    orgs = client.get("/api/v1/organizations", params={"limit": 1000}).json()
    assert orgs["total"] > 0 and {o["region_code"] for o in orgs["items"]} == {"86"}


def test_reference_counts_match_the_source(session: Session) -> None:
    counts = {code: 0 for code in ("86", "68", "85", "36", "07")}
    repo = TerritoryRepository(session)
    for code in counts:
        counts[code] = len(repo.ids_in_region(code, [TerritoryLevel.settlement]))
    assert counts == {"86": 831, "68": 1584, "85": 264, "36": 1334, "07": 929}
    karelia = repo.region("86")
    assert karelia and karelia.timezone == "Europe/Moscow"
    samara = repo.region("36")
    assert samara and samara.timezone == "Europe/Samara"


def test_load_is_idempotent(session: Session) -> None:
    from otklik.audit.actor import Actor

    before = TerritoryRepository(session).count_by_level()
    summary = territories.load_territories(session, Actor.system(), ["85"])
    assert summary.inserted == 0 and summary.updated > 0
    assert TerritoryRepository(session).count_by_level() == before
