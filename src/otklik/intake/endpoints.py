"""Intake routes: batches from integrations, platform pushes, messages, connectors."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field, ValidationError

from otklik.bounds import DbInt, RefId
from otklik.channels import service as connectors_service
from otklik.channels.schemas import (
    BatchResult,
    ConnectorCreate,
    ConnectorList,
    ConnectorRead,
    IncomingMessage,
    MessageList,
    MessageRead,
    SubmittedMessage,
)
from otklik.deps import CurrentActor, SessionDep, client_ip
from otklik.errors import InvalidInput, NotFound
from otklik.intake import channel_places, receiving
from otklik.intake.repository import MessageRepository
from otklik.intake.service import store_messages
from otklik.models.message import Connector
from otklik.paging import Limit, Offset, Page
from otklik.pd.masking import shown, shown_all

router = APIRouter(prefix="/api/v1", tags=["intake"])
MAX_BATCH = 1000


@router.post("/messages/batch", response_model=BatchResult)
def submit_batch(items: list[dict[str, Any]], actor: CurrentActor, session: SessionDep
                 ) -> BatchResult:
    """Store a batch of messages from an integration; bad items are rejected one by one."""
    actor.require("intake")
    if len(items) > MAX_BATCH:
        raise InvalidInput(f"at most {MAX_BATCH} messages per batch; split the batch")
    good: list[IncomingMessage] = []
    rejected: list[dict[str, Any]] = []
    for index, item in enumerate(items):
        try:
            message = SubmittedMessage.model_validate({"source": "api", **item})
        except ValidationError as exc:
            problems = [(".".join(map(str, e["loc"])), e["msg"].removeprefix("Value error, "))
                        for e in exc.errors()]
            reason = "; ".join(f"{where}: {what}" if where else what for where, what in problems)
            rejected.append({"index": index, "reason": reason})
            continue
        if not actor.scope.sees_region(message.region) and message.region is not None:
            rejected.append({"index": index, "reason": f"region {message.region} is outside "
                                                       "the token's scope"})
            continue
        good.append(message)
    summary = store_messages(session, good)
    return BatchResult(received=len(items), stored=summary.stored,
                       duplicates=summary.duplicates, updated=summary.updated,
                       rejected=rejected)


@router.get("/messages", response_model=MessageList)
def list_messages(
    actor: CurrentActor,
    session: SessionDep,
    region_code: str | None = Query(default=None, pattern=r"^\d{2,3}$"),
    source: str | None = None,
    limit: Annotated[DbInt, Query(ge=1, le=500)] = 50,
    offset: Annotated[DbInt, Query()] = 0,
) -> MessageList:
    """Messages in the caller's scope, newest first."""
    actor.require("read")
    if actor.scope.organization_id is not None:
        raise NotFound("executors see messages through their cases")
    rows, total = MessageRepository(session).page(actor.scope, region_code=region_code,
                                                  source=source, limit=limit, offset=offset)
    return MessageList(items=shown_all(actor, [MessageRead.model_validate(m) for m in rows]),
                       total=total,
                       limit=limit, offset=offset)


@router.get("/messages/{message_id}", response_model=MessageRead)
def get_message(message_id: DbInt, actor: CurrentActor, session: SessionDep) -> MessageRead:
    """One message."""
    actor.require("read")
    message = (MessageRepository(session).visible(actor.scope, message_id)
               if actor.scope.organization_id is None else None)
    if message is None:
        raise NotFound(f"message {message_id} not found")
    return shown(actor, MessageRead.model_validate(message))


@router.post("/push/{connector_id}", response_class=PlainTextResponse,
             include_in_schema=True, tags=["intake"])
async def push(connector_id: RefId, request: Request) -> PlainTextResponse:
    """Receiver for platform pushes (VK Callback API, Telegram and OK webhooks); secret-checked."""
    body = await request.body()
    result = receiving.receive_push(connector_id, body, dict(request.headers),
                                             client_ip(request), dict(request.query_params))
    return PlainTextResponse(result.response_text)


def _read(row: Connector) -> ConnectorRead:
    return ConnectorRead(
        id=row.id, kind=row.kind, name=row.name, region_code=row.region_code,
        enabled=row.enabled, status=row.status, last_run_at=row.last_run_at,
        last_success_at=row.last_success_at, last_error=row.last_error,
        error_count=row.error_count, messages_total=row.messages_total,
        config=connectors_service.public_config(row),
    )


@router.get("/connectors", response_model=ConnectorList)
def list_connectors(actor: CurrentActor, session: SessionDep, kind: str | None = None,
                    region_code: str | None = Query(default=None, pattern=r"^\d{2,3}$"),
                    enabled: bool | None = None, limit: Limit = 50, offset: Offset = 0
                    ) -> ConnectorList:
    """Configured connectors and their state (credentials masked), by name; optionally of one
    kind (vk, telegram …), region or state (enabled or not)."""
    rows = connectors_service.list_connectors(session, actor, kind=kind,
                                              region_code=region_code, enabled=enabled)
    return ConnectorList.of([_read(c) for c in rows], limit, offset)


@router.post("/connectors", response_model=ConnectorRead, status_code=201)
def add_connector(data: ConnectorCreate, actor: CurrentActor, session: SessionDep
                  ) -> ConnectorRead:
    """Configure a connector."""
    row = connectors_service.add_connector(session, actor, kind=data.kind, name=data.name,
                                           config=data.config, region_code=data.region_code)
    return _read(row)


class ChannelPlaceIn(BaseModel):
    """Which municipality or settlement (OKTMO key) a channel speaks for."""

    channel: str = Field(min_length=1, max_length=255)
    territory_key: str = Field(min_length=2, max_length=64)


class ChannelPlaceList(Page[channel_places.ChannelPlaceView]):
    """A page of channels with their places."""


@router.get("/channel-places", response_model=ChannelPlaceList)
def list_channel_places(actor: CurrentActor, session: SessionDep,
                        region_code: str | None = Query(default=None, pattern=r"^\d{2,3}$"),
                        limit: Limit = 50, offset: Offset = 0) -> ChannelPlaceList:
    """Channels that speak for one place (town communities), in the caller's regions (or
    one of them)."""
    views = [v for v in channel_places.list_places(session, actor)
             if region_code is None or v.region_code == region_code]
    return ChannelPlaceList.of(views, limit, offset)


@router.put("/channel-places")
def set_channel_place(data: ChannelPlaceIn, actor: CurrentActor, session: SessionDep
                      ) -> dict[str, Any]:
    """Set a channel's place; messages from it that name none are placed there."""
    return asdict(channel_places.set_place(session, actor, data.channel, data.territory_key))


@router.delete("/channel-places", status_code=204)
def remove_channel_place(actor: CurrentActor, session: SessionDep,
                         channel: str = Query(min_length=1)) -> None:
    """Forget a channel's place."""
    channel_places.remove_place(session, actor, channel)
