"""Users, login, API tokens and the audit entries they leave."""

from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, an_organization, make_user

from otklik.accounts import service
from otklik.accounts.schemas import TokenCreate, UserCreate
from otklik.audit.actor import Actor
from otklik.db.base import utcnow
from otklik.errors import Conflict, Forbidden, InvalidInput, NotAuthenticated
from otklik.models.account import ApiToken, Role
from otklik.models.audit import AuditEntry
from otklik.models.organization import OrganizationKind


def _audit(session: Session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_create_user_hashes_password_and_audits(session: Session) -> None:
    user = make_user(session, Role.operator, ["68"])
    assert user.password_hash != PASSWORD and user.password_hash.startswith("$argon2")
    entries = [e for e in _audit(session, "user.create") if e.object_id == str(user.id)]
    assert entries and entries[0].actor == "tests"
    assert entries[0].details["role"] == "operator"


def test_duplicate_username_is_refused(session: Session) -> None:
    user = make_user(session)
    with pytest.raises(Conflict):
        service.create_user(session, Actor.system(), UserCreate(
            username=user.username.upper(), password=PASSWORD, role=Role.analyst,
            region_codes=["68"]))


@pytest.mark.parametrize("payload, message", [
    ({"region_codes": ["99"]}, "unknown region"),
    ({"region_codes": []}, "at least one region"),
    ({"role": Role.executor}, "must belong to an organization"),
    ({"password": "short"}, "at least 10 characters"),
])
def test_invalid_users_are_refused_with_a_reason(session: Session, payload: dict, message: str
                                                 ) -> None:
    data = {"username": "someone", "password": PASSWORD, "role": Role.operator,
            "region_codes": ["68"], **payload}
    with pytest.raises(InvalidInput, match=message):
        service.create_user(session, Actor.system(), UserCreate(**data))


def test_executor_organization_must_be_in_their_region(session: Session) -> None:
    samara_org = an_organization(session, "36")
    with pytest.raises(InvalidInput, match="does not exist in the user's regions"):
        make_user(session, Role.executor, ["68"], organization_id=samara_org.id)


def test_regional_admin_cannot_grant_other_regions(session: Session) -> None:
    admin = make_user(session, Role.admin, ["68"])
    actor = service.actor_for(session, admin)
    with pytest.raises(Forbidden, match="outside your own"):
        service.create_user(session, actor, UserCreate(
            username="samara-op", password=PASSWORD, role=Role.operator, region_codes=["36"]))
    with pytest.raises(Forbidden, match="federal"):
        service.create_user(session, actor, UserCreate(
            username="fed", password=PASSWORD, role=Role.analyst, all_regions=True))


def test_operator_cannot_create_users(session: Session) -> None:
    operator = service.actor_for(session, make_user(session, Role.operator))
    with pytest.raises(Forbidden, match="may not"):
        service.create_user(session, operator, UserCreate(
            username="x1", password=PASSWORD, role=Role.operator, region_codes=["68"]))


def test_authenticate_success_and_failure_are_audited(session: Session) -> None:
    user = make_user(session)
    assert service.authenticate(session, user.username, PASSWORD, "127.0.0.1").id == user.id
    assert user.last_login_at is not None
    with pytest.raises(NotAuthenticated, match="wrong username or password"):
        service.authenticate(session, user.username, "wrong")
    with pytest.raises(NotAuthenticated, match="wrong username or password"):
        service.authenticate(session, "nobody-here", "wrong")
    ok = [e for e in _audit(session, "login") if e.object_id == str(user.id)]
    failed = [e for e in _audit(session, "login.failed") if e.object_id == str(user.id)]
    assert ok[0].ip == "127.0.0.1" and len(failed) == 1


def test_disabled_user_cannot_log_in(session: Session) -> None:
    user = make_user(session)
    user.is_active = False
    with pytest.raises(NotAuthenticated):
        service.authenticate(session, user.username, PASSWORD)


def test_token_round_trip_scopes_and_revocation(session: Session) -> None:
    user = make_user(session, Role.operator, ["68"])
    actor = service.actor_for(session, user)
    row, token = service.create_token(session, actor, TokenCreate(name="bot", scopes=["read"]))
    stored = session.get(ApiToken, row.id)
    assert stored is not None and token not in stored.token_hash
    token_actor = service.authenticate_token(session, token)
    assert token_actor.user_id == user.id
    assert token_actor.scope.can("read") and not token_actor.scope.can("write")
    assert token_actor.scope.region_codes == frozenset({"68"})
    assert stored.last_used_at is not None
    service.revoke_token(session, actor, row.id)
    with pytest.raises(NotAuthenticated, match="revoked"):
        service.authenticate_token(session, token)


def test_expired_and_unknown_tokens_are_refused(session: Session) -> None:
    actor = service.actor_for(session, make_user(session))
    row, token = service.create_token(session, actor, TokenCreate(name="old"))
    row.expires_at = utcnow() - timedelta(seconds=1)
    with pytest.raises(NotAuthenticated):
        service.authenticate_token(session, token)
    with pytest.raises(NotAuthenticated):
        service.authenticate_token(session, "otk_deadbeef_nonsense")


def test_token_cannot_exceed_the_role(session: Session) -> None:
    analyst = service.actor_for(session, make_user(session, Role.analyst))
    with pytest.raises(Forbidden, match="cannot grant"):
        service.create_token(session, analyst, TokenCreate(name="t", scopes=["write"]))
    with pytest.raises(InvalidInput, match="unknown token scope"):
        service.create_token(session, analyst, TokenCreate(name="t", scopes=["root"]))


def test_executor_scope_is_bound_to_their_organization(session: Session) -> None:
    org = an_organization(session, "68", OrganizationKind.municipal_admin)
    executor = make_user(session, Role.executor, ["68"], organization_id=org.id)
    actor = service.actor_for(session, executor)
    assert actor.scope.organization_id == org.id
    assert actor.scope.can("answer") and not actor.scope.can("users")


def test_a_token_never_grants_more_than_its_users_role_today(session: Session) -> None:
    user = make_user(session, Role.admin, ["68"])
    _, token = service.create_token(session, service.actor_for(session, user),
                                    TokenCreate(name="ops", scopes=["admin", "tokens"]))
    assert service.authenticate_token(session, token).scope.can("users")
    user.role = Role.analyst
    demoted = service.authenticate_token(session, token)
    assert demoted.scope.permissions == frozenset({"read", "tokens"})
    with pytest.raises(Forbidden, match="cannot grant"):
        service.create_token(session, demoted, TokenCreate(name="x", scopes=["admin"]))


def test_a_token_minted_by_a_token_expires_no_later_than_it(session: Session) -> None:
    user = make_user(session, Role.operator, ["68"])
    parent, token = service.create_token(session, service.actor_for(session, user),
                                         TokenCreate(name="p", scopes=["read", "tokens"],
                                                     expires_in_days=7))
    child, _ = service.create_token(session, service.authenticate_token(session, token),
                                    TokenCreate(name="c", scopes=["read"], expires_in_days=365))
    assert child.expires_at == parent.expires_at and child.parent_id == parent.id
