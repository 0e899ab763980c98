"""How sure the machine is of a case: the least of what enrichment stored for its first message.

The queue's «сначала неуверенные» order (``sort=uncertain``, the workspace queue and
``GET /api/v1/cases``) puts first the cases whose primary message the machine was least sure
about, so the operators' corrections go where they teach the next model most (the weekly
retraining: :mod:`otklik.language.retraining`). Three confidences are stored by enrichment:
the topic's (``message_enrichment.topic_confidence``), the place's
(``result.territory.confidence``) and the relevance decision's
(``result.relevance.confidence``); a missing one (no place found, an old record) counts as 0,
and a case whose primary message has no enrichment counts as 0 too.

The expression is a correlated subquery over ``case_message`` (primary) and
``message_enrichment``: the same SQL on SQLite (``json_extract``) and PostgreSQL (``->>``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, select
from sqlalchemy.orm import Session

from otklik.models.case import Case, CaseMessage
from otklik.models.message import MessageEnrichment

#: The sort name (queue and API).
UNCERTAIN = "uncertain"


def _least(*values: ColumnElement[Any]) -> ColumnElement[Any]:
    """The smallest of several values, portable (SQLite's ``min(a, b)``, PostgreSQL's
    ``LEAST``) as nested CASE."""
    out = values[0]
    for value in values[1:]:
        out = case((value < out, value), else_=out)
    return out


def message_confidence() -> ColumnElement[float]:
    """Per enrichment row: min(topic, place, relevance confidence), a missing one being 0."""
    zero = literal(0.0)
    result = MessageEnrichment.result
    return _least(
        func.coalesce(MessageEnrichment.topic_confidence, zero),
        func.coalesce(result["territory"]["confidence"].as_float(), zero),
        func.coalesce(result["relevance"]["confidence"].as_float(), zero))


def case_confidence() -> ColumnElement[float]:
    """Per case (correlated with :class:`Case`): the confidence of its primary message."""
    inner = (select(func.min(message_confidence()))
             .select_from(CaseMessage)
             .join(MessageEnrichment, MessageEnrichment.message_id == CaseMessage.message_id)
             .where(CaseMessage.case_id == Case.id, CaseMessage.is_primary.is_(True))
             .correlate(Case).scalar_subquery())
    return func.coalesce(inner, literal(0.0))


def confidences(session: Session, case_ids: Iterable[int]) -> dict[int, float]:
    """The machine's confidence of each of these cases (for display beside the queue)."""
    wanted = sorted(set(case_ids))
    if not wanted:
        return {}
    rows = session.execute(select(Case.id, case_confidence()).where(Case.id.in_(wanted)))
    return {int(ident): float(value or 0.0) for ident, value in rows}
