"""Account routes: session login for the UI, the current user, users and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from otklik.accounts import service
from otklik.accounts.repository import AccountRepository
from otklik.accounts.schemas import (
    LoginRequest,
    PasswordChange,
    TokenCreate,
    TokenCreated,
    TokenList,
    TokenRead,
    UserCreate,
    UserList,
    UserRead,
    UserUpdate,
)
from otklik.accounts.throttle import LoginLocked
from otklik.bounds import RefId
from otklik.deps import (
    CurrentActor,
    SessionDep,
    client_ip,
    csrf_token,
    end_login_session,
    start_login_session,
)
from otklik.errors import ErrorBody, Forbidden, NotAuthenticated
from otklik.models.account import Role
from otklik.paging import Limit, Offset

router = APIRouter(prefix="/api/v1", tags=["accounts"])


@router.post("/auth/login", response_model=UserRead, responses={429: {
    "model": ErrorBody,
    "description": "Too many failed logins for this user or address: locked for a while "
                   "(Retry-After says how long)"}})
def login(data: LoginRequest, request: Request, session: SessionDep
          ) -> UserRead | JSONResponse:
    """Open a session (cookie) for a user; too many failures lock the login (429)."""
    try:
        user = service.authenticate(session, data.username, data.password, client_ip(request))
    except (NotAuthenticated, LoginLocked) as exc:
        # Answered, not raised: the unit of work then commits the failure's count and audit.
        headers = ({"Retry-After": str(exc.retry_after)} if isinstance(exc, LoginLocked)
                   else None)
        return JSONResponse(ErrorBody(detail=exc.message).model_dump(),
                            status_code=exc.status_code, headers=headers)
    start_login_session(request, session, user)
    return UserRead.model_validate(user)


@router.get("/auth/csrf")
def csrf(request: Request) -> dict[str, str]:
    """The session's CSRF token, to send as X-CSRF-Token on unsafe cookie-authenticated calls."""
    return {"csrf": csrf_token(request)}


@router.post("/auth/logout", status_code=204)
def logout(request: Request, actor: CurrentActor, session: SessionDep) -> None:
    """Close the session: every copy of its cookie stops working."""
    end_login_session(request, session)


@router.get("/me", response_model=UserRead)
def me(actor: CurrentActor, session: SessionDep) -> UserRead:
    """The calling user (an integrator's key belongs to no user: 403, not a crash)."""
    user = AccountRepository(session).get(actor.user_id) if actor.user_id else None
    if user is None:
        raise Forbidden("an integrator's API key belongs to no user: /me answers a login "
                        "session or a user's token")
    return UserRead.model_validate(user)


@router.post("/me/password", status_code=204)
def change_password(data: PasswordChange, request: Request, actor: CurrentActor,
                    session: SessionDep) -> None:
    """Change one's own password: every session of the user ends, this client gets a new one."""
    user = service.change_password(session, actor, data.current_password, data.new_password)
    start_login_session(request, session, user)


@router.get("/users", response_model=UserList)
def list_users(
    actor: CurrentActor,
    session: SessionDep,
    role: Role | None = None,
    region_code: str | None = Query(default=None, pattern=r"^\d{2,3}$"),
    is_active: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> UserList:
    """Users the caller administers, by username; optionally of one role, region (its users
    and those of every region) or activity."""
    rows = service.list_users(session, actor, role=role, region_code=region_code,
                              is_active=is_active)
    return UserList.of([UserRead.model_validate(u) for u in rows], limit, offset)


@router.post("/users", response_model=UserRead, status_code=201)
def create_user(data: UserCreate, actor: CurrentActor, session: SessionDep) -> UserRead:
    """Create a user (admins, within their regions)."""
    return UserRead.model_validate(service.create_user(session, actor, data))


@router.patch("/users/{user_id}", response_model=UserRead)
def update_user(user_id: RefId, data: UserUpdate, actor: CurrentActor, session: SessionDep
                ) -> UserRead:
    """Deactivate (every session ends, tokens stop working) or reactivate a user."""
    return UserRead.model_validate(service.set_user_active(session, actor, user_id,
                                                           data.is_active))


@router.get("/tokens", response_model=TokenList)
def list_tokens(actor: CurrentActor, session: SessionDep, limit: Limit = 50,
                offset: Offset = 0) -> TokenList:
    """The caller's API tokens (never the secrets), newest first."""
    rows = AccountRepository(session).tokens_of(actor.user_id or -1)
    return TokenList.of([TokenRead.model_validate(t) for t in rows], limit, offset)


@router.post("/tokens", response_model=TokenCreated, status_code=201)
def create_token(data: TokenCreate, actor: CurrentActor, session: SessionDep) -> TokenCreated:
    """Mint an API token; the response is the only time the secret is shown."""
    row, token = service.create_token(session, actor, data)
    return TokenCreated(**TokenRead.model_validate(row).model_dump(), token=token)


@router.delete("/tokens/{token_id}", response_model=TokenRead)
def revoke_token(token_id: RefId, actor: CurrentActor, session: SessionDep) -> TokenRead:
    """Revoke one of the caller's tokens and the tokens minted with it."""
    return TokenRead.model_validate(service.revoke_token(session, actor, token_id))
