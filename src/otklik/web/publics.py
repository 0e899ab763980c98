"""The official pages screens: the analyst's rating and registry (filters, sort, one
page's breakdown and its history as a chart), the page owner's own pages with the advice,
the methodology an admin edits (each save is a new version), and the exports."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from otklik.audit.actor import Actor
from otklik.bounds import RefId
from otklik.deps import OptionalActor, SessionDep, check_csrf
from otklik.errors import Forbidden, OtklikError
from otklik.publics import service
from otklik.publics.export import Format, build_report, render
from otklik.publics.repository import RATING_SORTS, PageFilter, PublicsRepository
from otklik.publics.schemas import CriterionIn
from otklik.publics.vocabulary import (
    CRITERIA,
    PAGE_CLASSES,
    PAGE_STATUSES,
    PAGE_TYPES,
    PLATFORM_NAMES,
    label,
)
from otklik.publics.weeks import Week
from otklik.web.rendering import locale_of
from otklik.web.rendering import render as render_page
from otklik.web.workspace_common import flash, require_actor, take_flashes, user_context

router = APIRouter(include_in_schema=False)
PAGE = 50


def _analyst(actor: Actor | None) -> Actor:
    actor = require_actor(actor)
    if not actor.scope.can("analytics"):
        raise Forbidden("the official pages rating is for the center's analysts")
    return actor


def _labels(locale: str) -> dict[str, Any]:
    return {
        "types": {k: label(PAGE_TYPES, k, locale) for k in PAGE_TYPES},
        "classes": {k: label(PAGE_CLASSES, k, locale) for k in PAGE_CLASSES},
        "statuses": {k: label(PAGE_STATUSES, k, locale) for k in PAGE_STATUSES},
        "platforms": {k: label(PLATFORM_NAMES, k, locale) for k in PLATFORM_NAMES},
        "criteria": {c.code: (c.en if locale == "en" else c.ru) for c in CRITERIA.values()},
    }


def _filter(region_code: str | None, municipality_id: int | None, page_type: str | None,
            page_class: str | None, status: str | None = None, platform: str | None = None,
            q: str | None = None) -> PageFilter:
    return PageFilter(region_code=region_code or None, municipality_id=municipality_id or None,
                      page_type=page_type if page_type in PAGE_TYPES else None,
                      page_class=page_class if page_class in PAGE_CLASSES else None,
                      status=status if status in PAGE_STATUSES else None,
                      platform=platform if platform in PLATFORM_NAMES else None,
                      q=(q or "").strip() or None)


@router.get("/publics", response_class=HTMLResponse)
def rating_page(
    request: Request, actor: OptionalActor, session: SessionDep,
    week: str | None = Query(default=None, max_length=8),
    region_code: str | None = Query(default=None, max_length=3),
    municipality_id: RefId | None = None,
    page_type: str | None = Query(default=None, max_length=32),
    page_class: str | None = Query(default=None, max_length=16),
    q: str | None = Query(default=None, max_length=100),
    sort: str = Query(default="rank", max_length=16),
    page: int = Query(default=1, ge=1, le=100_000),
) -> Response:
    """The weekly rating with filters, sort and the summaries by municipality and type."""
    actor = _analyst(actor)
    locale = locale_of(request)
    chosen = service.week_or_latest(session, week)
    f = _filter(region_code, municipality_id, page_type, page_class, q=q)
    sort = sort if sort in RATING_SORTS else "rank"
    rated: list[service.RatedPage] = []
    total, version = 0, None
    by_town: list[Any] = []
    by_type: list[Any] = []
    if chosen:
        rated, total, version = service.rating_list(session, actor, chosen, f, sort=sort,
                                                    limit=PAGE, offset=(page - 1) * PAGE,
                                                    locale=locale)
        by_town = service.summary(session, actor, chosen, f, "municipality")
        by_type = service.summary(session, actor, chosen, f, "type")
    repo = PublicsRepository(session)
    towns = repo.territory_names(r.page.municipality_id or 0 for r in rated)
    raw = {"week": chosen or "", "region_code": region_code or "",
           "municipality_id": municipality_id or "", "page_type": page_type or "",
           "page_class": page_class or "", "q": q or "", "sort": sort}
    return render_page(request, "publics/rating.html", {
        **user_context(actor, session), **_labels(locale), "week": chosen, "weeks": repo.weeks(),
        "rated": rated, "total": total, "version": version, "by_town": by_town,
        "by_type": by_type, "towns": towns, "raw": raw, "sorts": list(RATING_SORTS),
        "municipalities": repo.municipalities(region_code or None),
        "query": urlencode({k: v for k, v in raw.items() if v}), "page": page,
        "pages": max(1, (total + PAGE - 1) // PAGE),
        "can_export": bool(chosen and region_code), "flashes": take_flashes(request)})


@router.get("/publics/registry", response_class=HTMLResponse)
def registry_page(
    request: Request, actor: OptionalActor, session: SessionDep,
    region_code: str | None = Query(default=None, max_length=3),
    page_type: str | None = Query(default=None, max_length=32),
    status: str | None = Query(default=None, max_length=16),
    platform: str | None = Query(default=None, max_length=16),
    q: str | None = Query(default=None, max_length=100),
    page: int = Query(default=1, ge=1, le=100_000),
    candidates_for: str | None = Query(default=None, max_length=300),
) -> Response:
    """The registry: every page with its owner, type, class, status and last collection;
    with ``candidates_for``, the stream's channels named like that organization."""
    actor = _analyst(actor)
    locale = locale_of(request)
    f = _filter(region_code, None, page_type, None, status, platform, q)
    rows, total = service.list_pages(session, actor, f, limit=PAGE, offset=(page - 1) * PAGE)
    wanted = (candidates_for or "").strip()
    candidates = (service.propose_candidates(session, actor, wanted, region_code or None)
                  if wanted else None)
    raw = {"region_code": region_code or "", "page_type": page_type or "",
           "status": status or "", "platform": platform or "", "q": q or ""}
    return render_page(request, "publics/registry.html", {
        **user_context(actor, session), **_labels(locale), "rows": rows, "total": total,
        "towns": PublicsRepository(session).territory_names(p.municipality_id or 0
                                                            for p in rows),
        "raw": raw, "query": urlencode({k: v for k, v in raw.items() if v}), "page": page,
        "pages": max(1, (total + PAGE - 1) // PAGE), "candidates_for": wanted,
        "candidates": candidates})


@router.get("/publics/pages/{page_id}", response_class=HTMLResponse)
def page_card(request: Request, actor: OptionalActor, session: SessionDep, page_id: RefId,
              week: str | None = Query(default=None, max_length=8)) -> Response:
    """One page: its weekly breakdown, advice, and history (analysts; an owner: theirs)."""
    actor = require_actor(actor)
    locale = locale_of(request)
    card = service.page_card(session, actor, page_id, week, locale)
    chart = {"weeks": [h[0] for h in card.history], "scores": [h[1] for h in card.history],
             "ranks": [h[2] for h in card.history],
             "days": [d for d, _ in card.subscribers], "subscribers": [n for _, n in
                                                                      card.subscribers]}
    return render_page(request, "publics/page.html", {
        **user_context(actor, session), **_labels(locale), "card": card, "chart": chart,
        "back": "/publics" if actor.scope.can("analytics") else "/publics/mine"})


@router.get("/publics/mine", response_class=HTMLResponse)
def my_pages(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """A page owner's pages, each with its newest score and the advice."""
    actor = require_actor(actor)
    locale = locale_of(request)
    cards = service.owner_cards(session, actor, locale)
    return render_page(request, "publics/mine.html", {
        **user_context(actor, session), **_labels(locale), "cards": cards})


@router.get("/publics/export")
def export(actor: OptionalActor, session: SessionDep,
           region_code: str = Query(max_length=3), week: str = Query(max_length=8),
           format: str = Query(default="xlsx", pattern="^(xlsx|docx)$")) -> Response:
    """A region's weekly rating as XLSX or DOCX."""
    actor = _analyst(actor)
    label_ = Week.parse(week).label
    report = build_report(session, actor, region_code, label_)
    fmt: Format = "docx" if format == "docx" else "xlsx"
    media = ("application/vnd.openxmlformats-officedocument.wordprocessingml.document"
             if fmt == "docx" else
             "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    return Response(render(report, fmt), media_type=media, headers={
        "Content-Disposition": f'attachment; filename="publics-{region_code}-{label_}.{fmt}"'})


@router.get("/publics/methodology", response_class=HTMLResponse)
def methodology_page(request: Request, actor: OptionalActor, session: SessionDep) -> Response:
    """The methodology in force and its versions; an admin edits it here."""
    actor = _analyst(actor)
    locale = locale_of(request)
    current = PublicsRepository(session).active_methodology()
    rows = service.criteria_in(session, current.id) if current else [
        CriterionIn(code=c, page_type=t, page_class=k, weight=w, threshold=h)
        for c, t, k, w, h in service.default_rows()]
    return render_page(request, "publics/methodology.html", {
        **user_context(actor, session), **_labels(locale), "current": current, "rows": rows,
        "versions": PublicsRepository(session).methodologies(),
        "can_edit": actor.scope.can("admin"), "flashes": take_flashes(request)})


@router.post("/publics/methodology")
async def methodology_save(request: Request, actor: OptionalActor, session: SessionDep,
                           csrf: Annotated[str, Form()] = "",
                           note: Annotated[str, Form(max_length=1000)] = "") -> Response:
    """Save the edited criteria as a new version (the old one stays for old ratings)."""
    actor = require_actor(actor)
    check_csrf(request, csrf)
    form = await request.form()
    rows = []
    try:
        for index in range(len(form.getlist("code"))):
            code = str(form.getlist("code")[index])
            rows.append(CriterionIn(
                code=code, page_type=str(form.getlist("page_type")[index]) or "*",
                page_class=str(form.getlist("page_class")[index]) or "*",
                weight=float(str(form.getlist("weight")[index]).replace(",", ".")),
                threshold=float(str(form.getlist("threshold")[index]).replace(",", "."))))
        version = service.save_methodology(session, actor, rows, note)
    except (OtklikError, ValueError, IndexError) as exc:
        text = exc.message if isinstance(exc, OtklikError) else "проверьте числа в таблице"
        flash(request, text, "error")
        return RedirectResponse("/publics/methodology", status_code=303)
    flash(request, f"v{version.version}")
    return RedirectResponse("/publics/methodology", status_code=303)
