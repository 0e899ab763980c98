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
    """Whose data: the author key of their messages, one message of theirs, or the contact
    their contest application gave."""

    author_key: str | None = Field(default=None, min_length=1, max_length=32)
    message_id: DbInt | None = None
    contact: str | None = Field(default=None, min_length=3, max_length=255)

    @model_validator(mode="after")
    def _one(self) -> ResidentRef:
        given = [v for v in (self.author_key, self.message_id, self.contact) if v is not None]
        if len(given) != 1:
            raise ValueError("give author_key, message_id or contact (one of them)")
        return self

    def resident(self) -> Resident:
        """The service's form."""
        return Resident(author_key=self.author_key, message_id=self.message_id,
                        contact=self.contact)


class Erased(BaseModel):
    """What an erasure did: messages anonymised, and rows of the later domains (questions,
    proposals, supports, suspects, page comments, applications)."""

    anonymized: int
    rows: int = 0


@router.get("/export")
def export(actor: CurrentActor, session: SessionDep,
           author_key: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
           message_id: Annotated[DbInt | None, Query()] = None,
           contact: Annotated[str | None, Query(min_length=3, max_length=255)] = None
           ) -> dict[str, Any]:
    """Everything stored about one resident (messages, cases, answers, consents, the later
    domains' rows); audited."""
    return service.export(session, actor, Resident(author_key=author_key,
                                                   message_id=message_id, contact=contact))


@router.post("/erase", response_model=Erased)
def erase(data: ResidentRef, actor: CurrentActor, session: SessionDep) -> Erased:
    """Anonymise everything stored about one resident now; audited."""
    done = service.erase(session, actor, data.resident())
    return Erased(anonymized=done.messages, rows=done.rows)
