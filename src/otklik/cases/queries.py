"""Read models of cases for the API and the UI (scoped, with everything a card shows)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.cases import deadlines
from otklik.cases.actions import allowed_actions
from otklik.cases.repository import CaseRepository
from otklik.cases.schemas import (
    AnswerRead,
    CaseDetail,
    CaseRead,
    EventRead,
    ExtensionRead,
)
from otklik.cases.service import get_case
from otklik.channels.schemas import MessageRead
from otklik.db.base import utcnow
from otklik.pd.masking import shown, shown_all


def case_detail(session: Session, actor: Actor, case_id: int) -> CaseDetail:
    """Everything about one case the actor may see."""
    case = get_case(session, actor, case_id)
    repo = CaseRepository(session)
    remaining = deadlines.remaining(session, case, utcnow())
    return CaseDetail(
        **shown(actor, CaseRead.model_validate(case)).model_dump(),
        routing=case.routing or {},
        messages=shown_all(actor, [MessageRead.model_validate(m)
                                   for m in repo.messages(case.id)]),
        events=[EventRead.model_validate(e) for e in repo.events(case.id)],
        answers=[AnswerRead.model_validate(a) for a in repo.answers(case.id)],
        extensions=[ExtensionRead.model_validate(x) for x in repo.extensions(case.id)],
        remaining_seconds=remaining.total_seconds() if remaining is not None else None,
        allowed_actions=allowed_actions(actor, case),
    )
