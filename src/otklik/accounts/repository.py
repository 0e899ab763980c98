"""Every query of users and tokens."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.models.account import ApiToken, Role, User, UserSession, UserTerritory


class AccountRepository:
    """Users, their territory assignments and API tokens."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: int) -> User | None:
        """A user by id."""
        return self.session.get(User, user_id)

    def by_username(self, username: str) -> User | None:
        """A user by login name (case-insensitive)."""
        return self.session.scalar(
            select(User).where(func.lower(User.username) == username.lower())
        )

    def add(self, user: User) -> User:
        """Insert a user and get its id."""
        self.session.add(user)
        self.session.flush()
        return user

    def set_territories(self, user_id: int, territory_ids: Sequence[int]) -> None:
        """Replace a user's territory narrowing."""
        for row in self.session.scalars(
            select(UserTerritory).where(UserTerritory.user_id == user_id)
        ):
            self.session.delete(row)
        for territory_id in territory_ids:
            self.session.add(UserTerritory(user_id=user_id, territory_id=territory_id))

    def territory_ids(self, user_id: int) -> frozenset[int]:
        """The territories a user is narrowed to (empty: the whole of their regions)."""
        rows = self.session.scalars(
            select(UserTerritory.territory_id).where(UserTerritory.user_id == user_id)
        )
        return frozenset(rows)

    def visible(self, scope: Scope, *, role: Role | None = None,
                is_active: bool | None = None) -> Sequence[User]:
        """Users visible to an admin of the scope (those sharing a region, or all), by
        username; optionally of one role or activity. Read whole: a region's staff is small,
        and the region test is done on the rows."""
        query = select(User).order_by(User.username)
        if role is not None:
            query = query.where(User.role == role)
        if is_active is not None:
            query = query.where(User.is_active.is_(is_active))
        if not scope.all_regions:
            users = self.session.scalars(query.where(User.all_regions.is_(False))).all()
            return [u for u in users if scope.administers(u)]
        return self.session.scalars(query).all()

    def count(self) -> int:
        """How many users exist."""
        return self.session.scalar(select(func.count(User.id))) or 0

    def add_token(self, token: ApiToken) -> ApiToken:
        """Insert a token row."""
        self.session.add(token)
        self.session.flush()
        return token

    def get_token(self, token_id: int) -> ApiToken | None:
        """A token by id."""
        return self.session.get(ApiToken, token_id)

    def token_by_hash(self, token_hash: str) -> ApiToken | None:
        """A token by its SHA-256."""
        return self.session.scalar(select(ApiToken).where(ApiToken.token_hash == token_hash))

    def tokens_of(self, user_id: int) -> Sequence[ApiToken]:
        """A user's tokens, newest first."""
        return self.session.scalars(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
        ).all()

    def integrator_keys(self, scope: Scope) -> Sequence[ApiToken]:
        """Integrators' keys (no user) of the scope's regions, newest first."""
        query = select(ApiToken).where(ApiToken.user_id.is_(None))
        if not scope.all_regions:
            query = query.where(ApiToken.region_code.in_(sorted(scope.region_codes)))
        return self.session.scalars(query.order_by(ApiToken.id.desc())).all()

    def children_of(self, token_ids: Sequence[int]) -> Sequence[ApiToken]:
        """The tokens minted by any of these tokens."""
        return self.session.scalars(
            select(ApiToken).where(ApiToken.parent_id.in_(token_ids))
        ).all() if token_ids else []

    def add_session(self, row: UserSession) -> UserSession:
        """Insert a login session."""
        self.session.add(row)
        self.session.flush()
        return row

    def session_by_hash(self, secret_hash: str) -> UserSession | None:
        """A login session by the SHA-256 of its secret."""
        return self.session.scalar(
            select(UserSession).where(UserSession.secret_hash == secret_hash)
        )

    def end_sessions(self, user_id: int, at: datetime) -> int:
        """End every open session of a user; returns how many were open."""
        result = self.session.execute(
            update(UserSession)
            .where(UserSession.user_id == user_id, UserSession.ended_at.is_(None))
            .values(ended_at=at)
            .execution_options(synchronize_session="fetch")
        )
        return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def forget_sessions(self, user_id: int, seen_before: datetime) -> None:
        """Delete a user's sessions that ended or went idle before ``seen_before``."""
        self.session.execute(
            delete(UserSession)
            .where(UserSession.user_id == user_id,
                   or_(UserSession.ended_at.is_not(None),
                       UserSession.last_seen_at < seen_before))
            .execution_options(synchronize_session="fetch")
        )

    def demo_users(self) -> Sequence[User]:
        """Users created by the demo."""
        return self.session.scalars(select(User).where(User.is_demo.is_(True))).all()
