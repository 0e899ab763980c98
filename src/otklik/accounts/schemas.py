"""Pydantic shapes of users and tokens in and out of the API."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from otklik.bounds import RefId
from otklik.models.account import Role
from otklik.paging import Page


class UserCreate(BaseModel):
    """A new user; the password is hashed, never stored."""

    username: str = Field(min_length=2, max_length=64, pattern=r"^[A-Za-z0-9_.\-@]+$")
    password: str = Field(min_length=1, max_length=256)
    role: Role
    full_name: str = ""
    email: str | None = None
    region_codes: list[str] = Field(default_factory=list)
    all_regions: bool = False
    organization_id: RefId | None = None
    territory_ids: list[RefId] = Field(default_factory=list)
    locale: str = "ru"


class UserRead(BaseModel):
    """A user as others may see them (no hash, ever)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    email: str | None
    role: Role
    all_regions: bool
    region_codes: list[str]
    organization_id: int | None
    locale: str
    is_active: bool
    created_at: datetime
    last_login_at: datetime | None


class TokenCreate(BaseModel):
    """A request for an API token."""

    name: str = Field(min_length=1, max_length=255)
    scopes: list[str] = Field(default_factory=lambda: ["read"])
    expires_in_days: int | None = Field(default=365, ge=1, le=3650)


class TokenRead(BaseModel):
    """A token's metadata; the secret itself is shown once, at creation."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    scopes: list[str]
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class UserList(Page[UserRead]):
    """A page of users."""


class TokenList(Page[TokenRead]):
    """A page of the caller's API tokens."""


class TokenCreated(TokenRead):
    """The one response that carries the token."""

    token: str


class LoginRequest(BaseModel):
    """Username and password for a session."""

    username: str
    password: str


class PasswordChange(BaseModel):
    """A user's own password change."""

    current_password: str = Field(max_length=256)
    new_password: str = Field(max_length=256)


class UserUpdate(BaseModel):
    """What an administrator changes about a user."""

    is_active: bool
