"""The web shell: login for each role, CSRF, language switch, escaping, ops endpoints."""

import pytest
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, an_organization, make_user
from tests.conftest import login

from otklik.models.account import Role
from otklik.models.organization import OrganizationKind

HTML = {"accept": "text/html"}


def _csrf(client) -> str:  # type: ignore[no-untyped-def]
    return str(client.get("/api/v1/auth/csrf").json()["csrf"])


@pytest.mark.parametrize("role", list(Role))
def test_each_role_logs_in_through_the_form(session: Session, client, role: Role
                                            ) -> None:  # type: ignore[no-untyped-def]
    org = an_organization(session, "68", OrganizationKind.municipal_admin)
    user = make_user(session, role, ["68"],
                     organization_id=org.id if role in (Role.executor, Role.owner) else None)
    page = client.get("/", headers=HTML, follow_redirects=True)
    assert "Вход" in page.text
    response = client.post("/login", data={"username": user.username, "password": PASSWORD,
                                           "csrf": _csrf(client)}, follow_redirects=True)
    assert response.status_code == 200
    assert 'data-testid="current-user"' in response.text
    # a page owner lands on their official pages; everyone else on the overview of the region
    assert ("Мои страницы" if role == Role.owner else "Тамбовская область") in response.text


def test_wrong_password_shows_a_message(session: Session, client) -> None:  # type: ignore[no-untyped-def]
    user = make_user(session)
    response = client.post("/login", data={"username": user.username, "password": "nope",
                                           "csrf": _csrf(client)})
    assert response.status_code == 401 and "Неверный логин или пароль" in response.text


def test_login_form_without_csrf_is_refused(session: Session, client) -> None:  # type: ignore[no-untyped-def]
    user = make_user(session)
    response = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert response.status_code == 403


def test_api_write_with_cookie_needs_csrf_header(session: Session, client) -> None:  # type: ignore[no-untyped-def]
    user = make_user(session, Role.operator)
    token = login(client, user.username, PASSWORD)
    refused = client.post("/api/v1/tokens", json={"name": "x"})
    assert refused.status_code == 403
    created = client.post("/api/v1/tokens", json={"name": "x"}, headers={"x-csrf-token": token})
    assert created.status_code == 201 and created.json()["token"].startswith("otk_")


def test_bearer_token_authenticates_the_api(session: Session, client) -> None:  # type: ignore[no-untyped-def]
    user = make_user(session, Role.operator, ["85"])
    csrf = login(client, user.username, PASSWORD)
    token = client.post("/api/v1/tokens", json={"name": "bot", "scopes": ["read"]},
                        headers={"x-csrf-token": csrf}).json()["token"]
    client.cookies.clear()
    assert client.get("/api/v1/me").status_code == 401
    me = client.get("/api/v1/me", headers={"authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json()["username"] == user.username
    assert "password_hash" not in me.text
    listed = client.get("/api/v1/tokens", headers={"authorization": f"Bearer {token}"}
                        ).json()["items"]
    assert listed and "token" not in listed[0] and "token_hash" not in listed[0]
    bad = client.get("/api/v1/me", headers={"authorization": "Bearer otk_00_nope"})
    assert bad.status_code == 401


def test_language_switch_and_english_ui(session: Session, client) -> None:  # type: ignore[no-untyped-def]
    client.get("/lang/en")
    assert "Sign in" in client.get("/login").text
    client.get("/lang/ru")
    assert "Войти" in client.get("/login").text


def test_open_redirect_is_refused(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/lang/en", params={"next": "//evil.example/"},
                          follow_redirects=False)
    assert response.headers["location"] == "/"


def test_resident_like_text_is_escaped(session: Session, client) -> None:  # type: ignore[no-untyped-def]
    user = make_user(session)
    evil = '<script>alert(1)</script><img src=x onerror=alert(2)>\u202e'
    user.full_name = evil
    login(client, user.username, PASSWORD)
    page = client.get("/", headers=HTML).text
    assert "<script>alert(1)" not in page and "&lt;script&gt;" in page
    assert "<img src=x" not in page


def test_security_headers(client) -> None:  # type: ignore[no-untyped-def]
    response = client.get("/login")
    csp = response.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    cookie = response.headers.get("set-cookie", "")
    assert "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()


def test_ops_endpoints(client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/healthz").json() == {"status": "ok"}
    assert client.get("/metrics").status_code == 200
    assert "otklik_http_requests_total" in client.get("/metrics").text
    spec = client.get("/api/openapi.json").json()
    assert "/api/v1/territories" in spec["paths"]
    docs = client.get("/api/docs")
    assert "swagger-ui-bundle.js" in docs.text and "cdn" not in docs.text.lower()


def test_readyz_checks_the_database(settings_env, client) -> None:  # type: ignore[no-untyped-def]
    assert client.get("/readyz").json()["database"] == "ok"


def test_pages_render_for_admin(session: Session, client) -> None:  # type: ignore[no-untyped-def]
    admin = make_user(session, Role.admin, ["68"])
    login(client, admin.username, PASSWORD)
    for path in ["/", "/territories", "/territories?q=мичуринск", "/organizations",
                 "/admin/users", "/admin/audit"]:
        response = client.get(path, headers=HTML)
        assert response.status_code == 200, path
    assert "Мичуринск" in client.get("/territories?q=мичуринск", headers=HTML).text
