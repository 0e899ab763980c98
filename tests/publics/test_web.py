"""The screens and the API: an analyst's rating, registry and page card; a page owner sees
only their organization's pages (404 otherwise); an admin saves a methodology version."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, an_organization, make_user
from tests.conftest import login

from otklik.audit.actor import Actor
from otklik.models.account import Role
from otklik.models.organization import OrganizationKind
from otklik.models.publics import Methodology
from otklik.publics import service
from otklik.publics.weeks import Week

from .builders import a_page, comment, msk, municipality, post, snapshot

WEEK = Week.parse("2026-W48")


def _rated(session: Session):  # type: ignore[no-untyped-def]
    town = municipality(session)
    org = an_organization(session, "68", OrganizationKind.municipal_admin)
    own = a_page(session, municipality_id=town.id, organization_id=org.id,
                 name="Страница администрации", page_type="municipality")
    other = a_page(session, municipality_id=town.id, name="Чужая школа")
    post(session, own, msk(2026, 11, 24), views=200, likes=3, kind="photo")
    for k in range(3):
        comment(session, own, msk(2026, 11, 23, 9 + k))
    snapshot(session, own, WEEK.monday, 500, {"avatar": True, "pinned_post": False})
    post(session, other, msk(2026, 11, 24), views=100, likes=9)
    service.compute_week(session, Actor.system("tests"), WEEK, "68")
    return own, other, org


def test_the_analyst_reads_the_rating_the_registry_and_a_page(client, session: Session
                                                              ) -> None:  # type: ignore[no-untyped-def]
    own, other, _ = _rated(session)
    analyst = make_user(session, Role.analyst, ["68"])
    login(client, analyst.username, PASSWORD)

    page = client.get("/publics", params={"week": WEEK.label, "region_code": "68",
                                          "sort": "score"})
    assert page.status_code == 200
    assert "Страница администрации" in page.text and "Чужая школа" in page.text
    assert 'data-testid="by-municipality"' in page.text

    registry = client.get("/publics/registry", params={"region_code": "68", "q": "Чужая"})
    assert registry.status_code == 200 and "Чужая школа" in registry.text
    assert "Страница администрации" not in registry.text

    card = client.get(f"/publics/pages/{own.id}", params={"week": WEEK.label})
    assert card.status_code == 200
    assert "Ответьте на 3 комментария жителей старше 24 часов." in card.text
    assert "закрепите пост с контактами" in card.text and 'id="pb-data"' in card.text

    export = client.get("/publics/export", params={"region_code": "68", "week": WEEK.label,
                                                   "format": "xlsx"})
    assert export.status_code == 200
    names = [r[2] for r in load_workbook(io.BytesIO(export.content))["Рейтинг"]
             .iter_rows(min_row=4, values_only=True)]
    assert "Страница администрации" in names

    api = client.get("/api/v1/publics/ratings", params={"week": WEEK.label,
                                                        "region_code": "68"})
    assert api.status_code == 200 and api.json()["total"] >= 2
    del other


def test_the_owner_sees_only_their_pages(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    own, other, org = _rated(session)
    owner = make_user(session, Role.owner, ["68"], organization_id=org.id)
    login(client, owner.username, PASSWORD)

    home = client.get("/", follow_redirects=False)
    assert home.status_code == 303 and home.headers["location"] == "/publics/mine"
    mine = client.get("/publics/mine")
    assert 'href="/cases"' not in mine.text and 'href="/my"' not in mine.text
    assert mine.status_code == 200
    assert "Страница администрации" in mine.text and "Чужая школа" not in mine.text
    assert "Ответьте на 3 комментария жителей старше 24 часов." in mine.text

    assert client.get(f"/publics/pages/{own.id}").status_code == 200
    assert client.get(f"/publics/pages/{other.id}").status_code == 404
    assert client.get(f"/publics/pages/{other.id}",
                      params={"week": WEEK.label}).status_code == 404
    mine_api = client.get(f"/api/v1/publics/pages/{own.id}")
    assert mine_api.status_code == 200 and mine_api.json()["page_id"] == own.id
    assert client.get(f"/api/v1/publics/pages/{other.id}").status_code == 404
    listed = client.get("/api/v1/publics/pages").json()
    assert [p["id"] for p in listed["items"]] == [own.id]
    ratings = client.get("/api/v1/publics/ratings", params={"week": WEEK.label}).json()
    assert [r["page_id"] for r in ratings["items"]] == [own.id]
    assert client.get("/publics").status_code == 403
    assert client.get("/publics/registry").status_code == 403
    assert client.get("/publics/export", params={"region_code": "68", "week": WEEK.label,
                                                 "format": "xlsx"}).status_code == 403
    assert client.get("/api/v1/cases").status_code == 403


def test_an_admin_saves_a_new_methodology_version(client, session: Session) -> None:  # type: ignore[no-untyped-def]
    service.ensure_methodology(session, Actor.system("tests"))
    admin = make_user(session, Role.admin, ["68"])
    csrf = login(client, admin.username, PASSWORD)
    form = client.get("/publics/methodology")
    assert form.status_code == 200 and 'name="weight"' in form.text
    rows = service.criteria_in(session, service.ensure_methodology(
        session, Actor.system("tests")).id)
    data = {"csrf": csrf, "note": "вовлечённость важнее",
            "code": [r.code for r in rows], "page_type": [r.page_type for r in rows],
            "page_class": [r.page_class for r in rows],
            "weight": [("30" if r.code == "engagement_rate" and r.page_type == "*"
                        and r.page_class == "*" else f"{r.weight:g}") for r in rows],
            "threshold": [f"{r.threshold:g}" for r in rows]}
    saved = client.post("/publics/methodology", data=data, follow_redirects=False)
    assert saved.status_code == 303
    versions = session.scalars(select(Methodology).order_by(Methodology.version)).all()
    assert len(versions) == 2 and versions[-1].is_active and not versions[0].is_active
    assert versions[-1].note == "вовлечённость важнее"

    analyst = make_user(session, Role.analyst, ["68"])
    csrf = login(client, analyst.username, PASSWORD)
    refused = client.post("/publics/methodology", data={**data, "csrf": csrf},
                          follow_redirects=False)
    assert refused.status_code == 303
    assert len(session.scalars(select(Methodology)).all()) == 2


def test_the_api_adds_a_page_and_names_bad_input(client, session: Session
                                                 ) -> None:  # type: ignore[no-untyped-def]
    admin = make_user(session, Role.admin, ["68"])
    csrf = login(client, admin.username, PASSWORD)
    headers = {"X-CSRF-Token": csrf}
    page = {"link": "https://vk.com/club7700001", "name": "Школа №77", "region_code": "68",
            "page_type": "school"}

    added = client.post("/api/v1/publics/pages", json=page, headers=headers)
    assert added.status_code == 201, added.text
    assert added.json()["external_id"] == "-7700001"
    again = client.post("/api/v1/publics/pages", json=page, headers=headers)
    assert again.status_code == 400 and "already in the registry" in again.json()["detail"]
    farm = client.post("/api/v1/publics/pages", headers=headers,
                       json={**page, "link": "vk.com/club7700002", "page_type": "farm"})
    assert farm.status_code == 400 and "unknown page type 'farm'" in farm.json()["detail"]
    post_link = client.post("/api/v1/publics/pages", headers=headers,
                            json={**page, "link": "https://vk.com/wall-1_2"})
    assert post_link.status_code == 400 and "сообщество" in post_link.json()["detail"]
