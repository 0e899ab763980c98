"""Fakes routes: the registry (analysts), suspects, analytics, and the public check service."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from otklik.analytics.schemas import day_start_utc, parse_period
from otklik.bounds import DbInt, RefId
from otklik.deps import CurrentActor, SessionDep, client_ip
from otklik.errors import ErrorBody
from otklik.fakes import analytics, check, service
from otklik.fakes.repository import FakeRepository
from otklik.fakes.schemas import (
    CheckAnswer,
    CheckRequest,
    CopyList,
    CopyRead,
    FakeCreate,
    FakeList,
    FakeRead,
    FakeStatus,
    FakeUpdate,
    RefutationDraft,
    RevisionList,
    RevisionRead,
    SuspectList,
    SuspectRead,
)
from otklik.models.fakes import FakeCopy
from otklik.models.message import Message
from otklik.paging import DEFAULT_LIMIT, Limit, Offset

router = APIRouter(prefix="/api/v1/fakes", tags=["fakes"])
check_router = APIRouter(prefix="/api/v1", tags=["fakes"])

Region = Annotated[str | None, Query(pattern=r"^\d{2,3}$")]


def _period(period: str | None) -> tuple[datetime | None, datetime | None]:
    if not period:
        return None, None
    start, end = parse_period(period)
    return day_start_utc(start), day_start_utc(end)


def suspect_read(row: object) -> SuspectRead:
    """A suspect for the API."""
    return SuspectRead.model_validate(row, from_attributes=True)


@check_router.post("/check", response_model=CheckAnswer, responses={
    400: {"model": ErrorBody, "description": "empty, binary or unreadable input"},
    429: {"model": ErrorBody, "description": "too many checks from this client"}})
def check_text(payload: CheckRequest, request: Request, session: SessionDep) -> CheckAnswer:
    """Myth or truth: the refutation when the text (or the linked post) copies a known fake,
    else "not in the registry, sent for checking". No login; rate-limited per client."""
    check.throttle(f"ip:{client_ip(request) or 'unknown'}")
    return check.check(session, text=payload.text, url=payload.url,
                       region_code=payload.region_code)


@check_router.post("/fakes-bot/{name}", include_in_schema=False)
async def bot_webhook(name: str, request: Request, session: SessionDep) -> Response:
    """The check bot's Telegram webhook: the update answered in its thread."""
    from otklik.errors import Forbidden
    from otklik.fakes import bot

    body = await request.body()
    secret = request.headers.get("x-telegram-bot-api-secret-token", "")
    if not bot.handle_webhook(session, name[:255], body[:1_000_000], secret):
        raise Forbidden("Telegram webhook: wrong or missing secret token")
    return Response("ok", media_type="text/plain")


@router.get("", response_model=FakeList)
def list_fakes(actor: CurrentActor, session: SessionDep, region_code: Region = None,
               status: FakeStatus | None = None,
               q: Annotated[str | None, Query(max_length=200)] = None,
               limit: Annotated[DbInt, Query(ge=1, le=500)] = 50,
               offset: Annotated[DbInt, Query()] = 0) -> FakeList:
    """The registry in the caller's scope, newest first, with copies and reach."""
    items, total = service.list_fakes(session, actor, region_code=region_code, status=status,
                                      q=q, limit=limit, offset=offset)
    return FakeList(items=items, total=total, limit=limit, offset=offset)


@router.post("", response_model=FakeRead, status_code=201)
def create(payload: FakeCreate, actor: CurrentActor, session: SessionDep) -> FakeRead:
    """Record a claim."""
    return service.read(session, service.create_fake(session, actor, payload))


@router.get("/suspects", response_model=SuspectList)
def suspects(actor: CurrentActor, session: SessionDep,
             status: Annotated[str, Query(pattern="^(new|promoted|dismissed)$")] = "new",
             limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> SuspectList:
    """Texts proposed for checking, with the reasons, the most spread first."""
    rows, total = service.suspects(session, actor, status, limit, offset)
    return SuspectList(items=[suspect_read(s) for s in rows], total=total, limit=limit,
                       offset=offset)


@router.post("/suspects/{suspect_id}/promote", response_model=FakeRead, status_code=201)
def promote(suspect_id: DbInt, actor: CurrentActor, session: SessionDep,
            region_code: Region = None) -> FakeRead:
    """One click: the suspect becomes a claim of the registry (status "checking")."""
    return service.read(session, service.promote_suspect(session, actor, suspect_id,
                                                         region_code))


@router.post("/suspects/{suspect_id}/dismiss", response_model=SuspectRead)
def dismiss(suspect_id: DbInt, actor: CurrentActor, session: SessionDep) -> SuspectRead:
    """Not a fake: the suspect leaves the list."""
    return suspect_read(service.dismiss_suspect(session, actor, suspect_id))


@router.get("/analytics")
def analytics_summary(actor: CurrentActor, session: SessionDep, region_code: Region = None,
                      period: Annotated[str | None, Query(max_length=16)] = None,
                      topic: Annotated[str | None, Query(max_length=64)] = None
                      ) -> dict[str, object]:
    """Unique fakes, copies and reach by topic, territory and month; the top channels."""
    start, end = _period(period)
    data = analytics.summary(session, actor, region_code=region_code, start=start, end=end,
                             topic=topic)
    return {"fakes": data.fakes, "fakes_spread": data.fakes_spread, "copies": data.copies,
            "reach": data.reach, "by_topic": [vars(r) for r in data.by_topic],
            "by_territory": [vars(r) for r in data.by_territory],
            "by_month": [vars(r) for r in data.by_month],
            "channels": [vars(c) for c in data.channels]}


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/analytics.xlsx", response_class=Response, responses={
    200: {"content": {XLSX: {"schema": {"type": "string", "format": "binary"}}},
          "description": "the workbook"}})
def analytics_xlsx(actor: CurrentActor, session: SessionDep, region_code: Region = None,
                   period: Annotated[str | None, Query(max_length=16)] = None) -> Response:
    """The analytics as an XLSX workbook."""
    start, end = _period(period)
    data = analytics.summary(session, actor, region_code=region_code, start=start, end=end)
    body = analytics.export_xlsx(data, f"Фейки: {region_code or 'все регионы'}, "
                                       f"{period or 'всё время'}")
    return Response(body, media_type=XLSX,
                    headers={"Content-Disposition": 'attachment; filename="fakes.xlsx"'})


@router.get("/{fake_id}", response_model=FakeRead)
def get(fake_id: RefId, actor: CurrentActor, session: SessionDep) -> FakeRead:
    """One fake with its counters."""
    return service.read(session, service.get_fake(session, actor, fake_id))


@router.patch("/{fake_id}", response_model=FakeRead)
def update(fake_id: RefId, payload: FakeUpdate, actor: CurrentActor, session: SessionDep,
           version: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None) -> FakeRead:
    """Change a fake (kept as a revision)."""
    return service.read(session, service.update_fake(session, actor, fake_id, payload,
                                                     version))


@router.get("/{fake_id}/copies", response_model=CopyList)
def copies(fake_id: RefId, actor: CurrentActor, session: SessionDep,
           kind: Annotated[str | None, Query(pattern="^(copy|refutation)$")] = None,
           limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> CopyList:
    """The messages linked to a fake (the caller's scope), newest first."""
    fake = service.get_fake(session, actor, fake_id)
    rows, total = FakeRepository(session).copies_page(actor.scope, fake.id, kind, limit,
                                                      offset)
    return CopyList(items=[_copy(c, m) for c, m in rows], total=total, limit=limit,
                    offset=offset)


def _copy(c: FakeCopy, m: Message) -> CopyRead:
    return CopyRead(message_id=c.message_id, kind=c.kind, origin=c.origin, score=c.score,
                    reason=c.reason, source=c.source, channel=c.channel, reach=c.reach,
                    posted_at=c.posted_at, url=m.url, text=m.text[:1000])


@router.get("/{fake_id}/history", response_model=RevisionList)
def history(fake_id: RefId, actor: CurrentActor, session: SessionDep,
            limit: Limit = DEFAULT_LIMIT, offset: Offset = 0) -> RevisionList:
    """Every change of a fake, newest first."""
    fake = service.get_fake(session, actor, fake_id)
    rows, total = FakeRepository(session).revisions_page(fake.id, limit, offset)
    return RevisionList(items=[RevisionRead(number=r.number, at=r.at, actor=r.actor,
                                            action=r.action, changes=r.changes or {})
                               for r in rows], total=total, limit=limit, offset=offset)


@router.get("/{fake_id}/timeline")
def fake_timeline(fake_id: RefId, actor: CurrentActor, session: SessionDep
                  ) -> dict[str, object]:
    """Copies per day by source, cumulative reach, the channels that carried them."""
    return analytics.timeline(session, service.get_fake(session, actor, fake_id))


@router.post("/{fake_id}/origin/{message_id}", response_model=CopyRead)
def origin(fake_id: RefId, message_id: DbInt, actor: CurrentActor, session: SessionDep,
           value: bool = True) -> CopyRead:
    """Mark a linked message as an originating post of the fake (``value=false`` unmarks)."""
    row = service.mark_origin(session, actor, fake_id, message_id, value)
    message = FakeRepository(session).messages([row.message_id])[0]
    return _copy(row, message)


@router.put("/{fake_id}/refutation", response_model=FakeRead)
def refutation(fake_id: RefId, payload: RefutationDraft, actor: CurrentActor,
               session: SessionDep) -> FakeRead:
    """Write the refutation (a draft until a second analyst approves it)."""
    return service.read(session, service.draft_refutation(session, actor, fake_id, payload))


@router.post("/{fake_id}/refutation/submit", response_model=FakeRead)
def submit(fake_id: RefId, actor: CurrentActor, session: SessionDep) -> FakeRead:
    """Send the refutation for approval."""
    return service.read(session, service.submit_refutation(session, actor, fake_id))


@router.post("/{fake_id}/refutation/approve", response_model=FakeRead)
def approve(fake_id: RefId, actor: CurrentActor, session: SessionDep) -> FakeRead:
    """Approve another analyst's refutation; it is published."""
    return service.read(session, service.approve_refutation(session, actor, fake_id))


@router.post("/{fake_id}/refutation/return", response_model=FakeRead)
def return_(fake_id: RefId, actor: CurrentActor, session: SessionDep,
            comment: Annotated[str, Query(min_length=5, max_length=1000)]) -> FakeRead:
    """Return the refutation to its author with a comment."""
    return service.read(session, service.return_refutation(session, actor, fake_id, comment))
