"""Every query of the personal-data domain: what retention is due for, everything stored
about one resident, the rows their data sits in."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Select, and_, delete, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from otklik.accounts.scope import Scope
from otklik.models.case import Answer, Case, CaseMessage
from otklik.models.media import Photo
from otklik.models.message import Message, MessageRevision
from otklik.models.open311 import Open311Request
from otklik.models.pd import PdAnonymization, PdConsent


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
