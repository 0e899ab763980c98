"""Users, their roles and scopes, and API tokens for integrations."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Boolean, Enum, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from otklik.db.base import Base, CreatedAtMixin
from otklik.db.types import JSONType, UTCDateTime


class Role(StrEnum):
    """What a user does in the center (see DESIGN.md, "Who uses it")."""

    admin = "admin"
    operator = "operator"
    curator = "curator"
    executor = "executor"
    analyst = "analyst"
    head = "head"
    deputy = "deputy"
    expert = "expert"
    owner = "owner"


class User(CreatedAtMixin, Base):
    """A person who logs in. Residents never do.

    Scope: ``all_regions`` (a federal user sees everything) or the regions in
    ``region_codes`` narrowed, when rows exist in ``user_territory``, to those
    territories; an executor is also bound to one organization.
    """

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(255), default="")
    email: Mapped[str | None] = mapped_column(String(255))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(Enum(Role, name="user_role", native_enum=False, length=16))
    all_regions: Mapped[bool] = mapped_column(Boolean, default=False)
    region_codes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id", ondelete="SET NULL"), index=True
    )
    locale: Mapped[str] = mapped_column(String(8), default="ru")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    is_demo: Mapped[bool] = mapped_column(Boolean, default=False)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    preferences: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)


class UserTerritory(Base):
    """Narrows a user's scope to territories inside their regions (e.g. a deputy's district)."""

    __tablename__ = "user_territory"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), primary_key=True
    )
    territory_id: Mapped[int] = mapped_column(
        ForeignKey("territory.id", ondelete="CASCADE"), primary_key=True
    )


class ApiToken(CreatedAtMixin, Base):
    """A bearer token for integrations; only its SHA-256 is stored.

    A user's token acts as that user (cut down to its scopes). A key without a user is an
    integrator's (``otklik apikey``, the admin page): it acts as itself, in ``region_code``
    (or every region), with only its scopes' permissions.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    region_code: Mapped[str | None] = mapped_column(String(3))
    name: Mapped[str] = mapped_column(String(255))
    prefix: Mapped[str] = mapped_column(String(16), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(JSONType, default=list)
    #: The token that minted this one: revoking a token revokes what it minted.
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_token.id", ondelete="SET NULL"), index=True
    )
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UserSession(CreatedAtMixin, Base):
    """A login session: the cookie carries only a random secret, this row says whether the
    session is still open (logout, a password change or deactivation end it)."""

    __tablename__ = "user_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(
        ForeignKey("user_account.id", ondelete="CASCADE"), index=True
    )
    secret_hash: Mapped[str] = mapped_column(String(64), unique=True)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ip: Mapped[str | None] = mapped_column(String(64))


class LoginThrottle(Base):
    """Failed logins of one account or from one address (``kind``: user, ip) and the lock
    they earned: too many failures inside the window lock the login for a while."""

    __tablename__ = "login_throttle"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))
    key: Mapped[str] = mapped_column(String(255))
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_started_at: Mapped[datetime] = mapped_column(UTCDateTime(), nullable=False)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())

    __table_args__ = (UniqueConstraint("kind", "key"),)
