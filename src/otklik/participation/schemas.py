"""Pydantic shapes of the direct line (campaigns, questions, promises) and of proposals."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from otklik.bounds import DbInt, RefId, check_calendar_day, check_message_time
from otklik.paging import Page

RegionCode = Field(pattern=r"^\d{2,3}$")
#: A day the production calendar covers; a moment in the range messages may carry.
Day = Annotated[date, AfterValidator(check_calendar_day)]
Moment = Annotated[AwareDatetime, AfterValidator(check_message_time)]
ProposalStatus = Literal["received", "under_review", "accepted", "in_work", "done", "declined"]
PromiseState = Literal["open", "done", "overdue"]


class CampaignCreate(BaseModel):
    """A new direct line: its region, collection window, air date and announcement posts."""

    model_config = ConfigDict(extra="forbid")

    region_code: str = RegionCode
    title: str = Field(min_length=3, max_length=300)
    opens_at: Moment
    closes_at: Moment
    air_at: Moment
    announcement_urls: list[str] = Field(default_factory=list, max_length=20)
    keywords: list[str] | None = Field(default=None, max_length=30)

    @model_validator(mode="after")
    def _window(self) -> CampaignCreate:
        if self.closes_at <= self.opens_at:
            raise ValueError("the collection window closes after it opens")
        if self.air_at < self.opens_at:
            raise ValueError("the line goes on air after the collection opens")
        if any(len(u) > 1000 for u in self.announcement_urls):
            raise ValueError("an announcement link is at most 1000 characters")
        if self.keywords and any(not 2 <= len(k) <= 64 for k in self.keywords):
            raise ValueError("a keyword is 2 to 64 characters")
        return self


class CampaignRead(BaseModel):
    """A direct line with its phase and counts."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    region_code: str
    title: str
    opens_at: datetime
    closes_at: datetime
    air_at: datetime
    announcement_urls: list[str]
    keywords: list[str]
    finished_at: datetime | None
    phase: Literal["collecting", "closed", "on_air", "finished"] = "collecting"
    questions: int = 0


class CampaignList(Page[CampaignRead]):
    """A page of direct lines."""


class QuestionRead(BaseModel):
    """A question of a direct line."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: int
    channel: str
    source: str | None
    text: str
    received_at: datetime
    late: bool
    topic: str | None
    municipality_id: int | None
    problem_id: int | None
    case_id: int | None
    urgency: str
    duplicate_of_id: int | None
    supporters: int
    picked: bool
    pick_reasons: list[str]
    pick_note: str | None
    confirmed: bool
    status: str
    answer_text: str | None
    control_case_id: int | None


class QuestionList(Page[QuestionRead]):
    """A page of questions."""


class GroupRead(BaseModel):
    """Questions about one thing, with counts and supporters."""

    key: str
    topic: str | None
    topic_name: str | None = None
    municipality_id: int | None
    municipality: str | None = None
    problem_id: int | None
    questions: int
    supporters: int
    residents: int
    question_ids: list[int]


class GroupList(Page[GroupRead]):
    """A page of a direct line's question groups."""


class PickRead(BaseModel):
    """A representative question the system proposes, with its reasons."""

    question_id: int
    reasons: list[str]
    note: str


class RowErrorRead(BaseModel):
    """A row of an imported list that was not taken, and why."""

    row: int
    reason: str


class ImportReport(BaseModel):
    """What an import of the hotline's list did, row by row."""

    rows: int = 0
    added: int = 0
    duplicates: int = 0
    late: int = 0
    errors: list[RowErrorRead] = Field(default_factory=list)


class AnswerCreate(BaseModel):
    """The answer given on air to a question."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=5, max_length=10_000)


class ConfirmPick(BaseModel):
    """An editor confirms (or withdraws) a representative question."""

    model_config = ConfigDict(extra="forbid")

    confirmed: bool = True


class StageIn(BaseModel):
    """A stage of a promise."""

    model_config = ConfigDict(extra="forbid")

    title: str = Field(min_length=3, max_length=300)
    due_on: Day | None = None


class PromiseCreate(BaseModel):
    """A promise made on air: who does it and by when (a date, or working days from air)."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=5, max_length=5_000)
    organization_id: RefId
    due_on: Day | None = None
    working_days: int | None = Field(default=None, ge=1, le=500)
    stages: list[StageIn] = Field(default_factory=list, max_length=20)

    @model_validator(mode="after")
    def _deadline(self) -> PromiseCreate:
        if (self.due_on is None) == (self.working_days is None):
            raise ValueError("give the deadline either as due_on or as working_days")
        return self


class PromiseRead(BaseModel):
    """A promise with its deadline, control case, decision and state."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    campaign_id: int
    question_id: int
    region_code: str
    text: str
    organization_id: int | None
    due_on: date
    due_at: datetime
    stages: list[dict[str, str | None]]
    case_id: int | None
    decision_id: int | None
    done_at: datetime | None
    state: PromiseState = "open"


class PromiseList(Page[PromiseRead]):
    """A page of a direct line's promises."""


class PromiseDecision(BaseModel):
    """Turn a promise into a decision of the registry: link an existing one, or record it."""

    model_config = ConfigDict(extra="forbid")

    decision_id: RefId | None = None
    title: str | None = Field(default=None, min_length=3, max_length=500)
    decided_on: Day | None = None
    decided_by: str | None = Field(default=None, min_length=2, max_length=255)
    budget_rub: int | None = Field(default=None, ge=0, le=10**15)

    @model_validator(mode="after")
    def _one(self) -> PromiseDecision:
        if self.decision_id is None and not (self.title and self.decided_on and self.decided_by):
            raise ValueError("give decision_id, or title, decided_on and decided_by")
        return self


class StageDone(BaseModel):
    """A stage of a promise is done (on a day; today when not given)."""

    model_config = ConfigDict(extra="forbid")

    index: int = Field(ge=0, le=19)
    done_on: Day | None = None


class CountRead(BaseModel):
    """A name and a count."""

    key: str
    name: str
    count: int


class CampaignReport(BaseModel):
    """What a direct line gathered, promised, did, and where it is late."""

    campaign_id: int
    questions: int
    originals: int
    supporters: int
    late: int
    picked: int
    confirmed: int
    answered: int
    promised: int
    to_control: int
    top_topics: list[CountRead]
    top_places: list[CountRead]
    promises: int
    promises_done: int
    promises_overdue: int
    promises_open: int
    overdue: list[PromiseRead]


# -- proposals ---------------------------------------------------------------------------------


class ProposalCreate(BaseModel):
    """Take a stored message into the proposals' path."""

    model_config = ConfigDict(extra="forbid")

    message_id: DbInt
    organization_id: RefId | None = None


class ProposalRead(BaseModel):
    """A proposal as the center and the responsible body see it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    region_code: str
    message_id: int | None
    case_id: int | None
    source: str | None
    title: str
    text: str
    topic: str | None
    municipality_id: int | None
    organization_id: int | None
    status: ProposalStatus
    decline_reason: str | None
    supporters: int
    created_at: datetime
    updated_at: datetime


class ProposalList(Page[ProposalRead]):
    """A page of proposals."""


class ProposalEventRead(BaseModel):
    """One step of a proposal's path."""

    model_config = ConfigDict(from_attributes=True)

    at: datetime
    actor: str
    kind: str
    from_status: str | None
    to_status: str | None
    note: str | None
    meeting_on: date | None
    answer_id: int | None


class ProposalEventList(Page[ProposalEventRead]):
    """A page of a proposal's path."""


class StatusChange(BaseModel):
    """Move a proposal on; declining needs the reason the author will read."""

    model_config = ConfigDict(extra="forbid")

    status: ProposalStatus
    reason: str | None = Field(default=None, max_length=5_000)
    notice: str | None = Field(default=None, max_length=5_000)


class MeetingCreate(BaseModel):
    """A meeting or follow-up with the author, recorded on the proposal."""

    model_config = ConfigDict(extra="forbid")

    meeting_on: Day
    note: str = Field(min_length=5, max_length=5_000)
    notice: str | None = Field(default=None, max_length=5_000)


class AssignBody(BaseModel):
    """The body responsible for reviewing a proposal."""

    model_config = ConfigDict(extra="forbid")

    organization_id: RefId


class SupportIn(BaseModel):
    """A resident supports a proposal: one vote per channel identity."""

    model_config = ConfigDict(extra="forbid")

    source: str = Field(min_length=2, max_length=16, pattern=r"^[a-z0-9_]+$")
    author_id: str = Field(min_length=1, max_length=255)


class SupportResult(BaseModel):
    """Whether the vote counted (False: this identity had supported already)."""

    counted: bool
    supporters: int


class PublicStep(BaseModel):
    """A step of a proposal on the public page: when and to which status."""

    at: datetime
    status: str


class PublicProposal(BaseModel):
    """A proposal on the public page: no author, no source, personal data masked."""

    id: int
    region_code: str
    title: str
    text: str
    status: str
    decline_reason: str | None
    supporters: int
    created_at: datetime
    steps: list[PublicStep]


class PublicProposalList(Page[PublicProposal]):
    """A page of the public proposals."""

