"""Pydantic shapes of the fakes API: the registry, copies, suspects and the check service."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, field_validator

from otklik.paging import Page

FakeStatus = Literal["suspected", "checking", "fake", "true", "partly_true", "unconfirmed"]
#: The longest claim or refutation kept.
MAX_CLAIM = 5_000
#: The longest text the check service reads (a longer one is refused with a clear error).
MAX_CHECK = 20_000


class FakeCreate(BaseModel):
    """A new claim of the registry."""

    model_config = ConfigDict(extra="forbid")

    region_code: str = Field(pattern=r"^\d{2,3}$")
    claim: str = Field(min_length=10, max_length=MAX_CLAIM)
    key_phrases: list[str] = Field(default_factory=list, max_length=20)
    topic: str | None = Field(default=None, max_length=64)
    territory_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    status: FakeStatus = "suspected"

    @field_validator("claim")
    @classmethod
    def _words(cls, value: str) -> str:
        value = value.strip()
        if sum(ch.isalpha() for ch in value) < 5:
            raise ValueError("a claim is words: write what is claimed")
        return value


class FakeUpdate(BaseModel):
    """Changes of a fake (only what is given changes)."""

    model_config = ConfigDict(extra="forbid")

    claim: str | None = Field(default=None, min_length=10, max_length=MAX_CLAIM)
    key_phrases: list[str] | None = Field(default=None, max_length=20)
    topic: str | None = Field(default=None, max_length=64)
    territory_id: int | None = Field(default=None, ge=1, le=2**31 - 1)
    status: FakeStatus | None = None


class RefutationDraft(BaseModel):
    """The official refutation: its text, the official source, its date."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=20, max_length=MAX_CLAIM)
    source_url: HttpUrl
    date: date


class FakeRead(BaseModel):
    """A fake with its counters."""

    id: int
    region_code: str
    claim: str
    key_phrases: list[str]
    topic: str | None
    territory_id: int | None
    status: str
    refutation_text: str | None
    refutation_url: str | None
    refutation_date: date | None
    refutation_state: str
    refutation_author_id: int | None
    refutation_approver_id: int | None
    first_seen_at: datetime | None
    created_at: datetime
    version: int
    copies: int = 0
    reach: int = 0
    refutations_seen: int = 0


class FakeList(BaseModel):
    """A page of fakes."""

    items: list[FakeRead]
    total: int
    limit: int
    offset: int


class CopyRead(BaseModel):
    """A message linked to a fake."""

    message_id: int
    kind: str
    origin: bool
    score: float
    reason: str
    source: str
    channel: str | None
    reach: int
    posted_at: datetime
    url: str | None
    text: str


class SuspectRead(BaseModel):
    """A text proposed for checking, with the reasons."""

    id: int
    region_code: str | None
    message_id: int | None
    text: str
    source: str
    reasons: list[str]
    authors: int
    asked: int
    status: str
    created_at: datetime


class RevisionRead(BaseModel):
    """One change of a fake: who, when, what."""

    number: int
    at: datetime
    actor: str
    action: str
    changes: dict[str, Any]


class CopyList(Page[CopyRead]):
    """A page of a fake's linked messages."""


class SuspectList(Page[SuspectRead]):
    """A page of texts proposed for checking."""


class RevisionList(Page[RevisionRead]):
    """A page of a fake's history."""


class CheckRequest(BaseModel):
    """A resident's question: a text or a link to a post (one of them)."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, max_length=MAX_CHECK)
    url: str | None = Field(default=None, max_length=1000)
    region_code: str | None = Field(default=None, pattern=r"^\d{2,3}$")


class CheckAnswer(BaseModel):
    """The answer: the refutation of a known fake, or "sent for checking". Never says who
    else asked."""

    verdict: Literal["refuted", "in_registry", "not_in_registry"]
    message: str
    fake_id: int | None = None
    claim: str | None = None
    status: str | None = None
    refutation: str | None = None
    source_url: str | None = None
    refutation_date: date | None = None
    score: float = 0.0
