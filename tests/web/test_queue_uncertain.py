"""The queue's «сначала неуверенные» order (SQLite and PostgreSQL): the cases the machine was
least sure about — the least of the topic, place and relevance confidence enrichment stored —
come first, in the workspace queue (keyset pages) and in GET /api/v1/cases."""
# ruff: noqa: F811  (fixtures imported from tests/cases/conftest.py are parameters here)

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.cases.conftest import make_case, make_message, michurinsk  # noqa: F401
from tests.conftest import login

from otklik.accounts.scope import Scope
from otklik.cases.repository import CaseRepository
from otklik.models.account import Role
from otklik.models.case import OPEN_STATUSES, Case, CaseStatus
from otklik.models.message import MessageEnrichment
from otklik.web import workspace_queries as wq
from otklik.workspace.confidence import confidences, hardest_floor

# (topic, place, relevance confidence) → the least of them orders the queue.
SURE = {"a": (0.95, 0.9, 0.97), "b": (0.35, 0.8, 0.9), "c": (0.9, 0.12, 0.8),
        "d": (0.8, 0.7, 0.55), "e": (0.9, None, 0.9)}
EXPECTED = ["e", "c", "b", "d", "a"]  # e: no place found counts as 0


def _paged(session: Session, f: wq.QueueFilter) -> list[int]:
    """The queue's case ids, two a page: each keyset cursor carries (confidence, id)."""
    now = datetime.now(UTC)
    seen: list[int] = []
    after = None
    for _ in range(50):
        page = wq.queue(session, Scope.system(), f, now, limit=2, after=after,
                        with_counts=False)
        seen += [c.id for c in page.rows]
        after = page.next_key
        if after is None:
            break
    return seen


def _cases(session: Session, make_case: Callable[..., Case]) -> dict[str, Case]:
    made: dict[str, Case] = {}
    for name, (topic, place, relevance) in SURE.items():
        case = make_case(text=f"Яма на дороге у дома {name}, когда отремонтируют?")
        message_id = CaseRepository(session).messages(case.id)[0].id
        enrichment = session.get(MessageEnrichment, message_id)
        assert enrichment is not None
        enrichment.topic_confidence = topic
        enrichment.result = {"territory": {"confidence": place} if place is not None else {},
                             "relevance": {"category": "complaint", "confidence": relevance}}
        made[name] = case
    session.flush()
    return made


def _ours(ids: list[int], made: dict[str, Case]) -> list[str]:
    by_id = {c.id: name for name, c in made.items()}
    return [by_id[i] for i in ids if i in by_id]


def test_least_sure_first_with_keyset_pages(session: Session,
                                           make_case: Callable[..., Case]) -> None:
    made = _cases(session, make_case)
    stored = confidences(session, [c.id for c in made.values()])
    assert stored[made["b"].id] == 0.35 and stored[made["e"].id] == 0.0
    assert stored[made["a"].id] == 0.9
    seen = _paged(session, wq.QueueFilter(sort="uncertain"))
    assert len(seen) == len(set(seen))  # no case twice, none skipped
    assert _ours(seen, made) == EXPECTED
    values = [confidences(session, [i])[i] for i in seen]
    assert values == sorted(values)
    # A text search pages the same order.
    searched = wq.queue(session, Scope.system(), wq.QueueFilter(sort="uncertain", q="яма"),
                        datetime.now(UTC), limit=100)
    assert _ours([c.id for c in searched.rows], made) == EXPECTED


def test_the_queue_page_offers_the_order_and_shows_the_confidence(
        session: Session, client: Any, make_case: Callable[..., Case]) -> None:
    made = _cases(session, make_case)
    operator = make_user(session, Role.operator, ["68"])
    login(client, operator.username, PASSWORD)
    page = client.get("/cases", params={"sort": "uncertain", "q": "яма"})
    assert page.status_code == 200
    assert re.search(r'<option value="uncertain"\s+selected>сначала неуверенные</option>',
                     page.text)
    ids = [int(i) for i in re.findall(r'data-case-id="(\d+)"', page.text)]
    assert _ours(ids, made) == EXPECTED
    row = page.text.split(f'data-case-id="{made["b"].id}"')[1].split("</tr>")[0]
    assert 'data-testid="row-confidence"' in row and "35" in row
    default = client.get("/cases", params={"q": "яма"})
    assert 'data-testid="row-confidence"' not in default.text


def test_the_api_sorts_least_sure_first(session: Session, client: Any,
                                        make_case: Callable[..., Case]) -> None:
    made = _cases(session, make_case)
    operator = make_user(session, Role.operator, ["68"])
    login(client, operator.username, PASSWORD)
    listed = client.get("/api/v1/cases", params={"sort": "uncertain", "limit": 500})
    assert listed.status_code == 200, listed.text
    assert _ours([c["id"] for c in listed.json()["items"]], made) == EXPECTED
    wrong = client.get("/api/v1/cases", params={"sort": "sideways"})
    assert wrong.status_code == 422


def test_the_hardest_open_cases_go_last(session: Session,
                                        make_case: Callable[..., Case]) -> None:
    """Below the 15th percentile of the open cases' confidence an open case goes last (the
    least sure ones are mostly outliers: bench/bench_learning.py, order ``queue``)."""
    topics = {"h": 0.02, "p": 0.3, "q": 0.4, "r": 0.5, "s": 0.6, "t": 0.7, "u": 0.8, "v": 0.9}
    made: dict[str, Case] = {}
    for name, topic in topics.items():
        case = make_case(text=f"Яма на дороге у дома {name}, когда отремонтируют?")
        message_id = CaseRepository(session).messages(case.id)[0].id
        enrichment = session.get(MessageEnrichment, message_id)
        assert enrichment is not None
        enrichment.topic_confidence = topic
        enrichment.result = {"territory": {"confidence": 0.95},
                             "relevance": {"category": "complaint", "confidence": 0.95}}
        made[name] = case
    session.flush()
    # The floor is the 15th percentile of every open case's stored confidence.
    open_ids = list(session.scalars(select(Case.id).where(Case.status.in_(OPEN_STATUSES))))
    values = sorted(confidences(session, open_ids).values())
    floor = session.scalar(select(hardest_floor()))
    assert floor == pytest.approx(values[len(values) * 15 // 100])
    assert floor > 0.02  # so "h" is one of the hardest
    seen = _paged(session, wq.QueueFilter(sort="uncertain", q="яма"))
    assert len(seen) == len(set(seen))
    assert _ours(seen, made) == ["p", "q", "r", "s", "t", "u", "v", "h"]
    listed = CaseRepository(session).page(Scope.system(), sort="uncertain", limit=500)[0]
    assert _ours([c.id for c in listed], made)[-1] == "h"
    # A closed case is not in the open queue's percentile and is not held back.
    made["h"].status = CaseStatus.closed
    session.flush()
    seen = [c.id for c in wq.queue(session, Scope.system(), wq.QueueFilter(
        sort="uncertain", q="яма"), datetime.now(UTC), limit=100).rows]
    assert _ours(seen, made)[0] == "h"
