"""Every query of territories."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.db.lists import among
from otklik.models.territory import Territory, TerritoryLevel


class TerritoryRepository:
    """Reads territories within a scope and writes them in bulk."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, territory_id: int) -> Territory | None:
        """A territory by id."""
        return self.session.get(Territory, territory_id)

    def many(self, territory_ids: Iterable[int | None]) -> dict[int, Territory]:
        """Territories by id, in one query (None ids are skipped)."""
        ids = sorted({i for i in territory_ids if i is not None})
        if not ids:
            return {}
        return {t.id: t for t in self.session.scalars(
            select(Territory).where(Territory.id.in_(ids)))}

    def names(self, territory_ids: Iterable[int | None]) -> dict[int, str]:
        """Names of territories by id, in one query of two columns (None ids are skipped)."""
        ids = sorted({i for i in territory_ids if i is not None})
        if not ids:
            return {}
        return dict(self.session.execute(  # type: ignore[arg-type]
            select(Territory.id, Territory.name).where(Territory.id.in_(ids))).all())

    def by_key(self, key: str) -> Territory | None:
        """A territory by its stable key (OKTMO where it has one)."""
        return self.session.scalar(select(Territory).where(Territory.key == key))

    def ids_by_keys(self, keys: Iterable[str | None]) -> dict[str, int]:
        """Territory ids by stable key, in one query (unknown and None keys are left out)."""
        wanted = sorted({k for k in keys if k})
        if not wanted:
            return {}
        return dict(self.session.execute(  # type: ignore[arg-type]
            select(Territory.key, Territory.id).where(
                among(self.session, Territory.key, wanted))).all())

    def region(self, code: str) -> Territory | None:
        """A region by its 2-digit code."""
        return self.session.scalar(
            select(Territory).where(
                Territory.level == TerritoryLevel.region, Territory.region_code == code
            )
        )

    def regions(self, scope: Scope) -> Sequence[Territory]:
        """Regions visible in the scope, by name."""
        return self.session.scalars(
            select(Territory)
            .where(Territory.level == TerritoryLevel.region)
            .where(scope.region_filter(Territory.region_code))
            .order_by(Territory.name)
        ).all()

    def page(
        self,
        scope: Scope,
        *,
        level: TerritoryLevel | None = None,
        parent_id: int | None = None,
        region_code: str | None = None,
        q: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[Sequence[Territory], int]:
        """A page of territories in the scope and the total count."""
        query = select(Territory).where(scope.region_filter(Territory.region_code))
        if level is not None:
            query = query.where(Territory.level == level)
        if parent_id is not None:
            query = query.where(Territory.parent_id == parent_id)
        if region_code is not None:
            query = query.where(Territory.region_code == region_code)
        if q:
            query = query.where(func.lower(Territory.name).contains(q.lower()))
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(
            query.order_by(Territory.population.desc().nulls_last(), Territory.name)
            .limit(limit)
            .offset(offset)
        ).all()
        return rows, total

    def keys_to_ids(self) -> dict[str, int]:
        """Every stored key with its id (for idempotent bulk loads)."""
        return dict(self.session.execute(select(Territory.key, Territory.id)).all())

    def insert_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Insert rows in one executemany."""
        if rows:
            self.session.execute(insert(Territory), list(rows))

    def update_many(self, rows: Sequence[dict[str, Any]]) -> None:
        """Update rows by primary key in one executemany."""
        if rows:
            self.session.execute(update(Territory), list(rows))

    def count_by_level(self, scope: Scope | None = None) -> dict[str, int]:
        """How many territories of each level exist (in the scope)."""
        query = select(Territory.level, func.count()).group_by(Territory.level)
        if scope is not None:
            query = query.where(scope.region_filter(Territory.region_code))
        return {level.value: count for level, count in self.session.execute(query)}

    def ids_in_region(self, region_code: str, levels: Iterable[TerritoryLevel]) -> list[int]:
        """Ids of a region's territories of the given levels."""
        return list(
            self.session.scalars(
                select(Territory.id).where(
                    Territory.region_code == region_code, Territory.level.in_(list(levels))
                )
            )
        )

    def children(self, parent_id: int) -> Sequence[Territory]:
        """Direct children of a territory."""
        return self.session.scalars(
            select(Territory).where(Territory.parent_id == parent_id).order_by(Territory.name)
        ).all()
