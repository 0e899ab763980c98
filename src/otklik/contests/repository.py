"""Every query of the contests domain."""

from __future__ import annotations

import builtins
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
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


class ContestRepository:
    """Contests, their tracks, criteria, experts, applications, conflicts and reviews."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, *rows: object) -> None:
        """Insert rows and get their ids."""
        self.session.add_all(rows)
        self.session.flush()

    # -- contests ---------------------------------------------------------------------------

    def contest(self, scope: Scope, contest_id: int) -> Contest | None:
        """A contest the scope sees."""
        return self.session.scalar(select(Contest).where(Contest.id == contest_id,
                                                         scope.contest_filter()))

    def contest_any(self, contest_id: int) -> Contest | None:
        """A contest by id, whatever the scope (the public form: open contests only)."""
        return self.session.get(Contest, contest_id)

    def contests(self, scope: Scope) -> Sequence[Contest]:
        """The contests the scope sees, newest first."""
        return self.session.scalars(select(Contest).where(scope.contest_filter())
                                    .order_by(Contest.id.desc())).all()

    def open_contests(self) -> Sequence[Contest]:
        """Contests accepting applications (the public form lists them)."""
        return self.session.scalars(select(Contest).where(Contest.status == "open")
                                    .order_by(Contest.id.desc())).all()

    def tracks(self, contest_id: int) -> Sequence[ContestTrack]:
        """A contest's tracks in order."""
        return self.session.scalars(select(ContestTrack).where(
            ContestTrack.contest_id == contest_id).order_by(ContestTrack.position,
                                                            ContestTrack.id)).all()

    def criteria(self, contest_id: int) -> Sequence[ContestCriterion]:
        """A contest's criteria in order."""
        return self.session.scalars(select(ContestCriterion).where(
            ContestCriterion.contest_id == contest_id).order_by(ContestCriterion.position,
                                                                ContestCriterion.id)).all()

    def application_counts(self, contest_ids: Sequence[int]) -> dict[int, int]:
        """Applications per contest."""
        if not contest_ids:
            return {}
        rows = self.session.execute(select(ContestApplication.contest_id, func.count())
                                    .where(ContestApplication.contest_id.in_(list(contest_ids)))
                                    .group_by(ContestApplication.contest_id))
        return {cid: int(n) for cid, n in rows}

    # -- experts and conflicts ----------------------------------------------------------------

    def experts(self, contest_id: int) -> builtins.list[tuple[ContestExpert, User]]:
        """The experts of a contest's tracks."""
        rows = self.session.execute(
            select(ContestExpert, User).join(User, User.id == ContestExpert.user_id)
            .join(ContestTrack, ContestTrack.id == ContestExpert.track_id)
            .where(ContestTrack.contest_id == contest_id)
            .order_by(ContestTrack.position, User.username))
        return [(e, u) for e, u in rows]

    def expert_users(self) -> builtins.list[User]:
        """Active users of role expert."""
        return list(self.session.scalars(select(User).where(
            User.role == Role.expert, User.is_active.is_(True)).order_by(User.username)))

    def assignment(self, track_id: int, user_id: int) -> ContestExpert | None:
        """An expert's assignment to a track."""
        return self.session.scalar(select(ContestExpert).where(
            ContestExpert.track_id == track_id, ContestExpert.user_id == user_id))

    def conflicts(self, application_ids: Sequence[int]) -> builtins.list[ContestConflict]:
        """Conflicts declared on these applications."""
        if not application_ids:
            return []
        return list(self.session.scalars(select(ContestConflict).where(
            ContestConflict.application_id.in_(list(application_ids)))))

    def conflict(self, application_id: int, user_id: int) -> ContestConflict | None:
        """One expert's conflict on one application."""
        return self.session.scalar(select(ContestConflict).where(
            ContestConflict.application_id == application_id,
            ContestConflict.user_id == user_id))

    # -- applications -------------------------------------------------------------------------

    def application(self, scope: Scope, application_id: int) -> ContestApplication | None:
        """An application the scope sees (an expert: assigned, not recused)."""
        return self.session.scalar(select(ContestApplication).where(
            ContestApplication.id == application_id, scope.application_filter()))

    def applications(self, scope: Scope, contest_id: int, track_id: int | None = None
                     ) -> Sequence[ContestApplication]:
        """A contest's applications the scope sees, in order of submission."""
        conds = [ContestApplication.contest_id == contest_id, scope.application_filter()]
        if track_id is not None:
            conds.append(ContestApplication.track_id == track_id)
        return self.session.scalars(select(ContestApplication).where(*conds).order_by(
            ContestApplication.submitted_at, ContestApplication.id)).all()

    def by_source_ref(self, contest_id: int, source_ref: str) -> ContestApplication | None:
        """The application an import row already made."""
        return self.session.scalar(select(ContestApplication).where(
            ContestApplication.contest_id == contest_id,
            ContestApplication.source_ref == source_ref))

    def attachments(self, application_ids: Sequence[int]
                    ) -> dict[int, builtins.list[ContestAttachment]]:
        """The files of several applications."""
        out: dict[int, list[ContestAttachment]] = {i: [] for i in application_ids}
        if application_ids:
            for row in self.session.scalars(select(ContestAttachment).where(
                    ContestAttachment.application_id.in_(list(application_ids)))
                    .order_by(ContestAttachment.id)):
                out[row.application_id].append(row)
        return out

    def stored_names(self, names: Sequence[str]) -> set[str]:
        """Which of these stored names an attachment row still holds."""
        if not names:
            return set()
        return set(self.session.scalars(select(ContestAttachment.stored_name).where(
            ContestAttachment.stored_name.in_(list(names)))))

    def attachment(self, application_id: int, attachment_id: int) -> ContestAttachment | None:
        """One file of an application."""
        return self.session.scalar(select(ContestAttachment).where(
            ContestAttachment.id == attachment_id,
            ContestAttachment.application_id == application_id))

    # -- reviews ------------------------------------------------------------------------------

    def review(self, application_id: int, user_id: int) -> ContestReview | None:
        """One expert's review of one application."""
        return self.session.scalar(select(ContestReview).where(
            ContestReview.application_id == application_id, ContestReview.user_id == user_id))

    def reviews(self, application_ids: Sequence[int]
                ) -> dict[int, builtins.list[tuple[ContestReview, User]]]:
        """The reviews of several applications with their experts."""
        out: dict[int, list[tuple[ContestReview, User]]] = {i: [] for i in application_ids}
        if application_ids:
            for review, user in self.session.execute(
                    select(ContestReview, User).join(User, User.id == ContestReview.user_id)
                    .where(ContestReview.application_id.in_(list(application_ids)))
                    .order_by(ContestReview.id)):
                out[review.application_id].append((review, user))
        return out

    def reviewed_by(self, user_id: int, application_ids: Sequence[int]) -> set[int]:
        """Which of these applications the expert has reviewed."""
        if not application_ids:
            return set()
        return set(self.session.scalars(select(ContestReview.application_id).where(
            ContestReview.user_id == user_id,
            ContestReview.application_id.in_(list(application_ids)))))

    def users(self, user_ids: Sequence[int]) -> dict[int, User]:
        """Users by id."""
        if not user_ids:
            return {}
        return {u.id: u for u in self.session.scalars(select(User).where(
            User.id.in_(list(user_ids))))}

    # -- counts -------------------------------------------------------------------------------

    def counts(self) -> tuple[int, int]:
        """All contests and all applications."""
        contests = self.session.scalar(select(func.count()).select_from(Contest))
        applications = self.session.scalar(select(func.count()).select_from(ContestApplication))
        return int(contests or 0), int(applications or 0)
