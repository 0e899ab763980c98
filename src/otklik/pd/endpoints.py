"""A resident's requests over the API (administrators, within their regions): export of
everything stored about them, and erasure. The CLI does the same (`otklik pd`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, model_validator

from otklik.bounds import DbInt
from otklik.deps import CurrentActor, SessionDep
from otklik.pd import service
from otklik.pd.service import Resident

router = APIRouter(prefix="/api/v1/pd", tags=["personal data"])


class ResidentRef(BaseModel):
    """Whose data: the author key of their messages, or one message of theirs."""

    author_key: str | None = Field(default=None, min_length=1, max_length=32)
    message_id: DbInt | None = None

    @model_validator(mode="after")
    def _one(self) -> ResidentRef:
        if (self.author_key is None) == (self.message_id is None):
            raise ValueError("give author_key or message_id (one of them)")
        return self

    def resident(self) -> Resident:
        """The service's form."""
        return Resident(author_key=self.author_key, message_id=self.message_id)


class Erased(BaseModel):
    """What an erasure did."""

    anonymized: int


@router.get("/export")
def export(actor: CurrentActor, session: SessionDep,
           author_key: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
           message_id: Annotated[DbInt | None, Query()] = None) -> dict[str, Any]:
    """Everything stored about one resident (messages, cases, answers, consents); audited."""
    return service.export(session, actor, Resident(author_key=author_key,
                                                   message_id=message_id))


@router.post("/erase", response_model=Erased)
def erase(data: ResidentRef, actor: CurrentActor, session: SessionDep) -> Erased:
    """Anonymise everything stored about one resident now; audited."""
    return Erased(anonymized=service.erase(session, actor, data.resident()))
