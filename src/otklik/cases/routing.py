"""Routing: ordered rules topic × territory → executor, and a learned suggestion beside them.

The first enabled rule of the case's region that matches wins; without one the case goes to
the curator's triage queue. The suggestion learned from history (an active ``executor``
model in the registry) is shown beside the rule with its confidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from otklik.cases.repository import CaseRepository
from otklik.models.case import Case
from otklik.models.message import Message


@dataclass
class Suggestion:
    """Where a case should go and why."""

    executor_id: int | None = None
    from_rule: bool = False
    rule_id: int | None = None
    learned: dict[str, Any] = field(default_factory=dict)
    reason: str = ""

    def as_dict(self) -> dict[str, Any]:
        """JSON for the case's ``routing`` column (what ``dataclasses.asdict`` gives for
        these flat values, without its deep copy of each: a fifteenth of opening a case)."""
        return {"executor_id": self.executor_id, "from_rule": self.from_rule,
                "rule_id": self.rule_id, "learned": dict(self.learned), "reason": self.reason}


def suggest(session: Session, case: Case, messages: Sequence[Message] | None = None
            ) -> Suggestion:
    """The rule's executor (if any rule matches) and the learned suggestion (from the
    case's messages; ``messages``: those of a case not stored yet)."""
    suggestion = Suggestion(reason="no rule matched: triage")
    if case.region_code:
        places = [t for t in (case.municipality_id, case.settlement_id) if t is not None]
        rule = CaseRepository(session).first_rule(case.region_code, case.topic, case.subtopic,
                                                  places)
        if rule is not None:
            suggestion = Suggestion(executor_id=rule.executor_id, from_rule=True,
                                    rule_id=rule.id, reason=rule.note or "rule")
    learned = learned_suggestion(session, case, messages)
    if learned:
        suggestion.learned = learned
    return suggestion


def learned_suggestion(session: Session, case: Case,
                       messages: Sequence[Message] | None = None) -> dict[str, Any]:
    """The active executor model's answer for the case text (of ``messages`` when given,
    else of the case's stored messages), with its confidence."""
    from otklik.language.registry import model_of

    row = CaseRepository(session).active_model_row("executor")
    if row is None:
        return {}
    model = model_of(row)
    if messages is None:
        messages = CaseRepository(session).messages(case.id)
    text = " ".join(m.text for m in messages[:3]) or case.title
    label, confidence = model.predict_one(text)
    try:
        executor_id = int(label)
    except ValueError:
        return {"label": label, "confidence": confidence, "model": model.version}
    return {"executor_id": executor_id, "confidence": confidence, "model": model.version}


def case_places(session: Session, case: Case) -> list[int]:
    """The territories a case lies in: its settlement, municipality and region."""
    ids = [t for t in (case.settlement_id, case.municipality_id) if t is not None]
    if case.region_code:
        region_id = CaseRepository(session).region_id(case.region_code)
        if region_id is not None:
            ids.append(region_id)
    return ids


def covers_case(session: Session, organization_id: int, case: Case) -> bool:
    """True when the organization covers the case's settlement, municipality or region."""
    return CaseRepository(session).covers(organization_id, case_places(session, case),
                                          case.region_code)
