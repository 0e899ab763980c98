"""Every query of the personal-data domain: what retention is due for, everything stored
about one resident, the rows their data sits in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy import Select, and_, delete, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from otklik.accounts.scope import Scope
from otklik.models.case import Answer, Case, CaseMessage
from otklik.models.contests import Contest, ContestApplication, ContestAttachment
from otklik.models.fakes import FakeCopy, FakeSuspect
from otklik.models.media import Photo
from otklik.models.message import Message, MessageRevision
from otklik.models.open311 import Open311Request
from otklik.models.participation import Campaign, CampaignQuestion, Proposal, ProposalVote
from otklik.models.pd import PdAnonymization, PdAnonymizedRow, PdConsent
from otklik.models.publics import PageComment, PublicPage

#: Proposals whose path ended (retention waits for the end).
FINAL_PROPOSALS = ("done", "declined")


#: The later domains' tables whose rows are taken from a message (``message_id``).
_WithMessage = TypeVar("_WithMessage", CampaignQuestion, Proposal, ProposalVote, FakeCopy,
                       FakeSuspect)


class PdRepository:
    """Queries over the tables that hold residents' personal data."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def due_for_retention(self, cutoff: datetime, limit: int) -> list[int]:
        """Ids of messages not yet anonymised that are past retention: in no case and
        received before ``cutoff``, or whose every case closed before ``cutoff``."""
        return list(self.session.scalars(self._due(cutoff).order_by(Message.id).limit(limit)))

    def count_due(self, cutoff: datetime) -> int:
        """How many messages :meth:`due_for_retention` would return without a limit."""
        return int(self.session.scalar(
            select(func.count()).select_from(self._due(cutoff).subquery())) or 0)

    @staticmethod
    def _due(cutoff: datetime) -> Select[int]:
        link = aliased(CaseMessage)
        case = aliased(Case)
        in_case = exists().where(CaseMessage.message_id == Message.id)
        still_held = (
            select(link.message_id)
            .join(case, case.id == link.case_id)
            .where(link.message_id == Message.id,
                   or_(case.closed_at.is_(None), case.closed_at >= cutoff))
            .exists()
        )
        done = exists().where(PdAnonymization.message_id == Message.id)
        return select(Message.id).where(
            ~done,
            or_(and_(~in_case, Message.received_at < cutoff), and_(in_case, ~still_held)))

    def messages(self, ids: Sequence[int]) -> Sequence[Message]:
        """Messages by id."""
        return self.session.scalars(select(Message).where(Message.id.in_(ids))
                                    .order_by(Message.id)).all()

    def messages_of_author(self, author_key: str, scope: Scope) -> Sequence[Message]:
        """Every message of one pseudonymous author that the scope sees."""
        return self.session.scalars(select(Message).where(Message.author_key == author_key,
                                                          scope.message_filter())
                                    .order_by(Message.id)).all()

    def message(self, message_id: int, scope: Scope) -> Message | None:
        """A message by id, if the scope sees it."""
        return self.session.scalar(select(Message).where(Message.id == message_id,
                                                         scope.message_filter()))

    def cases_of(self, message_ids: Sequence[int]) -> Sequence[Case]:
        """The cases these messages are in."""
        return self.session.scalars(
            select(Case).join(CaseMessage, CaseMessage.case_id == Case.id)
            .where(CaseMessage.message_id.in_(message_ids)).distinct().order_by(Case.id)
        ).all()

    def answers_of(self, case_ids: Sequence[int]) -> Sequence[Answer]:
        """The answers of these cases."""
        return self.session.scalars(select(Answer).where(Answer.case_id.in_(case_ids))
                                    .order_by(Answer.id)).all()

    def only_these_authors(self, case_ids: Sequence[int], message_ids: Sequence[int]
                           ) -> list[int]:
        """The cases all of whose messages are among ``message_ids`` (their title and
        answers speak of these residents only)."""
        if not case_ids:
            return []
        others = (select(CaseMessage.case_id)
                  .where(CaseMessage.case_id.in_(case_ids),
                         CaseMessage.message_id.not_in(message_ids))
                  .distinct())
        mixed = set(self.session.scalars(others))
        return [c for c in case_ids if c not in mixed]

    def consents_of(self, message_ids: Sequence[int]) -> Sequence[PdConsent]:
        """Consents recorded with these messages."""
        return self.session.scalars(select(PdConsent).where(
            PdConsent.message_id.in_(message_ids)).order_by(PdConsent.id)).all()

    def open311_of(self, message_ids: Sequence[int]) -> Sequence[Open311Request]:
        """Open311 requests that stored these messages."""
        return self.session.scalars(select(Open311Request).where(
            Open311Request.message_id.in_(message_ids)).order_by(Open311Request.id)).all()

    def photos_of(self, message_ids: Sequence[int]) -> Sequence[Photo]:
        """Photos attached to these messages."""
        return self.session.scalars(select(Photo).where(Photo.message_id.in_(message_ids))
                                    .order_by(Photo.id)).all()

    def photos_delete(self, photos: Sequence[Photo]) -> list[str]:
        """Delete these photo rows; their keys (the files go after the commit)."""
        keys = [p.key for p in photos]
        for photo in photos:
            self.session.delete(photo)
        return keys

    # -- the later domains' rows ------------------------------------------------------------

    def rows_of_messages(self, model: type[_WithMessage], message_ids: Sequence[int]
                         ) -> list[_WithMessage]:
        """Rows of a later domain's table taken from these messages (direct-line questions,
        proposals, supports, fake copies, fake suspects: each has a ``message_id``)."""
        return list(self.session.scalars(select(model).where(
            model.message_id.in_(message_ids)).order_by(model.id)))

    def author_questions(self, author_key: str, scope: Scope) -> Sequence[CampaignQuestion]:
        """Direct-line questions of one author (a message's or a hotline row's key)."""
        return self.session.scalars(
            select(CampaignQuestion).join(Campaign, Campaign.id == CampaignQuestion.campaign_id)
            .where(CampaignQuestion.author_key == author_key,
                   scope.region_filter(Campaign.region_code))
            .order_by(CampaignQuestion.id)).all()

    def author_votes(self, author_key: str, scope: Scope) -> Sequence[ProposalVote]:
        """Supports one author gave (their voter key is their author key)."""
        return self.session.scalars(
            select(ProposalVote).join(Proposal, Proposal.id == ProposalVote.proposal_id)
            .where(ProposalVote.voter_key == author_key,
                   scope.region_filter(Proposal.region_code))
            .order_by(ProposalVote.id)).all()

    def comment_authors(self, scope: Scope) -> list[tuple[str, str]]:
        """(platform, author id) of every resident who commented on a page the scope sees."""
        rows = self.session.execute(
            select(PublicPage.platform, PageComment.author_id).distinct()
            .join(PublicPage, PublicPage.id == PageComment.page_id)
            .where(PageComment.author_id.is_not(None), ~PageComment.from_page,
                   scope.region_filter(PublicPage.region_code)))
        return [(str(p), str(a)) for p, a in rows]

    def comments_by(self, platform: str, author_id: str, scope: Scope
                    ) -> Sequence[PageComment]:
        """One author's comments on the pages of a platform the scope sees."""
        return self.session.scalars(
            select(PageComment).join(PublicPage, PublicPage.id == PageComment.page_id)
            .where(PublicPage.platform == platform, PageComment.author_id == author_id,
                   ~PageComment.from_page, scope.region_filter(PublicPage.region_code))
            .order_by(PageComment.id)).all()

    def applications_by_contact(self, contact: str, scope: Scope
                                ) -> Sequence[ContestApplication]:
        """Contest applications that gave this contact (case and spaces ignored)."""
        return self.session.scalars(
            select(ContestApplication).join(Contest, Contest.id == ContestApplication.contest_id)
            .where(func.lower(func.trim(ContestApplication.contact)) == contact.strip().lower(),
                   scope.region_filter(Contest.region_code))
            .order_by(ContestApplication.id)).all()

    def attachments_of(self, application_ids: Sequence[int]) -> Sequence[ContestAttachment]:
        """The files of these applications."""
        return self.session.scalars(select(ContestAttachment).where(
            ContestAttachment.application_id.in_(application_ids))
            .order_by(ContestAttachment.id)).all()

    def attachments_delete(self, attachments: Sequence[ContestAttachment]
                           ) -> list[tuple[int, str]]:
        """Delete these attachment rows; (contest id, stored name) of each file."""
        if not attachments:
            return []
        contests = {int(i): int(c) for i, c in self.session.execute(
            select(ContestApplication.id, ContestApplication.contest_id).where(
                ContestApplication.id.in_({a.application_id for a in attachments})))}
        out = [(int(contests[a.application_id]), a.stored_name) for a in attachments]
        for attachment in attachments:
            self.session.delete(attachment)
        return out

    @staticmethod
    def _unmarked(model: Any) -> Select[Any]:
        table: str = model.__tablename__
        done = exists().where(PdAnonymizedRow.table_name == table,
                              PdAnonymizedRow.row_id == model.id)
        return select(model).where(~done)

    def due_questions(self, cutoff: datetime, limit: int) -> Sequence[CampaignQuestion]:
        """Hotline questions (no message: those go with their message) of lines that closed
        before ``cutoff``, received before it, not yet anonymised."""
        return self.session.scalars(
            self._unmarked(CampaignQuestion)
            .join(Campaign, Campaign.id == CampaignQuestion.campaign_id)
            .where(CampaignQuestion.message_id.is_(None), CampaignQuestion.received_at < cutoff,
                   Campaign.closes_at < cutoff)
            .order_by(CampaignQuestion.id).limit(limit)).all()

    def due_proposals(self, cutoff: datetime, limit: int) -> Sequence[Proposal]:
        """Proposals without a message whose path ended before ``cutoff``."""
        return self.session.scalars(
            self._unmarked(Proposal)
            .where(Proposal.message_id.is_(None), Proposal.status.in_(FINAL_PROPOSALS),
                   Proposal.updated_at < cutoff)
            .order_by(Proposal.id).limit(limit)).all()

    def due_votes(self, cutoff: datetime, limit: int) -> Sequence[ProposalVote]:
        """Supports given before ``cutoff``."""
        return self.session.scalars(
            self._unmarked(ProposalVote).where(ProposalVote.created_at < cutoff)
            .order_by(ProposalVote.id).limit(limit)).all()

    def due_suspects(self, cutoff: datetime, limit: int) -> Sequence[FakeSuspect]:
        """Texts sent to the check service (no message) last touched before ``cutoff``."""
        return self.session.scalars(
            self._unmarked(FakeSuspect)
            .where(FakeSuspect.message_id.is_(None),
                   func.coalesce(FakeSuspect.updated_at, FakeSuspect.created_at) < cutoff)
            .order_by(FakeSuspect.id).limit(limit)).all()

    def due_comments(self, cutoff: datetime, limit: int) -> Sequence[PageComment]:
        """Page comments written before ``cutoff`` that still name their author."""
        return self.session.scalars(
            select(PageComment).where(PageComment.author_id.is_not(None),
                                      PageComment.created_at < cutoff)
            .order_by(PageComment.id).limit(limit)).all()

    def due_applications(self, cutoff: datetime, limit: int) -> Sequence[ContestApplication]:
        """Applications to contests closed before ``cutoff`` (by their closing day)."""
        return self.session.scalars(
            self._unmarked(ContestApplication)
            .join(Contest, Contest.id == ContestApplication.contest_id)
            .where(Contest.status == "closed",
                   or_(Contest.closes_on < cutoff.date(),
                       and_(Contest.closes_on.is_(None), Contest.created_at < cutoff)))
            .order_by(ContestApplication.id).limit(limit)).all()

    def anonymized_rows(self, table: str, ids: Sequence[int]) -> set[int]:
        """Which rows of a table are anonymised already."""
        if not ids:
            return set()
        return set(self.session.scalars(select(PdAnonymizedRow.row_id).where(
            PdAnonymizedRow.table_name == table, PdAnonymizedRow.row_id.in_(ids))))

    def mark_rows(self, table: str, ids: Sequence[int], reason: str, now: datetime) -> None:
        """Record rows of a table as anonymised."""
        self.session.add_all([PdAnonymizedRow(table_name=table, row_id=i, reason=reason, at=now)
                              for i in ids])
        self.session.flush()

    def drop_revisions(self, message_ids: Sequence[int]) -> None:
        """Delete the earlier texts of these messages."""
        self.session.execute(delete(MessageRevision)
                             .where(MessageRevision.message_id.in_(message_ids)))

    def anonymized(self, message_ids: Sequence[int]) -> set[int]:
        """Which of these messages are anonymised already."""
        return set(self.session.scalars(select(PdAnonymization.message_id).where(
            PdAnonymization.message_id.in_(message_ids))))

    def mark(self, rows: Sequence[PdAnonymization]) -> None:
        """Record messages as anonymised."""
        self.session.add_all(rows)
        self.session.flush()

    def count_consents(self) -> int:
        """How many consents are recorded."""
        return int(self.session.scalar(select(func.count()).select_from(PdConsent)) or 0)

    def count_anonymized(self) -> int:
        """How many messages are anonymised."""
        return int(self.session.scalar(select(func.count()).select_from(PdAnonymization))
                   or 0)
