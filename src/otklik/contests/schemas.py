"""Contests in and out: the contest with its tracks and criteria, applications, reviews,
conflicts, the results and the import report."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from otklik.bounds import DbInt, RefId
from otklik.paging import Page

Status = Literal["draft", "open", "scoring", "closed"]
Aggregation = Literal["mean", "trimmed"]
MAX_RUB = 10**12


class TrackCreate(BaseModel):
    """A track with its budget, grant bounds (rubles) and number of winners."""

    title: str = Field(min_length=2, max_length=255)
    budget_rub: int = Field(ge=0, le=MAX_RUB)
    grant_min_rub: int = Field(ge=0, le=MAX_RUB)
    grant_max_rub: int = Field(ge=0, le=MAX_RUB)
    winners: int = Field(ge=0, le=1000)

    @model_validator(mode="after")
    def _bounds(self) -> TrackCreate:
        if self.grant_min_rub > self.grant_max_rub:
            raise ValueError("the minimum grant is above the maximum")
        return self


class CriterionCreate(BaseModel):
    """A criterion scored from 0 to ``scale_max`` with a weight in the total."""

    title: str = Field(min_length=2, max_length=255)
    scale_max: int = Field(default=10, ge=1, le=100)
    weight: float = Field(default=1.0, gt=0, le=100)


class ContestCreate(BaseModel):
    """A new contest with its tracks and criteria."""

    region_code: str = Field(pattern=r"^\d{2,3}$")
    title: str = Field(min_length=3, max_length=500)
    description: str = Field(default="", max_length=20_000)
    aggregation: Aggregation = "mean"
    outlier_points: float = Field(default=2.0, gt=0, le=10)
    opens_on: date | None = None
    closes_on: date | None = None
    tracks: list[TrackCreate] = Field(min_length=1, max_length=50)
    criteria: list[CriterionCreate] = Field(min_length=1, max_length=50)


class ContestUpdate(BaseModel):
    """Changes to a contest's settings."""

    title: str | None = Field(default=None, min_length=3, max_length=500)
    description: str | None = Field(default=None, max_length=20_000)
    status: Status | None = None
    aggregation: Aggregation | None = None
    outlier_points: float | None = Field(default=None, gt=0, le=10)
    opens_on: date | None = None
    closes_on: date | None = None


class TrackRead(TrackCreate):
    """A track as stored."""

    model_config = ConfigDict(from_attributes=True)

    id: int


class CriterionRead(CriterionCreate):
    """A criterion as stored."""

    model_config = ConfigDict(from_attributes=True)

    id: int


class ContestRead(BaseModel):
    """A contest with its tracks and criteria."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    region_code: str
    title: str
    description: str
    status: str
    aggregation: str
    outlier_points: float
    opens_on: date | None
    closes_on: date | None
    tracks: list[TrackRead]
    criteria: list[CriterionRead]
    applications: int = 0


class ExpertAssign(BaseModel):
    """An expert (a user of role expert) for a track."""

    user_id: RefId
    track_id: RefId


class ContestList(Page[ContestRead]):
    """A page of contests."""


class ExpertRead(BaseModel):
    """An expert of a track."""

    user_id: int
    username: str
    full_name: str
    track_id: int


class ExpertList(Page[ExpertRead]):
    """A page of a contest's experts."""


class ApplicationCreate(BaseModel):
    """An application as the form or an import gives it."""

    track_id: RefId
    applicant: str = Field(min_length=2, max_length=255)
    contact: str = Field(default="", max_length=255)
    title: str = Field(min_length=3, max_length=500)
    summary: str = Field(default="", max_length=20_000)
    requested_rub: int = Field(ge=1, le=MAX_RUB)


class AttachmentRead(BaseModel):
    """A file of an application (downloaded by assigned experts and managers only)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    filename: str
    content_type: str
    size: int


class ApplicationRead(BaseModel):
    """An application as stored (the applicant's contact only for managers)."""

    id: int
    contest_id: int
    track_id: int
    applicant: str
    contact: str | None
    title: str
    summary: str
    requested_rub: int
    source: str
    submitted_at: datetime
    attachments: list[AttachmentRead] = Field(default_factory=list)
    my_review: bool = Field(default=False, description="the calling expert has submitted")


class ApplicationList(Page[ApplicationRead]):
    """A page of applications."""


class ScoreIn(BaseModel):
    """One criterion's points."""

    criterion_id: RefId
    value: int


class ReviewSubmit(BaseModel):
    """An expert's scores of one application, every criterion once."""

    scores: list[ScoreIn] = Field(min_length=1, max_length=50)
    comment: str = Field(default="", max_length=5000)


class ReviewRead(BaseModel):
    """A submitted review."""

    expert_id: int
    expert: str
    scores: dict[str, float]
    total: float
    comment: str
    submitted_at: datetime


class ReviewList(Page[ReviewRead]):
    """A page of an application's reviews."""


class ConflictDeclare(BaseModel):
    """A conflict of interest on an application (the expert is then recused from it)."""

    reason: str = Field(min_length=3, max_length=2000)


class ExpertScore(BaseModel):
    """One counted expert total in the results."""

    expert_id: int
    expert: str
    total: float
    outlier: bool


class ResultRow(BaseModel):
    """An application's line in the results."""

    application_id: int
    title: str
    applicant: str
    requested_rub: int
    place: int | None
    score: float | None
    mean: float | None
    trimmed_mean: float | None
    median: float | None
    spread: float | None
    reviews: int
    expected_reviews: int
    experts: list[ExpertScore]
    outliers: list[str]
    recused: list[str]
    tie_note: str
    grant_rub: int | None
    grant_note: str


class TrackResult(BaseModel):
    """A track's ranking and grants."""

    track_id: int
    title: str
    budget_rub: int
    grant_min_rub: int
    grant_max_rub: int
    winners: int
    spent_rub: int
    needed_rub: int
    shortfall_rub: int
    shortfall: str
    tie_rule: str
    rows: list[ResultRow]


class Results(BaseModel):
    """The contest's results: per track ranking, spread, outliers, grants."""

    contest_id: int
    title: str
    aggregation: str
    outlier_rule: str
    tracks: list[TrackResult]
    shortfalls: list[str]


class ImportRowError(BaseModel):
    """A row that was not imported, and why."""

    row: int
    error: str


class ImportReport(BaseModel):
    """What an import did, row by row."""

    created: int = 0
    duplicates: int = 0
    errors: list[ImportRowError] = Field(default_factory=list)
    application_ids: list[DbInt] = Field(default_factory=list)
