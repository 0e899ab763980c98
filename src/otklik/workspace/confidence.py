"""How sure the machine is of a case: the least of what enrichment stored for its first message.

The queue's «сначала неуверенные» order (``sort=uncertain``, the workspace queue and
``GET /api/v1/cases``) puts first the cases whose primary message the machine was least sure
about, so the operators' corrections go where they teach the next model most (the weekly
retraining: :mod:`otklik.language.retraining`). Three confidences are stored by enrichment:
the topic's (``message_enrichment.topic_confidence``), the place's
(``result.territory.confidence``) and the relevance decision's
(``result.relevance.confidence``); a missing one (no place found, an old record) counts as 0,
and a case whose primary message has no enrichment counts as 0 too.

The hardest cases go last: the open cases below the :data:`HARDEST_LAST` quantile of the
open cases' confidence come after all the others (least sure first among them too). The very
least sure cases are mostly outliers and noise, which teach the next model little per
correction; on the learning-curve bench (``bench/bench_learning.py``, order ``queue``) this
reaches the full-data figure with 200-600 fewer corrections than plain least confidence
(docs/nlp-quality.md, "the learning curve, third pass").

The expressions are correlated subqueries over ``case_message`` (primary) and
``message_enrichment``: the same SQL on SQLite (``json_extract``) and PostgreSQL (``->>``)."""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, case, func, literal, select
from sqlalchemy.orm import Session, aliased

from otklik.models.case import OPEN_STATUSES, Case, CaseMessage
from otklik.models.message import MessageEnrichment

#: The sort name (queue and API).
UNCERTAIN = "uncertain"
#: The share of the open cases, the least sure ones, that the uncertain order puts last.
HARDEST_LAST = 0.15


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


def _stored(cases: Any) -> ColumnElement[float]:
    """Correlated with ``cases`` (:class:`Case` or an alias of it): the confidence of the
    case's primary message (0 when none is stored)."""
    inner = (select(func.min(message_confidence()))
             .select_from(CaseMessage)
             .join(MessageEnrichment, MessageEnrichment.message_id == CaseMessage.message_id)
             .where(CaseMessage.case_id == cases.id, CaseMessage.is_primary.is_(True))
             .correlate(cases).scalar_subquery())
    return func.coalesce(inner, literal(0.0))


def stored_confidence() -> ColumnElement[float]:
    """Per case (correlated with :class:`Case`): the confidence of its primary message."""
    return _stored(Case)


def hardest_floor() -> ColumnElement[float]:
    """The :data:`HARDEST_LAST` quantile of the open cases' confidence (one value for the
    whole query; 0 when there are no open cases): the open cases below it go last."""
    other = aliased(Case)
    is_open = other.status.in_(sorted(OPEN_STATUSES))
    value = _stored(other).label("value")
    # Integer division on both databases (PostgreSQL would round a cast of 0.15 × n).
    skip = (select(func.count() * round(HARDEST_LAST * 100) // 100)
            .select_from(other).where(is_open).scalar_subquery())
    floor = (select(value).select_from(other).where(is_open)
             .order_by(value.asc(), other.id.asc()).limit(1).offset(skip).scalar_subquery())
    return func.coalesce(floor, literal(0.0))


def case_confidence() -> ColumnElement[float]:
    """Per case (correlated with :class:`Case`): the key of the uncertain order — its stored
    confidence, plus 1 for an open case below :func:`hardest_floor` (those come last, least
    sure first among them). Confidences lie in [0, 1], so the key orders as described."""
    stored = stored_confidence()
    hardest = Case.status.in_(sorted(OPEN_STATUSES)) & (stored < hardest_floor())
    return case((hardest, stored + literal(1.0)), else_=stored)


def confidences(session: Session, case_ids: Iterable[int]) -> dict[int, float]:
    """The machine's confidence of each of these cases (for display beside the queue)."""
    wanted = sorted(set(case_ids))
    if not wanted:
        return {}
    rows = session.execute(select(Case.id, stored_confidence()).where(Case.id.in_(wanted)))
    return {int(ident): float(value or 0.0) for ident, value in rows}
