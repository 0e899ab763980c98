"""Pydantic shapes of what arrives from a channel, before it is stored.

Every connector, the file importer and the demo generator produce
:class:`IncomingMessage`; the intake service stores it idempotently on
``(source, source_id)``.
"""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from otklik.bounds import check_message_time
from otklik.paging import Page

_SURROGATE = re.compile(r"[\ud800-\udfff]")


class Source(StrEnum):
    """Where a message came from."""

    vk = "vk"
    ok = "ok"
    telegram = "telegram"
    email = "email"
    web = "web"
    api = "api"
    open311 = "open311"
    import_ = "import"


class Attachment(BaseModel):
    """A file or link attached to a message; only the reference is kept."""

    url: str
    type: str = "link"  # photo, video, doc, audio, link, sticker ...
    title: str | None = None


class Reach(BaseModel):
    """Audience figures as the platform reports them, when it does."""

    views: int | None = None
    likes: int | None = None
    reposts: int | None = None
    comments: int | None = None


class IncomingMessage(BaseModel):
    """One post, comment, e-mail or form entry as a channel delivered it.

    ``source_id`` is unique within ``source`` (for VK wall comments e.g.
    ``"-123_456_789"`` = owner_post_comment). ``parent_source_id`` links a
    comment to its post. ``raw`` keeps the payload exactly as received.
    """

    model_config = ConfigDict(extra="forbid")

    source: Source
    source_id: str = Field(min_length=1, max_length=255)
    parent_source_id: str | None = None
    owner_id: str | None = None
    post_id: str | None = None
    comment_id: str | None = None
    author_id: str | None = None
    author_name: str | None = None
    text: str = ""
    created_at: datetime
    url: str | None = None
    attachments: list[Attachment] = Field(default_factory=list)
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    reach: Reach | None = None
    region: str | None = None  # OKTMO region code hint, e.g. "86"
    channel: str | None = None  # the connector/community/mailbox it came through
    deleted: bool = False
    edited_at: datetime | None = None
    raw: dict[str, Any] = Field(default_factory=dict)

    @field_validator("created_at", "edited_at")
    @classmethod
    def _sane_time(cls, value: datetime | None) -> datetime | None:
        """A time without a zone is Moscow time (as in file imports); far past or future is
        refused with the range, never an overflow when it is stored as UTC."""
        if value is None:
            return None
        if value.tzinfo is None:
            # imported here: the connectors package imports this module
            from otklik.channels.connectors.normalize import moscow_tz

            value = value.replace(tzinfo=moscow_tz())
        return check_message_time(value)


#: The longest text an integration may send in one message (longer is an error on its side;
#: the stored text is cut at ``MAX_TEXT_LENGTH`` anyway, the original kept in ``raw``).
MAX_SUBMITTED_TEXT = 100_000


class SubmittedMessage(IncomingMessage):
    """A message as an integration sends it in a batch: held to valid Unicode and a sane size,
    so a bad item is rejected with its reason instead of being stored altered."""

    text: str = Field(default="", max_length=MAX_SUBMITTED_TEXT)

    @model_validator(mode="before")
    @classmethod
    def _valid_unicode(cls, data: Any) -> Any:
        where = _lone_surrogate(data)
        if where is not None:
            raise ValueError(f"{where}: a lone UTF-16 surrogate (e.g. \\ud800) is not valid "
                             "Unicode; send the text as UTF-8 or with complete surrogate pairs")
        return data


def _lone_surrogate(value: Any, path: str = "") -> str | None:
    """Where in ``value`` (a JSON-like structure) a string holds a lone surrogate, or None."""
    if isinstance(value, str):
        return (path or "value") if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            where = _lone_surrogate(str(key), path) or _lone_surrogate(
                item, f"{path}.{key}" if path else str(key))
            if where is not None:
                return where
    elif isinstance(value, list):
        for index, item in enumerate(value):
            where = _lone_surrogate(item, f"{path}.{index}" if path else str(index))
            if where is not None:
                return where
    return None


class MessageRead(BaseModel):
    """A stored message as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    source: str
    source_id: str
    parent_id: int | None
    parent_source_id: str | None
    channel: str | None
    region_code: str | None
    author_key: str | None
    author_name: str | None
    text: str
    text_truncated: bool
    url: str | None
    attachments: list[dict[str, Any]]
    lat: float | None
    lon: float | None
    reach: dict[str, Any] | None
    created_at: datetime
    received_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    enrich_status: str


class MessageList(BaseModel):
    """A page of messages."""

    items: list[MessageRead]
    total: int
    limit: int
    offset: int


class BatchResult(BaseModel):
    """What a batch submission did, with each rejected item's index and reason."""

    received: int
    stored: int
    duplicates: int
    updated: int
    rejected: list[dict[str, Any]]


class ConnectorCreate(BaseModel):
    """A connector to configure."""

    kind: str
    name: str = Field(min_length=1, max_length=255)
    region_code: str | None = Field(default=None, pattern=r"^\d{2,3}$")
    config: dict[str, Any]


class ConnectorRead(BaseModel):
    """A connector with its state; secrets masked."""

    id: int
    kind: str
    name: str
    region_code: str | None
    enabled: bool
    status: str
    last_run_at: datetime | None
    last_success_at: datetime | None
    last_error: str | None
    error_count: int
    messages_total: int
    config: dict[str, Any]


class ConnectorList(Page[ConnectorRead]):
    """A page of configured connectors, by name."""
