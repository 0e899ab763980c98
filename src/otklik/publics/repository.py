"""Every query of the official pages domain (the weekly job's statements are in
:mod:`otklik.publics.rating_job`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.db.base import utcnow
from otklik.models.message import Message
from otklik.models.organization import Organization
from otklik.models.publics import (
    Methodology,
    MethodologyCriterion,
    PageComment,
    PagePost,
    PageRating,
    PageRatingItem,
    PageSnapshot,
    PublicPage,
)
from otklik.models.territory import Territory, TerritoryLevel


@dataclass(frozen=True)
class PageFilter:
    """Filters of the registry and the rating lists."""

    region_code: str | None = None
    municipality_id: int | None = None
    page_type: str | None = None
    page_class: str | None = None
    status: str | None = None
    platform: str | None = None
    q: str | None = None


def page_scope(scope: Scope) -> ColumnElement[bool]:
    """The pages a scope sees."""
    return scope.page_filter(PublicPage.region_code, PublicPage.organization_id,
                             PublicPage.municipality_id)


def _filtered(query: Any, f: PageFilter) -> Any:
    if f.region_code:
        query = query.where(PublicPage.region_code == f.region_code)
    if f.municipality_id:
        query = query.where(PublicPage.municipality_id == f.municipality_id)
    if f.page_type:
        query = query.where(PublicPage.page_type == f.page_type)
    if f.page_class:
        query = query.where(PublicPage.page_class == f.page_class)
    if f.status:
        query = query.where(PublicPage.status == f.status)
    if f.platform:
        query = query.where(PublicPage.platform == f.platform)
    if f.q:
        query = query.where(PublicPage.name.contains(f.q))
    return query


#: Sort keys of the rating list.
RATING_SORTS: dict[str, Any] = {
    "rank": (PageRating.region_code, PageRating.page_type, PageRating.rank_region.is_(None),
             PageRating.rank_region, PublicPage.name),
    "score": (PageRating.score.is_(None), PageRating.score.desc(), PublicPage.name),
    "score_asc": (PageRating.score.is_(None), PageRating.score, PublicPage.name),
    "movement": (PageRating.movement.is_(None), PageRating.movement.desc(), PublicPage.name),
    "name": (PublicPage.name,),
}


class PublicsRepository:
    """Pages, what is collected from them, methodology versions and ratings."""

    def __init__(self, session: Session) -> None:
        self.session = session

    # -- pages ------------------------------------------------------------------------------

    def get(self, page_id: int, scope: Scope) -> PublicPage | None:
        """A page by id, if the scope sees it."""
        return self.session.scalar(
            select(PublicPage).where(PublicPage.id == page_id, page_scope(scope)))

    def add(self, page: PublicPage) -> PublicPage:
        """Insert a page and give it an id."""
        self.session.add(page)
        self.session.flush()
        return page

    def by_address(self, platform: str, external_id: str) -> PublicPage | None:
        """The page at an address, whatever the scope (for duplicate checks)."""
        return self.session.scalar(select(PublicPage).where(
            PublicPage.platform == platform, PublicPage.external_id == external_id))

    def pages(self, scope: Scope, f: PageFilter, *, limit: int = 50, offset: int = 0
              ) -> tuple[Sequence[PublicPage], int]:
        """A page of the registry and the total count."""
        query = _filtered(select(PublicPage).where(page_scope(scope)), f)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        rows = self.session.scalars(query.order_by(PublicPage.region_code, PublicPage.name)
                                    .limit(limit).offset(offset)).all()
        return rows, total

    def collectable(self, scope: Scope, region_code: str | None, page_ids: Sequence[int] = ()
                    ) -> Sequence[PublicPage]:
        """Active pages to collect."""
        query = select(PublicPage).where(page_scope(scope), PublicPage.status == "active")
        if region_code:
            query = query.where(PublicPage.region_code == region_code)
        if page_ids:
            query = query.where(PublicPage.id.in_(page_ids))
        return self.session.scalars(query.order_by(PublicPage.id)).all()

    def count(self) -> int:
        """Pages in the registry."""
        return self.session.scalar(select(func.count()).select_from(PublicPage)) or 0

    def organization_named(self, region_code: str, name: str) -> Organization | None:
        """An organization of the region by its name or short name (case as written)."""
        return self.session.scalar(select(Organization).where(
            Organization.region_code == region_code,
            (Organization.name == name) | (Organization.short_name == name)))

    def organization(self, organization_id: int) -> Organization | None:
        """An organization by id."""
        return self.session.get(Organization, organization_id)

    def municipalities(self, region_code: str | None) -> list[tuple[int, str, str]]:
        """(id, name, region code) of the municipalities that have pages."""
        query = (select(Territory.id, Territory.name, Territory.region_code)
                 .where(Territory.id.in_(select(PublicPage.municipality_id)))
                 .order_by(Territory.name))
        if region_code:
            query = query.where(Territory.region_code == region_code)
        return [(r[0], r[1], r[2]) for r in self.session.execute(query)]

    def municipality_ids(self, region_code: str) -> dict[str, int]:
        """Municipalities of a region by lower-cased name and short name."""
        found: dict[str, int] = {}
        for tid, name, short in self.session.execute(
                select(Territory.id, Territory.name, Territory.short_name).where(
                    Territory.region_code == region_code,
                    Territory.level == TerritoryLevel.municipality)):
            for label in (name, short):
                if label:
                    found.setdefault(label.lower().replace("ё", "е"), tid)
        return found

    def territory_names(self, ids: Iterable[int]) -> dict[int, str]:
        """Names of territories by id."""
        wanted = sorted({i for i in ids if i})
        if not wanted:
            return {}
        return dict(self.session.execute(
            select(Territory.id, Territory.name).where(Territory.id.in_(wanted))).all())

    # -- what collection brings -------------------------------------------------------------

    def save_posts(self, page_id: int, posts: Sequence[dict[str, Any]]) -> int:
        """Insert new posts and refresh the counters of known ones; the number new."""
        if not posts:
            return 0
        ids = [p["post_id"] for p in posts]
        known = dict(self.session.execute(select(PagePost.post_id, PagePost.id).where(
            PagePost.page_id == page_id, PagePost.post_id.in_(ids))).all())
        now = utcnow()
        fresh = 0
        for post in posts:
            if post["post_id"] in known:
                values = {k: v for k, v in post.items() if k != "post_id"}
                self.session.execute(update(PagePost).where(
                    PagePost.id == known[post["post_id"]]).values(**values, updated_at=now))
            else:
                self.session.add(PagePost(page_id=page_id, updated_at=now, **post))
                known[post["post_id"]] = -1
                fresh += 1
        self.session.flush()
        return fresh

    def save_comments(self, page_id: int, comments: Sequence[dict[str, Any]]) -> int:
        """Insert comments not seen before; the number new."""
        if not comments:
            return 0
        ids = [c["comment_id"] for c in comments]
        known = set(self.session.scalars(select(PageComment.comment_id).where(
            PageComment.page_id == page_id, PageComment.comment_id.in_(ids))))
        fresh = 0
        for comment in comments:
            if comment["comment_id"] not in known:
                self.session.add(PageComment(page_id=page_id, **comment))
                known.add(comment["comment_id"])
                fresh += 1
        self.session.flush()
        return fresh

    def save_snapshot(self, page_id: int, day: date, subscribers: int | None,
                      facts: dict[str, Any]) -> None:
        """The page's snapshot of the day (a second one that day replaces it)."""
        row = self.session.scalar(select(PageSnapshot).where(
            PageSnapshot.page_id == page_id, PageSnapshot.day == day))
        present = sum(1 for v in facts.values() if v)
        if row is None:
            self.session.add(PageSnapshot(page_id=page_id, day=day, subscribers=subscribers,
                                          facts=facts, facts_present=present,
                                          facts_total=len(facts)))
        else:
            row.subscribers, row.facts = subscribers, facts
            row.facts_present, row.facts_total = present, len(facts)
        self.session.flush()

    def latest_snapshot(self, page_id: int, before: date | None = None) -> PageSnapshot | None:
        """The newest snapshot of a page (before a day)."""
        query = select(PageSnapshot).where(PageSnapshot.page_id == page_id)
        if before is not None:
            query = query.where(PageSnapshot.day < before)
        return self.session.scalar(query.order_by(PageSnapshot.day.desc()).limit(1))

    def subscriber_history(self, page_id: int, since: date) -> list[tuple[date, int]]:
        """(day, subscribers) of a page since a day."""
        rows = self.session.execute(
            select(PageSnapshot.day, PageSnapshot.subscribers)
            .where(PageSnapshot.page_id == page_id, PageSnapshot.day >= since,
                   PageSnapshot.subscribers.is_not(None))
            .order_by(PageSnapshot.day)).all()
        return [(d, int(s)) for d, s in rows if s is not None]

    # -- the monitored stream: candidate pages -----------------------------------------------

    def stream_channels(self, region_code: str | None, limit: int = 5000
                        ) -> list[tuple[str, str, str, int]]:
        """(source, owner id, channel name, messages) of the social channels in the stream
        that no page of the registry is."""
        query = (select(Message.source, Message.owner_id, Message.channel, func.count())
                 .where(Message.source.in_(("vk", "ok", "telegram")),
                        Message.owner_id.is_not(None), Message.channel.is_not(None))
                 .group_by(Message.source, Message.owner_id, Message.channel)
                 .order_by(func.count().desc()).limit(limit))
        if region_code:
            query = query.where(Message.region_code == region_code)
        registered = {(p, e) for p, e in self.session.execute(
            select(PublicPage.platform, PublicPage.external_id))}
        return [(str(s), str(o), str(c), int(n)) for s, o, c, n in self.session.execute(query)
                if (s, o) not in registered]

    # -- methodology ------------------------------------------------------------------------

    def active_methodology(self) -> Methodology | None:
        """The version in force."""
        return self.session.scalar(select(Methodology).where(Methodology.is_active.is_(True))
                                   .order_by(Methodology.version.desc()).limit(1))

    def methodology(self, methodology_id: int) -> Methodology | None:
        """A version by id."""
        return self.session.get(Methodology, methodology_id)

    def methodologies(self) -> Sequence[Methodology]:
        """Every version, newest first."""
        return self.session.scalars(select(Methodology).order_by(Methodology.version.desc())
                                    ).all()

    def criteria(self, methodology_id: int) -> Sequence[MethodologyCriterion]:
        """The criteria rows of a version."""
        return self.session.scalars(
            select(MethodologyCriterion).where(MethodologyCriterion.methodology_id
                                               == methodology_id)
            .order_by(MethodologyCriterion.code, MethodologyCriterion.page_type,
                      MethodologyCriterion.page_class)).all()

    def add_methodology(self, note: str, created_by_id: int | None,
                        rows: Iterable[tuple[str, str, str, float, float]]) -> Methodology:
        """A new version made active; the earlier ones stay, inactive."""
        version = (self.session.scalar(select(func.max(Methodology.version))) or 0) + 1
        self.session.execute(update(Methodology).values(is_active=False))
        row = Methodology(version=version, note=note, is_active=True,
                          created_by_id=created_by_id)
        self.session.add(row)
        self.session.flush()
        for code, page_type, page_class, weight, threshold in rows:
            self.session.add(MethodologyCriterion(
                methodology_id=row.id, code=code, page_type=page_type, page_class=page_class,
                weight=weight, threshold=threshold))
        self.session.flush()
        return row

    # -- ratings ----------------------------------------------------------------------------

    def week_version(self, week: str, region_code: str | None = None) -> int | None:
        """The newest methodology version a week was computed with (in a region)."""
        query = (select(func.max(Methodology.version))
                 .join(PageRating, PageRating.methodology_id == Methodology.id)
                 .where(PageRating.week == week))
        if region_code:
            query = query.where(PageRating.region_code == region_code)
        return self.session.scalar(query)

    def versions(self, methodology_ids: Iterable[int]) -> dict[int, int]:
        """Version numbers by methodology id."""
        wanted = sorted(set(methodology_ids))
        if not wanted:
            return {}
        return {i: int(v) for i, v in self.session.execute(
            select(Methodology.id, Methodology.version).where(Methodology.id.in_(wanted)))}

    @staticmethod
    def _newest(week: str) -> Any:
        """(region code, newest methodology id) of a week: each region is listed under the
        version it was last computed with, so computing one region again under a new version
        leaves the others under theirs."""
        return (select(PageRating.region_code.label("region_code"),
                       func.max(PageRating.methodology_id).label("mid"))
                .where(PageRating.week == week).group_by(PageRating.region_code).subquery())

    def _week_rows(self, query: Any, week: str) -> Any:
        newest = self._newest(week)
        return query.join(newest, (newest.c.region_code == PageRating.region_code)
                          & (newest.c.mid == PageRating.methodology_id)
                          ).where(PageRating.week == week)

    def weeks(self, limit: int = 52) -> list[str]:
        """Weeks that have ratings, newest first."""
        return list(self.session.scalars(select(PageRating.week).distinct()
                                         .order_by(PageRating.week.desc()).limit(limit)))

    def ratings(self, scope: Scope, week: str, f: PageFilter, *,
                sort: str = "rank", limit: int | None = 50, offset: int = 0
                ) -> tuple[list[tuple[PageRating, PublicPage]], int]:
        """A week's ratings (each region's under the newest version it was computed with)
        with their pages, and the total count."""
        query = _filtered(self._week_rows(
            select(PageRating, PublicPage).join(PublicPage, PublicPage.id == PageRating.page_id)
            .where(page_scope(scope)), week), f)
        total = self.session.scalar(select(func.count()).select_from(query.subquery())) or 0
        query = query.order_by(*RATING_SORTS.get(sort, RATING_SORTS["rank"])).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        rows: list[tuple[PageRating, PublicPage]] = [
            (row[0], row[1]) for row in self.session.execute(query)]
        return rows, total

    def rating_of(self, page_id: int, week: str) -> PageRating | None:
        """A page's rating of a week under the newest version that week was computed with."""
        return self.session.scalar(
            select(PageRating).where(PageRating.page_id == page_id, PageRating.week == week)
            .order_by(PageRating.methodology_id.desc()).limit(1))

    def latest_rating(self, page_id: int) -> PageRating | None:
        """A page's newest rating."""
        return self.session.scalar(
            select(PageRating).where(PageRating.page_id == page_id)
            .order_by(PageRating.week.desc(), PageRating.methodology_id.desc()).limit(1))

    def items(self, rating_id: int) -> Sequence[PageRatingItem]:
        """A rating's breakdown by criterion."""
        return self.session.scalars(select(PageRatingItem)
                                    .where(PageRatingItem.rating_id == rating_id)).all()

    def items_of(self, rating_ids: Sequence[int]) -> dict[int, list[PageRatingItem]]:
        """Breakdowns of several ratings."""
        result: dict[int, list[PageRatingItem]] = {i: [] for i in rating_ids}
        for start in range(0, len(rating_ids), 500):
            chunk = list(rating_ids[start:start + 500])
            for item in self.session.scalars(select(PageRatingItem)
                                             .where(PageRatingItem.rating_id.in_(chunk))):
                result[item.rating_id].append(item)
        return result

    def history(self, page_id: int, limit: int = 26) -> list[tuple[str, float | None,
                                                                   int | None, int]]:
        """(week, score, regional rank, methodology version) of a page, oldest first."""
        rows = self.session.execute(
            select(PageRating.week, PageRating.score, PageRating.rank_region,
                   Methodology.version)
            .join(Methodology, Methodology.id == PageRating.methodology_id)
            .where(PageRating.page_id == page_id)
            .order_by(PageRating.week.desc(), PageRating.methodology_id.desc())).all()
        latest: dict[str, tuple[str, float | None, int | None, int]] = {}
        for week, score, rank, version in rows:
            latest.setdefault(week, (week, score, rank, version))
        return sorted(latest.values())[-limit:]

    def summary(self, scope: Scope, week: str, f: PageFilter, by: str
                ) -> list[tuple[Any, int, int, float | None]]:
        """(municipality id or page type, pages, pages with data, mean score) of a week."""
        key = PageRating.municipality_id if by == "municipality" else PageRating.page_type
        query = _filtered(self._week_rows(
            select(key, func.count(), func.count(PageRating.score), func.avg(PageRating.score))
            .join(PublicPage, PublicPage.id == PageRating.page_id)
            .where(page_scope(scope)), week), f).group_by(key)
        rows = self.session.execute(query).all()
        return sorted(((k, int(n), int(s), float(a) if a is not None else None)
                       for k, n, s, a in rows), key=lambda r: -(r[3] or -1))

    def count_ratings(self) -> int:
        """Weekly rating rows."""
        return self.session.scalar(select(func.count()).select_from(PageRating)) or 0

    def no_data_pages(self, week: str, methodology_id: int, region: str | None,
                      limit: int = 20) -> list[str]:
        """Names of pages rated "no data" in a week."""
        query = (select(PublicPage.name).join(PageRating, PageRating.page_id == PublicPage.id)
                 .where(PageRating.week == week, PageRating.methodology_id == methodology_id,
                        PageRating.score.is_(None)).order_by(PublicPage.name).limit(limit))
        if region:
            query = query.where(PageRating.region_code == region)
        return list(self.session.scalars(query))

    def set_collected(self, page: PublicPage, cursor: dict[str, Any], error: str | None,
                      at: datetime) -> None:
        """Record a collection run on the page."""
        page.cursor = cursor
        page.last_collected_at = at
        if error:
            page.last_error = error
            page.error_count = (page.error_count or 0) + 1
        else:
            page.last_error = None
            page.error_count = 0
        self.session.flush()

