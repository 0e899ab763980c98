"""Small builders of pages and what collection brings, for the publics tests."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from otklik.days import REPORT_TZ
from otklik.models.publics import PageComment, PagePost, PageSnapshot, PublicPage
from otklik.models.territory import Territory, TerritoryLevel

_ids = itertools.count(1)


def municipality(session: Session, region: str = "68", index: int = 0) -> Territory:
    """A municipality of the region (the reference load made them)."""
    rows = session.scalars(select(Territory).where(
        Territory.region_code == region, Territory.level == TerritoryLevel.municipality)
        .order_by(Territory.id)).all()
    return rows[index]


def a_page(session: Session, *, region: str = "68", municipality_id: int | None = None,
           page_type: str = "school", page_class: str = "active",
           organization_id: int | None = None, name: str | None = None) -> PublicPage:
    """An active VK page."""
    n = next(_ids)
    page = PublicPage(region_code=region, platform="vk", external_id=str(-900000 - n),
                      url=f"https://vk.com/club{900000 + n}", name=name or f"Школа №{n}",
                      page_type=page_type, page_class=page_class, status="active",
                      municipality_id=municipality_id, organization_id=organization_id)
    session.add(page)
    session.flush()
    return page


def msk(y: int, m: int, d: int, h: int = 12, minute: int = 0) -> datetime:
    """A Moscow wall-clock time as UTC."""
    return datetime(y, m, d, h, minute, tzinfo=REPORT_TZ).astimezone(UTC)


def post(session: Session, page: PublicPage, at: datetime, *, views: int = 0, likes: int = 0,
         reposts: int = 0, comments: int = 0, kind: str = "text") -> PagePost:
    """A post of a page."""
    row = PagePost(page_id=page.id, post_id=str(next(_ids)), posted_at=at, kind=kind,
                   views=views, likes=likes, reposts=reposts, comments=comments)
    session.add(row)
    session.flush()
    return row


def comment(session: Session, page: PublicPage, at: datetime, *, question: bool = True,
            from_page: bool = False, reply_to: str | None = None) -> PageComment:
    """A resident's comment (a question by default) or, with ``from_page``, an answer."""
    row = PageComment(page_id=page.id, post_id="1", comment_id=str(next(_ids)),
                      reply_to=reply_to, author_id="-1" if from_page else "77",
                      from_page=from_page, needs_answer=question and not from_page,
                      created_at=at)
    session.add(row)
    session.flush()
    return row


def snapshot(session: Session, page: PublicPage, day: date, subscribers: int,
             facts: dict[str, Any] | None = None) -> PageSnapshot:
    """A day's snapshot."""
    facts = facts or {}
    row = PageSnapshot(page_id=page.id, day=day, subscribers=subscribers, facts=facts,
                       facts_present=sum(1 for v in facts.values() if v),
                       facts_total=len(facts))
    session.add(row)
    session.flush()
    return row
