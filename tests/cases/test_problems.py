"""Cases about one thing in one place become one problem; other places, other problems."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from otklik.cases.problems import assign_problems
from otklik.models.case import Case

OVERPASS = [
    "Путепровод на улице Лаврова в Мичуринске весь в трещинах, когда ремонт?",
    "На путепроводе по Лаврова опять пробка, 22 тысячи машин в день, а ремонта нет",
    "Лавровский путепровод разваливается, куски бетона падают, сделайте что-нибудь",
]


def test_overpass_messages_form_one_problem(session: Session,
                                            make_case: Callable[..., Case]) -> None:
    start = datetime(2026, 11, 1, 9, tzinfo=UTC)
    cases = [make_case(text=text, author=f"id50{i}", created_at=start + timedelta(days=i * 3))
             for i, text in enumerate(OVERPASS)]
    other = make_case(text="Огромная яма во дворе дома 5 на улице Советской, не проехать",
                      subtopic="roads.potholes", author="id599",
                      created_at=start + timedelta(days=2))
    other.street = "ул. Советская"
    assign_problems(session, [c.id for c in [*cases, other]])
    problems = {c.problem_id for c in cases}
    assert len(problems) == 1 and None not in problems
    assert other.problem_id not in problems
    from otklik.cases.repository import CaseRepository

    problem = CaseRepository(session).problem(cases[0].problem_id or -1)
    assert problem is not None and problem.size == 3 and problem.title
    again = assign_problems(session, [c.id for c in cases])
    assert again == 0 and problem.size == 3  # idempotent on replay
