"""The registry of official pages, the methodology versions and the weekly rating.

Who may do what: analysts (and heads, deputies, admins: the ``analytics`` permission) read
the registry and every rating of their regions; admins add and import pages
(``reference.write``) and save methodology versions (``admin``); a page owner (``pages``)
reads only their organization's pages — the scope filters every query, so another page
does not exist for them (404).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.errors import Forbidden, InvalidInput, NotFound
from otklik.models.publics import Methodology, PageRating, PageRatingItem, PublicPage
from otklik.publics import rating_job
from otklik.publics.links import LinkError, parse_link
from otklik.publics.repository import PageFilter, PublicsRepository
from otklik.publics.schemas import CriterionIn, CriterionRead, PageCreate
from otklik.publics.vocabulary import (
    CRITERIA,
    DEFAULT_OVERRIDES,
    PAGE_CLASSES,
    PAGE_STATUSES,
    PAGE_TYPES,
    advice,
)
from otklik.publics.weeks import Week


def require_reader(actor: Actor) -> None:
    """Official pages are read by analysts (``analytics``) and page owners (``pages``)."""
    _reader(actor)


def _reader(actor: Actor) -> None:
    if not (actor.scope.can("analytics") or actor.scope.can("pages")):
        raise Forbidden("official pages are read by analysts and page owners")


# -- registry -----------------------------------------------------------------------------

def check_choices(page_type: str, page_class: str, status: str) -> None:
    """Refuse an unknown type, class or status with the known ones named."""
    for value, table, what in ((page_type, PAGE_TYPES, "type"), (page_class, PAGE_CLASSES,
                                                                  "class"),
                               (status, PAGE_STATUSES, "status")):
        if value not in table:
            raise InvalidInput(f"unknown page {what} {value!r}: use one of {', '.join(table)}")


def add_page(session: Session, actor: Actor, data: PageCreate) -> PublicPage:
    """Add a page by its link; a page already registered at that address is refused."""
    actor.require("reference.write")
    if not actor.scope.sees_region(data.region_code):
        raise Forbidden(f"region {data.region_code} is outside your scope")
    check_choices(data.page_type, data.page_class, data.status)
    try:
        link = parse_link(data.link)
    except LinkError as exc:
        raise InvalidInput(str(exc)) from None
    repo = PublicsRepository(session)
    if repo.by_address(link.platform, link.external_id) is not None:
        raise InvalidInput(f"the page {link.url} is already in the registry")
    page = repo.add(PublicPage(
        region_code=data.region_code, platform=link.platform, external_id=link.external_id,
        url=link.url, name=data.name.strip(), owner_name=data.owner_name,
        organization_id=data.organization_id, municipality_id=data.municipality_id,
        page_type=data.page_type, page_class=data.page_class, status=data.status))
    audit.record(session, actor, "page.create", "public_page", page.id,
                 region_code=page.region_code, details={"url": page.url})
    return page


def list_pages(session: Session, actor: Actor, f: PageFilter, *, limit: int = 50,
               offset: int = 0) -> tuple[Sequence[PublicPage], int]:
    """A page of the registry in the actor's scope."""
    _reader(actor)
    return PublicsRepository(session).pages(actor.scope, f, limit=limit, offset=offset)


def get_page(session: Session, actor: Actor, page_id: int) -> PublicPage:
    """A page the actor sees (else 404)."""
    _reader(actor)
    page = PublicsRepository(session).get(page_id, actor.scope)
    if page is None:
        raise NotFound(f"page {page_id} not found")
    return page


@dataclass
class Candidate:
    """A channel of the monitored stream that may be an organization's page."""

    platform: str
    external_id: str
    channel: str
    messages: int

    @property
    def link(self) -> str | None:
        """The page's link for the registry (an import row), when its id gives one: a VK
        community or an OK group (a Telegram chat's number does not)."""
        if self.platform == "vk" and self.external_id.startswith("-") \
                and self.external_id[1:].isdigit():
            return f"https://vk.com/club{self.external_id[1:]}"
        if self.platform == "ok" and self.external_id.isdigit():
            return f"https://ok.ru/group/{self.external_id}"
        return None


_OWNER_WORDS = re.compile(r"[0-9a-zа-яё]+", re.IGNORECASE)
_COMMON = {"мбоу", "мбдоу", "маоу", "мадоу", "гбоу", "гбу", "гку", "му", "муп", "оу", "сош",
           "администрация", "район", "района", "округа", "города", "г", "им", "имени", "для",
           "детей", "официальная", "страница", "по"}


def _keys(name: str) -> set[str]:
    return {w for w in (m.lower() for m in _OWNER_WORDS.findall(name))
            if w not in _COMMON and (len(w) >= 4 or w.isdigit())}


def propose_candidates(session: Session, actor: Actor, name: str,
                       region_code: str | None = None, limit: int = 10) -> list[Candidate]:
    """Channels of the monitored stream (not yet registered) whose names carry the words
    of an organization's name: candidate pages to add."""
    actor.require("analytics")
    if region_code and not actor.scope.sees_region(region_code):
        raise Forbidden(f"region {region_code} is outside your scope")
    wanted = _keys(name)
    if not wanted:
        return []
    found: list[tuple[float, Candidate]] = []
    for source, owner, channel, count in PublicsRepository(session).stream_channels(
            region_code):
        have = _keys(channel)
        share = len(wanted & have) / len(wanted)
        if share >= 0.6:
            found.append((share, Candidate(source, owner, channel, count)))
    found.sort(key=lambda pair: (-pair[0], -pair[1].messages))
    return [c for _, c in found[:limit]]


# -- methodology --------------------------------------------------------------------------

def default_rows() -> list[tuple[str, str, str, float, float]]:
    """The first version: every criterion for any page, and the overrides by class."""
    rows = [(c.code, "*", "*", float(c.weight), float(c.threshold)) for c in CRITERIA.values()]
    return rows + [(c, t, k, float(w), float(h)) for c, t, k, w, h in DEFAULT_OVERRIDES]


def ensure_methodology(session: Session, actor: Actor) -> Methodology:
    """The version in force; the defaults become version 1 on first use."""
    repo = PublicsRepository(session)
    active = repo.active_methodology()
    if active is not None:
        return active
    return repo.add_methodology("Методика по умолчанию", actor.user_id, default_rows())


def save_methodology(session: Session, actor: Actor, criteria: Sequence[CriterionIn],
                     note: str = "") -> Methodology:
    """A new version from an admin's criteria: a change is never made in place, so each
    rating keeps naming the version it was computed with."""
    actor.require("admin")
    if not criteria:
        raise InvalidInput("a methodology needs at least one criterion")
    seen: set[tuple[str, str, str]] = set()
    for row in criteria:
        if row.code not in CRITERIA:
            raise InvalidInput(f"unknown criterion {row.code!r}: use one of "
                               f"{', '.join(CRITERIA)}")
        if row.page_type != "*" and row.page_type not in PAGE_TYPES:
            raise InvalidInput(f"unknown page type {row.page_type!r}")
        if row.page_class != "*" and row.page_class not in PAGE_CLASSES:
            raise InvalidInput(f"unknown page class {row.page_class!r}")
        key = (row.code, row.page_type, row.page_class)
        if key in seen:
            raise InvalidInput(f"criterion {row.code} for {row.page_type}/{row.page_class} "
                               "is given twice")
        seen.add(key)
    repo = PublicsRepository(session)
    current = repo.active_methodology()
    if current is not None and _same(repo, current, criteria):
        raise InvalidInput("nothing changed: the methodology in force has these criteria")
    version = repo.add_methodology(
        note.strip(), actor.user_id,
        [(r.code, r.page_type, r.page_class, r.weight, r.threshold) for r in criteria])
    audit.record(session, actor, "methodology.create", "page_methodology", version.id,
                 details={"version": version.version, "criteria": len(criteria)})
    return version


def _same(repo: PublicsRepository, current: Methodology, criteria: Sequence[CriterionIn]
          ) -> bool:
    have = {(c.code, c.page_type, c.page_class, c.weight, c.threshold)
            for c in repo.criteria(current.id)}
    return have == {(r.code, r.page_type, r.page_class, r.weight, r.threshold)
                    for r in criteria}


def criteria_in(session: Session, methodology_id: int) -> list[CriterionIn]:
    """A version's criteria as editable rows."""
    return [CriterionIn(code=c.code, page_type=c.page_type, page_class=c.page_class,
                        weight=c.weight, threshold=c.threshold)
            for c in PublicsRepository(session).criteria(methodology_id)]


# -- rating -------------------------------------------------------------------------------

@dataclass
class ComputeSummary:
    """What a week's computation did; pages without data are named, never scored zero."""

    week: str
    version: int
    pages: int
    rated: int
    no_data: list[str] = field(default_factory=list)


def compute_week(session: Session, actor: Actor, week: Week,
                 region_code: str | None = None) -> ComputeSummary:
    """Score every active page of a week under the methodology in force (one SQL job)."""
    actor.require("analytics")
    if region_code and not actor.scope.sees_region(region_code):
        raise Forbidden(f"region {region_code} is outside your scope")
    if region_code is None and not actor.scope.all_regions:
        raise Forbidden("name the region to compute")
    methodology = ensure_methodology(session, actor)
    counts = rating_job.compute_week(session, week, methodology.id, region_code)
    missing = PublicsRepository(session).no_data_pages(week.label, methodology.id,
                                                       region_code)
    return ComputeSummary(week.label, methodology.version, counts.pages, counts.rated,
                          missing)


@dataclass
class RatedPage:
    """A page's weekly score with its breakdown and advice."""

    page: PublicPage
    rating: PageRating
    version: int
    criteria: list[CriterionRead]

    @property
    def advice(self) -> list[str]:
        """What to do, one line per failing criterion."""
        return [c.advice for c in self.criteria if c.advice]


def _criteria(items: Sequence[PageRatingItem], facts: dict[str, Any] | None,
              locale: str) -> list[CriterionRead]:
    order = list(CRITERIA)
    rows = []
    for item in sorted(items, key=lambda i: order.index(i.code) if i.code in order else 99):
        known = CRITERIA.get(item.code)
        title = (known.en if locale == "en" else known.ru) if known else item.code
        met = item.score
        tip = (advice(item.code, item.value, item.threshold, facts, locale)
               if met is not None and met < 0.999 else None)
        rows.append(CriterionRead(code=item.code, title=title, value=item.value,
                                  threshold=item.threshold, weight=item.weight,
                                  part_met=met, advice=tip))
    return rows


def week_or_latest(session: Session, week: str | None) -> str | None:
    """The week asked for, or the newest week with ratings."""
    if week:
        return Week.parse(week).label
    weeks = PublicsRepository(session).weeks(1)
    return weeks[0] if weeks else None


def rating_list(session: Session, actor: Actor, week: str, f: PageFilter, *,
                sort: str = "rank", limit: int | None = 50, offset: int = 0,
                locale: str = "ru") -> tuple[list[RatedPage], int, int | None]:
    """A week's ratings in the actor's scope, the total, and the newest version among them.

    Each region is listed under the newest version it was computed with that week (ranks
    are regional), and each rating names its own version."""
    _reader(actor)
    repo = PublicsRepository(session)
    newest = repo.week_version(week, f.region_code)
    if newest is None:
        return [], 0, None
    rows, total = repo.ratings(actor.scope, week, f, sort=sort, limit=limit, offset=offset)
    breakdown = repo.items_of([r[0].id for r in rows])
    versions = repo.versions(r[0].methodology_id for r in rows)
    result = []
    for rating, page in rows:
        facts = _facts(repo, page.id, week)
        result.append(RatedPage(page, rating, versions[rating.methodology_id],
                                _criteria(breakdown[rating.id], facts, locale)))
    return result, total, max((r.version for r in result), default=newest)


def _facts(repo: PublicsRepository, page_id: int, week: str) -> dict[str, Any] | None:
    snapshot = repo.latest_snapshot(page_id, before=Week.parse(week).next_monday)
    return snapshot.facts if snapshot is not None else None


@dataclass
class PageCard:
    """One page: its rating of a week with breakdown and advice, and its history."""

    page: PublicPage
    rated: RatedPage | None
    history: list[tuple[str, float | None, int | None, int]]
    subscribers: list[tuple[str, int]]
    municipality: str | None


def page_card(session: Session, actor: Actor, page_id: int, week: str | None = None,
              locale: str = "ru") -> PageCard:
    """A page the actor sees, with a week's breakdown (the newest by default)."""
    page = get_page(session, actor, page_id)
    repo = PublicsRepository(session)
    rating = repo.rating_of(page.id, week) if week else repo.latest_rating(page.id)
    rated = None
    if rating is not None:
        version = repo.methodology(rating.methodology_id)
        rated = RatedPage(page, rating, version.version if version else 0,
                          _criteria(repo.items(rating.id), _facts(repo, page.id, rating.week),
                                    locale))
    since = (Week.parse(rating.week).monday if rating else Week.of(page.created_at).monday
             ) - timedelta(days=90)
    subscribers = [(d.isoformat(), n) for d, n in repo.subscriber_history(page.id, since)]
    names = repo.territory_names([page.municipality_id or 0])
    return PageCard(page, rated, repo.history(page.id), subscribers,
                    names.get(page.municipality_id or 0))


def owner_cards(session: Session, actor: Actor, locale: str = "ru") -> list[PageCard]:
    """A page owner's pages with their newest ratings and advice."""
    actor.require("pages")
    pages, _ = PublicsRepository(session).pages(actor.scope, PageFilter(), limit=200)
    return [page_card(session, actor, p.id, locale=locale) for p in pages]


def summary(session: Session, actor: Actor, week: str, f: PageFilter, by: str
            ) -> list[tuple[str, int, int, float | None]]:
    """Ratings by municipality or by type: (name, pages, with data, mean score)."""
    _reader(actor)
    repo = PublicsRepository(session)
    rows = repo.summary(actor.scope, week, f, by)
    if by == "municipality":
        names = repo.territory_names(k for k, *_ in rows if k)
        return [(names.get(k, "—") if k else "—", n, s, a) for k, n, s, a in rows]
    return [(str(k), n, s, a) for k, n, s, a in rows]
