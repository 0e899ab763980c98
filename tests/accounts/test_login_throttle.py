"""Login throttling and lockout (per account and per address), the password policy, and the
session cookie's flags."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user

from otklik.accounts import service
from otklik.accounts.passwords import MIN_LENGTH
from otklik.accounts.schemas import UserCreate
from otklik.accounts.throttle import LoginLocked
from otklik.audit.actor import Actor
from otklik.config import Settings
from otklik.db.base import utcnow
from otklik.errors import InvalidInput, NotAuthenticated
from otklik.models.account import LoginThrottle, Role
from otklik.models.audit import AuditEntry


def _fail(session: Session, username: str, ip: str) -> None:
    with pytest.raises(NotAuthenticated):
        service.authenticate(session, username, "not the password", ip)


def test_five_failures_lock_the_account_from_any_address(session: Session) -> None:
    user, other = make_user(session), make_user(session)
    for i in range(4):
        _fail(session, user.username, f"10.0.0.{i}")
    assert service.authenticate(session, other.username, PASSWORD, "10.0.1.1")
    _fail(session, user.username.upper(), "10.0.0.9")  # the fifth, the login in capitals
    with pytest.raises(LoginLocked) as locked:
        service.authenticate(session, user.username, PASSWORD, "10.0.2.2")  # right password
    assert "заблокирован" in locked.value.message and "locked" in locked.value.message
    assert locked.value.status_code == 429 and 0 < locked.value.retry_after <= 15 * 60
    assert service.authenticate(session, other.username, PASSWORD, "10.0.2.2")
    entries = session.scalars(select(AuditEntry).where(AuditEntry.object_id == str(user.id))
                              .order_by(AuditEntry.id)).all()
    assert [e.action for e in entries].count("login.failed") == 5
    assert entries[-1].action == "login.locked" and entries[-1].details["locked"] == ["user"]

    # The lock passes with its time.
    session.execute(update(LoginThrottle).values(locked_until=utcnow() - timedelta(seconds=1)))
    assert service.authenticate(session, user.username, PASSWORD, "10.0.2.2").id == user.id


def test_five_failures_from_one_address_lock_the_address(session: Session) -> None:
    user = make_user(session)
    for i in range(5):  # unknown logins count as well: nobody learns which exist
        _fail(session, f"guess{i}", "192.0.2.7")
    with pytest.raises(LoginLocked):
        service.authenticate(session, user.username, PASSWORD, "192.0.2.7")
    assert service.authenticate(session, user.username, PASSWORD, "192.0.2.8").id == user.id
    locked = session.scalars(select(AuditEntry).where(AuditEntry.action == "login.locked")
                             ).all()
    assert [e.details["locked"] for e in locked] == [["ip"]]


def test_a_good_login_clears_the_accounts_count(session: Session) -> None:
    user = make_user(session)
    for i in range(4):
        _fail(session, user.username, f"10.1.0.{i}")
    service.authenticate(session, user.username, PASSWORD, "10.1.1.1")
    for i in range(4):
        _fail(session, user.username, f"10.1.2.{i}")
    assert service.authenticate(session, user.username, PASSWORD, "10.1.3.1").id == user.id


def test_the_api_and_the_page_say_the_login_is_locked(session: Session, client: Any) -> None:
    user = make_user(session)
    for _ in range(5):
        response = client.post("/api/v1/auth/login", json={"username": user.username,
                                                           "password": "wrong password"})
        assert response.status_code == 401
    response = client.post("/api/v1/auth/login", json={"username": user.username,
                                                       "password": PASSWORD})
    assert response.status_code == 429 and int(response.headers["retry-after"]) > 0
    assert "Слишком много неудачных попыток" in response.json()["detail"]
    page = client.get("/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    response = client.post("/login", data={"username": user.username, "password": PASSWORD,
                                           "csrf": csrf}, follow_redirects=False)
    assert response.status_code == 429 and "повторите через" in response.text


@pytest.mark.parametrize(("password", "says"), [
    ("short-1", f"at least {MIN_LENGTH}"),
    ("Qwerty123456", "too common"),
    ("password-123", "too common"),
    ("ааааааааааааа", "too common"),
    ("clerk.petrova", "must not be the username"),
])
def test_the_password_policy(session: Session, password: str, says: str) -> None:
    with pytest.raises(InvalidInput, match=says):
        service.create_user(session, Actor.system("tests"), UserCreate(
            username="clerk.petrova", password=password, role=Role.operator,
            region_codes=["68"]))


def test_a_password_change_follows_the_policy(session: Session, client: Any) -> None:
    from tests.conftest import login

    user = make_user(session)
    csrf = login(client, user.username, PASSWORD)
    response = client.post("/api/v1/me/password", headers={"x-csrf-token": csrf}, json={
        "current_password": PASSWORD, "new_password": "1234567890"})
    assert response.status_code == 400 and "too common" in response.json()["detail"]
    response = client.post("/api/v1/me/password", headers={"x-csrf-token": csrf}, json={
        "current_password": PASSWORD, "new_password": "Тамбов-вокзал-2026"})
    assert response.status_code == 204


@pytest.mark.parametrize("secure", [True, False])
def test_the_session_cookie_is_httponly_samesite_and_secure_outside_plain_http(
        session: Session, secure: bool) -> None:
    from fastapi.testclient import TestClient

    from otklik.app import create_app
    from otklik.deps import get_session

    app = create_app(Settings(env="test", secure_cookies=secure))  # type: ignore[arg-type]

    def _session() -> Any:
        yield session
        session.flush()

    app.dependency_overrides[get_session] = _session
    user = make_user(session)
    with TestClient(app, base_url="https://testserver") as client:
        response = client.post("/api/v1/auth/login", json={"username": user.username,
                                                           "password": PASSWORD})
        assert response.status_code == 200
        cookie = next(v for v in response.headers.get_list("set-cookie")
                      if v.startswith("otklik_session="))
    flags = {part.strip().lower() for part in cookie.split(";")}
    assert "httponly" in flags and "samesite=lax" in flags
    assert ("secure" in flags) is secure
    assert Settings(env="production", secret_key="x" * 40).cookies_secure
