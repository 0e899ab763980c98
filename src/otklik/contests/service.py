"""Contests: set up by admins and curators (permission ``contests``), applied to by anyone
through the public form or imported, scored by experts (permission ``contests.score``), who
see only the applications of their tracks they are not recused from (accounts/scope.py).

An expert scores once; the scores of the others on an application are shown to them only
after they submitted theirs. The arithmetic of the results is in aggregation.py.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.contests import attachments as files
from otklik.contests.aggregation import Criterion, expert_total
from otklik.contests.repository import ContestRepository
from otklik.contests.schemas import (
    ApplicationCreate,
    ApplicationRead,
    AttachmentRead,
    ContestCreate,
    ContestRead,
    ContestUpdate,
    CriterionRead,
    ExpertAssign,
    ExpertRead,
    ReviewRead,
    ReviewSubmit,
    TrackRead,
)
from otklik.db.base import utcnow
from otklik.errors import Conflict, Forbidden, InvalidInput, NotFound, OtklikError
from otklik.models.account import Role, User
from otklik.models.contests import (
    Contest,
    ContestApplication,
    ContestAttachment,
    ContestConflict,
    ContestCriterion,
    ContestExpert,
    ContestReview,
    ContestTrack,
)

#: Statuses in which experts score.
SCORING = frozenset({"open", "scoring"})


class ScoreRejected(OtklikError):
    """A score the scale or the criteria do not allow."""

    status_code = 422


def require_manager(actor: Actor, region_code: str) -> None:
    """Refuse unless the actor manages contests of that region."""
    actor.require("contests")
    if not actor.scope.sees_region(region_code):
        raise Forbidden(f"region {region_code} is outside your scope")


def _not_found(what: str, key: int) -> NotFound:
    return NotFound(f"{what} {key} does not exist or is outside your scope")


def _reader(actor: Actor) -> None:
    if not (actor.scope.can("contests") or actor.scope.can("contests.score")):
        raise Forbidden("contests are managed by admins and curators and scored by experts")


# -- contests -----------------------------------------------------------------------------------

def create_contest(session: Session, actor: Actor, data: ContestCreate) -> Contest:
    """A contest with its tracks and criteria."""
    require_manager(actor, data.region_code)
    if data.opens_on and data.closes_on and data.closes_on < data.opens_on:
        raise InvalidInput("the contest closes before it opens")
    repo = ContestRepository(session)
    contest = Contest(region_code=data.region_code, title=data.title,
                      description=data.description, aggregation=data.aggregation,
                      outlier_points=data.outlier_points, opens_on=data.opens_on,
                      closes_on=data.closes_on, status="draft", created_by_id=actor.user_id)
    repo.add(contest)
    repo.add(*[ContestTrack(contest_id=contest.id, position=i, **t.model_dump())
               for i, t in enumerate(data.tracks)],
             *[ContestCriterion(contest_id=contest.id, position=i, **c.model_dump())
               for i, c in enumerate(data.criteria)])
    audit.record(session, actor, "contest.create", "contest", contest.id,
                 region_code=contest.region_code, details={"title": contest.title})
    return contest


def get_contest(session: Session, actor: Actor, contest_id: int) -> Contest:
    """A contest the actor sees (an expert: one they are assigned to)."""
    _reader(actor)
    contest = ContestRepository(session).contest(actor.scope, contest_id)
    if contest is None:
        raise _not_found("contest", contest_id)
    return contest


def update_contest(session: Session, actor: Actor, contest_id: int, data: ContestUpdate
                   ) -> Contest:
    """Change a contest's settings or status."""
    contest = get_contest(session, actor, contest_id)
    require_manager(actor, contest.region_code)
    changes = data.model_dump(exclude_unset=True, exclude_none=True)
    for key, value in changes.items():
        setattr(contest, key, value)
    session.flush()
    audit.record(session, actor, "contest.update", "contest", contest.id,
                 region_code=contest.region_code, details={"fields": sorted(changes)})
    return contest


def read_contest(session: Session, contest: Contest) -> ContestRead:
    """A contest with its tracks, criteria and the number of applications."""
    repo = ContestRepository(session)
    return ContestRead(
        id=contest.id, region_code=contest.region_code, title=contest.title,
        description=contest.description, status=contest.status,
        aggregation=contest.aggregation, outlier_points=contest.outlier_points,
        opens_on=contest.opens_on, closes_on=contest.closes_on,
        tracks=[TrackRead.model_validate(t) for t in repo.tracks(contest.id)],
        criteria=[CriterionRead.model_validate(c) for c in repo.criteria(contest.id)],
        applications=repo.application_counts([contest.id]).get(contest.id, 0))


def list_contests(session: Session, actor: Actor) -> list[ContestRead]:
    """The contests the actor sees."""
    _reader(actor)
    return [read_contest(session, c)
            for c in ContestRepository(session).contests(actor.scope)]


def track_of(session: Session, contest: Contest, track_id: int) -> ContestTrack:
    """A track of this contest."""
    track = session.get(ContestTrack, track_id)
    if track is None or track.contest_id != contest.id:
        raise InvalidInput(f"track {track_id} is not a track of contest {contest.id}")
    return track


# -- experts ------------------------------------------------------------------------------------

def assign_expert(session: Session, actor: Actor, contest_id: int, data: ExpertAssign
                  ) -> ContestExpert:
    """Put an expert on a track (idempotent)."""
    contest = get_contest(session, actor, contest_id)
    require_manager(actor, contest.region_code)
    track = track_of(session, contest, data.track_id)
    repo = ContestRepository(session)
    user = repo.users([data.user_id]).get(data.user_id)
    if user is None or user.role != Role.expert or not user.is_active:
        raise InvalidInput(f"user {data.user_id} is not an active user of role expert")
    existing = repo.assignment(track.id, user.id)
    if existing is not None:
        return existing
    assignment = ContestExpert(track_id=track.id, user_id=user.id)
    repo.add(assignment)
    audit.record(session, actor, "contest.expert.assign", "contest", contest.id,
                 region_code=contest.region_code,
                 details={"user_id": user.id, "track_id": track.id})
    return assignment


def expert_candidates(session: Session, actor: Actor) -> list[User]:
    """Active users of role expert the actor may put on a track (of the actor's regions)."""
    actor.require("contests")
    return [u for u in ContestRepository(session).expert_users()
            if u.all_regions or actor.scope.all_regions
            or set(u.region_codes or ()) & actor.scope.region_codes]


def list_experts(session: Session, actor: Actor, contest_id: int) -> list[ExpertRead]:
    """The experts of a contest's tracks (managers)."""
    contest = get_contest(session, actor, contest_id)
    require_manager(actor, contest.region_code)
    return [ExpertRead(user_id=u.id, username=u.username, full_name=u.full_name,
                       track_id=e.track_id)
            for e, u in ContestRepository(session).experts(contest.id)]


# -- applications ---------------------------------------------------------------------------------

def _add_application(session: Session, contest: Contest, data: ApplicationCreate, *,
                     source: str, source_ref: str | None = None,
                     uploads: Sequence[files.Checked] = (),
                     submitted_at: datetime | None = None) -> ContestApplication:
    track_of(session, contest, data.track_id)
    repo = ContestRepository(session)
    application = ContestApplication(
        contest_id=contest.id, track_id=data.track_id, applicant=data.applicant,
        contact=data.contact, title=data.title, summary=data.summary,
        requested_rub=data.requested_rub, source=source, source_ref=source_ref,
        submitted_at=submitted_at or utcnow())
    repo.add(application)
    for upload in uploads:
        repo.add(ContestAttachment(
            application_id=application.id, filename=upload.filename,
            content_type=upload.content_type, size=len(upload.content), sha256=upload.sha256,
            stored_name=files.store(contest.id, upload)))
    return application


def submit_public(session: Session, contest_id: int, data: ApplicationCreate,
                  uploads: Sequence[files.Upload] = ()) -> ContestApplication:
    """An application from the public form (no login): the contest must be open."""
    contest = ContestRepository(session).contest_any(contest_id)
    if contest is None or contest.status == "draft":
        raise NotFound(f"contest {contest_id} does not exist")
    if contest.status != "open":
        raise Conflict("the contest no longer takes applications")
    checked = files.check(list(uploads))
    application = _add_application(session, contest, data, source="form", uploads=checked)
    audit.record(session, Actor.system("contest form"), "contest.application.form",
                 "contest_application", application.id, region_code=contest.region_code,
                 details={"contest_id": contest.id, "files": len(checked)})
    return application


def add_application(session: Session, actor: Actor, contest_id: int, data: ApplicationCreate,
                    *, source: str = "import", source_ref: str | None = None,
                    submitted_at: datetime | None = None) -> tuple[ContestApplication, bool]:
    """An application entered or imported by a manager; (application, created): a row
    imported before (same ``source_ref``) is returned, not added again."""
    contest = get_contest(session, actor, contest_id)
    require_manager(actor, contest.region_code)
    if source_ref:
        existing = ContestRepository(session).by_source_ref(contest.id, source_ref)
        if existing is not None:
            return existing, False
    application = _add_application(session, contest, data, source=source,
                                   source_ref=source_ref, submitted_at=submitted_at)
    return application, True


def open_contests(session: Session) -> list[ContestRead]:
    """Contests that take applications (the public form)."""
    return [read_contest(session, c) for c in ContestRepository(session).open_contests()]


def get_application(session: Session, actor: Actor, application_id: int) -> ContestApplication:
    """An application the actor sees (an expert: of their track, not recused)."""
    _reader(actor)
    application = ContestRepository(session).application(actor.scope, application_id)
    if application is None:
        raise _not_found("application", application_id)
    return application


def read_applications(session: Session, actor: Actor, rows: Sequence[ContestApplication]
                      ) -> list[ApplicationRead]:
    """Applications as the actor may read them (experts do not see the contacts)."""
    repo = ContestRepository(session)
    ids = [a.id for a in rows]
    attached = repo.attachments(ids)
    expert = actor.scope.expert_id
    mine = repo.reviewed_by(expert, ids) if expert is not None else set()
    return [ApplicationRead(
        id=a.id, contest_id=a.contest_id, track_id=a.track_id, applicant=a.applicant,
        contact=None if expert is not None else a.contact, title=a.title, summary=a.summary,
        requested_rub=a.requested_rub, source=a.source, submitted_at=a.submitted_at,
        attachments=[AttachmentRead.model_validate(f) for f in attached[a.id]],
        my_review=a.id in mine) for a in rows]


def list_applications(session: Session, actor: Actor, contest_id: int,
                      track_id: int | None = None) -> list[ApplicationRead]:
    """A contest's applications the actor sees."""
    contest = get_contest(session, actor, contest_id)
    rows = ContestRepository(session).applications(actor.scope, contest.id, track_id)
    return read_applications(session, actor, rows)


def attachment_file(session: Session, actor: Actor, application_id: int, attachment_id: int
                    ) -> tuple[ContestAttachment, bytes]:
    """A file of an application the actor sees, with its content."""
    application = get_application(session, actor, application_id)
    row = ContestRepository(session).attachment(application.id, attachment_id)
    if row is None:
        raise _not_found("attachment", attachment_id)
    path = files.path_of(application.contest_id, row.stored_name)
    if not path.is_file():
        raise NotFound(f"the file of attachment {attachment_id} is missing from the data folder")
    return row, path.read_bytes()


# -- conflicts and reviews ----------------------------------------------------------------------

def _assigned(session: Session, actor: Actor, application: ContestApplication) -> int:
    actor.require("contests.score")
    expert = actor.scope.expert_id
    if expert is None or ContestRepository(session).assignment(application.track_id,
                                                                expert) is None:
        raise _not_found("application", application.id)
    return expert


def declare_conflict(session: Session, actor: Actor, application_id: int, reason: str
                     ) -> ContestConflict:
    """An expert declares a conflict of interest: recused from the application from now on
    (it leaves their list; a review they gave is no longer counted)."""
    application = get_application(session, actor, application_id)
    expert = _assigned(session, actor, application)
    conflict = ContestConflict(application_id=application.id, user_id=expert, reason=reason)
    ContestRepository(session).add(conflict)
    audit.record(session, actor, "contest.conflict", "contest_application", application.id,
                 details={"reason": reason[:200]})
    return conflict


def criteria_of(session: Session, contest_id: int) -> list[Criterion]:
    """A contest's criteria as the arithmetic takes them."""
    return [Criterion(c.id, c.title, c.scale_max, c.weight)
            for c in ContestRepository(session).criteria(contest_id)]


def submit_review(session: Session, actor: Actor, application_id: int, data: ReviewSubmit
                  ) -> ContestReview:
    """An expert's scores of an application: once, every criterion, within its scale."""
    application = get_application(session, actor, application_id)
    expert = _assigned(session, actor, application)
    contest = session.get(Contest, application.contest_id)
    assert contest is not None
    if contest.status not in SCORING:
        raise Conflict(f"the contest is {contest.status}: scores are no longer taken")
    repo = ContestRepository(session)
    if repo.review(application.id, expert) is not None:
        raise Conflict(f"you have already scored application {application.id}; submitted "
                       "scores are final")
    criteria = {c.id: c for c in criteria_of(session, contest.id)}
    scores: dict[int, int] = {}
    for item in data.scores:
        criterion = criteria.get(item.criterion_id)
        if criterion is None:
            raise ScoreRejected(f"criterion {item.criterion_id} is not a criterion of this "
                                "contest")
        if item.criterion_id in scores:
            raise ScoreRejected(f"criterion «{criterion.title}» is scored twice")
        if not 0 <= item.value <= criterion.scale_max:
            raise ScoreRejected(f"criterion «{criterion.title}»: {item.value} is outside its "
                                f"scale 0–{criterion.scale_max}")
        scores[item.criterion_id] = item.value
    missing = [c.title for cid, c in criteria.items() if cid not in scores]
    if missing:
        raise ScoreRejected(f"every criterion must be scored; missing: {', '.join(missing)}")
    review = ContestReview(application_id=application.id, user_id=expert,
                           scores={str(k): v for k, v in scores.items()},
                           total=round(expert_total(scores, list(criteria.values())), 4),
                           comment=data.comment)
    repo.add(review)
    audit.record(session, actor, "contest.review", "contest_application", application.id,
                 region_code=contest.region_code)
    return review


def reviews_of(session: Session, actor: Actor, application_id: int) -> list[ReviewRead]:
    """The reviews of an application: managers always; an expert only after submitting
    their own (before that, 403 with what to do)."""
    application = get_application(session, actor, application_id)
    if not actor.scope.can("contests"):
        expert = _assigned(session, actor, application)
        if ContestRepository(session).review(application.id, expert) is None:
            raise Forbidden("submit your own scores of this application first: the other "
                            "experts' scores are shown after that")
    recused = {c.user_id for c in ContestRepository(session).conflicts([application.id])}
    return [ReviewRead(expert_id=u.id, expert=u.full_name or u.username,
                       scores={k: float(v) for k, v in r.scores.items()}, total=r.total,
                       comment=r.comment, submitted_at=r.created_at)
            for r, u in ContestRepository(session).reviews([application.id])[application.id]
            if u.id not in recused]
