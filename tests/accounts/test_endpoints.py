"""Accounts over HTTP: what an API token may mint and reach, and how login sessions end."""

from typing import Any

import pytest
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.conftest import login

from otklik.models.account import ApiToken, Role, User

COOKIE = "otklik_session"
EVERY_SCOPE = ["read", "write", "intake", "analytics", "admin", "tokens"]


def _bearer(token: str) -> dict[str, str]:
    return {"authorization": f"Bearer {token}"}


def _mint(client: Any, scopes: list[str], headers: dict[str, str]) -> Any:
    return client.post("/api/v1/tokens", json={"name": "t", "scopes": scopes}, headers=headers)


def _token_of(client: Any, user: User, scopes: list[str]) -> str:
    """A token minted by the user's login session (cookies left cleared)."""
    csrf = login(client, user.username, PASSWORD)
    response = _mint(client, scopes, {"x-csrf-token": csrf})
    assert response.status_code == 201, response.text
    client.cookies.clear()
    return str(response.json()["token"])


def _new_user_payload(role: str = "admin") -> dict[str, Any]:
    return {"username": f"minted-{role}", "password": PASSWORD, "role": role,
            "region_codes": ["68"]}


# -- token scopes --------------------------------------------------------------------------------


def test_a_read_only_token_cannot_mint_broader_tokens_or_reach_admin(session: Session,
                                                                     client: Any) -> None:
    admin = make_user(session, Role.admin, ["68"])
    read_only = _bearer(_token_of(client, admin, ["read"]))
    assert client.get("/api/v1/me", headers=read_only).status_code == 200
    minted = _mint(client, EVERY_SCOPE, read_only)
    assert minted.status_code == 403, minted.text
    assert _mint(client, ["read"], read_only).status_code == 403  # minting needs "tokens"
    assert client.get("/api/v1/audit", headers=read_only).status_code == 403
    created = client.post("/api/v1/users", json=_new_user_payload(), headers=read_only)
    assert created.status_code == 403
    assert session.query(ApiToken).filter(ApiToken.user_id == admin.id).count() == 1


def test_a_token_mints_only_a_subset_of_its_own_scopes(session: Session, client: Any) -> None:
    admin = make_user(session, Role.admin, ["68"])
    parent = _bearer(_token_of(client, admin, ["read", "write", "tokens"]))
    refused = _mint(client, ["read", "admin"], parent)
    assert refused.status_code == 403 and "admin" in refused.json()["detail"]
    assert _mint(client, ["intake"], parent).status_code == 403
    child = _mint(client, ["read"], parent)
    assert child.status_code == 201, child.text
    assert child.json()["scopes"] == ["read"]
    child_headers = _bearer(child.json()["token"])
    assert client.get("/api/v1/me", headers=child_headers).status_code == 200
    assert _mint(client, ["read"], child_headers).status_code == 403
    assert client.get("/api/v1/audit", headers=child_headers).status_code == 403
    row = session.get(ApiToken, child.json()["id"])
    assert row is not None and row.parent_id is not None


def test_revoking_a_token_revokes_what_it_minted(session: Session, client: Any) -> None:
    admin = make_user(session, Role.admin, ["68"])
    csrf = login(client, admin.username, PASSWORD)
    parent = _mint(client, ["read", "tokens"], {"x-csrf-token": csrf}).json()
    client.cookies.clear()
    child = _mint(client, ["read"], _bearer(parent["token"])).json()
    csrf = login(client, admin.username, PASSWORD)
    revoked = client.delete(f"/api/v1/tokens/{parent['id']}", headers={"x-csrf-token": csrf})
    assert revoked.status_code == 200
    client.cookies.clear()
    assert client.get("/api/v1/me", headers=_bearer(parent["token"])).status_code == 401
    assert client.get("/api/v1/me", headers=_bearer(child["token"])).status_code == 401


def test_a_narrowed_admin_token_cannot_create_logins_wider_than_itself(session: Session,
                                                                      client: Any) -> None:
    admin = make_user(session, Role.admin, ["68"])
    narrow = _bearer(_token_of(client, admin, ["admin"]))
    assert client.get("/api/v1/audit", headers=narrow).status_code == 200
    refused = client.post("/api/v1/users", json=_new_user_payload("admin"), headers=narrow)
    assert refused.status_code == 403 and "analytics" in refused.json()["detail"]
    full = _bearer(_token_of(client, admin, ["admin", "intake", "analytics", "tokens"]))
    created = client.post("/api/v1/users", json=_new_user_payload("operator"), headers=full)
    assert created.status_code == 201, created.text


# -- login sessions ------------------------------------------------------------------------------


def _use(client: Any, cookie: str) -> None:
    """Make the client present exactly this session cookie (as a stolen copy would)."""
    client.cookies.clear()
    client.cookies.set(COOKIE, cookie, domain="testserver.local")


def _logged_in(client: Any, user: User) -> tuple[str, str]:
    """Log in; returns (the session cookie, its CSRF token)."""
    client.cookies.clear()
    csrf = login(client, user.username, PASSWORD)
    return str(client.cookies.get(COOKIE)), csrf


def _me(client: Any, cookie: str) -> int:
    _use(client, cookie)
    return int(client.get("/api/v1/me").status_code)


def test_api_logout_ends_every_copy_of_the_cookie(session: Session, client: Any) -> None:
    user, other = make_user(session), make_user(session)
    other_cookie, _ = _logged_in(client, other)
    cookie, csrf = _logged_in(client, user)
    assert _me(client, cookie) == 200
    assert client.post("/api/v1/auth/logout", headers={"x-csrf-token": csrf}).status_code == 204
    assert _me(client, cookie) == 401
    assert _me(client, other_cookie) == 200


def test_ui_logout_ends_every_copy_of_the_cookie(session: Session, client: Any) -> None:
    user, other = make_user(session), make_user(session)
    other_cookie, _ = _logged_in(client, other)
    cookie, csrf = _logged_in(client, user)
    response = client.post("/logout", data={"csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303
    assert _me(client, cookie) == 401
    page = client.get("/", headers={"accept": "text/html"}, follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert _me(client, other_cookie) == 200


def test_logging_in_again_ends_the_previous_session_of_that_cookie(session: Session,
                                                                   client: Any) -> None:
    user = make_user(session)
    first, _ = _logged_in(client, user)
    _use(client, first)
    login(client, user.username, PASSWORD)
    second = str(client.cookies.get(COOKIE))
    assert second != first
    assert _me(client, first) == 401
    assert _me(client, second) == 200


def test_password_change_ends_the_users_other_sessions(session: Session, client: Any) -> None:
    user, other = make_user(session), make_user(session)
    other_cookie, _ = _logged_in(client, other)
    laptop, _ = _logged_in(client, user)
    phone, csrf = _logged_in(client, user)
    wrong = client.post("/api/v1/me/password", headers={"x-csrf-token": csrf},
                        json={"current_password": "not-it", "new_password": "a-new-secret-1"})
    assert wrong.status_code == 400 and "current password" in wrong.json()["detail"]
    changed = client.post("/api/v1/me/password", headers={"x-csrf-token": csrf},
                          json={"current_password": PASSWORD, "new_password": "a-new-secret-1"})
    assert changed.status_code == 204, changed.text
    renewed = str(client.cookies.get(COOKIE))
    assert renewed != phone
    assert _me(client, renewed) == 200  # the client that changed it stays logged in
    assert _me(client, phone) == 401 and _me(client, laptop) == 401
    assert _me(client, other_cookie) == 200
    client.cookies.clear()
    refused = client.post("/api/v1/auth/login",
                          json={"username": user.username, "password": PASSWORD})
    assert refused.status_code == 401
    login(client, user.username, "a-new-secret-1")


def test_a_token_cannot_change_the_password(session: Session, client: Any) -> None:
    user = make_user(session)
    token = _bearer(_token_of(client, user, ["read", "write", "tokens"]))
    response = client.post("/api/v1/me/password", headers=token,
                           json={"current_password": PASSWORD, "new_password": "whatever-123"})
    assert response.status_code == 403


def test_deactivating_a_user_ends_their_sessions_and_tokens(session: Session,
                                                            client: Any) -> None:
    admin = make_user(session, Role.admin, ["68"])
    user, other = make_user(session, regions=["68"]), make_user(session, regions=["68"])
    token = _bearer(_token_of(client, user, ["read"]))
    other_cookie, _ = _logged_in(client, other)
    user_cookie, _ = _logged_in(client, user)
    admin_cookie, csrf = _logged_in(client, admin)
    response = client.patch(f"/api/v1/users/{user.id}", json={"is_active": False},
                            headers={"x-csrf-token": csrf})
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert _me(client, user_cookie) == 401
    client.cookies.clear()
    assert client.get("/api/v1/me", headers=token).status_code == 401
    assert _me(client, other_cookie) == 200
    assert _me(client, admin_cookie) == 200
    again = client.patch(f"/api/v1/users/{user.id}", json={"is_active": True},
                         headers={"x-csrf-token": csrf})
    assert again.status_code == 200 and again.json()["is_active"] is True
    assert _me(client, user_cookie) == 401  # reactivation does not revive ended sessions


@pytest.mark.parametrize("target", ["self", "other_region"])
def test_deactivation_is_refused_for_oneself_and_outside_ones_regions(
        session: Session, client: Any, target: str) -> None:
    admin = make_user(session, Role.admin, ["68"])
    victim = admin if target == "self" else make_user(session, regions=["36"])
    _, csrf = _logged_in(client, admin)
    response = client.patch(f"/api/v1/users/{victim.id}", json={"is_active": False},
                            headers={"x-csrf-token": csrf})
    assert response.status_code == (400 if target == "self" else 404)
    assert victim.is_active
