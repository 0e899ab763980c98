"""Cases about one thing in one place become one problem; other places, other problems."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session

from otklik.cases.problems import assign_problems
from otklik.cases.repository import CaseRepository
from otklik.models.case import Case
from otklik.models.message import Message, MessageEnrichment

OVERPASS = [
    "Путепровод на улице Лаврова в Мичуринске весь в трещинах, когда ремонт?",
    "На путепроводе по Лаврова опять пробка, 22 тысячи машин в день, а ремонта нет",
    "Лавровский путепровод разваливается, куски бетона падают, сделайте что-нибудь",
]


def overpass_and_pothole(make_case: Callable[..., Case], authors: str,
                         pothole_day: int) -> tuple[list[Case], Case]:
    """The three overpass cases (three days apart) and a pothole in another street."""
    start = datetime(2026, 11, 1, 9, tzinfo=UTC)
    cases = [make_case(text=text, author=f"{authors}{i}",
                       created_at=start + timedelta(days=i * 3))
             for i, text in enumerate(OVERPASS)]
    pothole = make_case(text="Огромная яма во дворе дома 5 на улице Советской, не проехать",
                        subtopic="roads.potholes", author=f"{authors}9",
                        created_at=start + timedelta(days=pothole_day))
    pothole.street = "ул. Советская"
    return cases, pothole


def test_overpass_messages_form_one_problem(session: Session,
                                            make_case: Callable[..., Case]) -> None:
    cases, other = overpass_and_pothole(make_case, "id50", pothole_day=2)
    assign_problems(session, [c.id for c in [*cases, other]])
    problems = {c.problem_id for c in cases}
    assert len(problems) == 1 and None not in problems
    assert other.problem_id not in problems
    from otklik.cases.repository import CaseRepository

    problem = CaseRepository(session).problem(cases[0].problem_id or -1)
    assert problem is not None and problem.size == 3 and problem.title
    again = assign_problems(session, [c.id for c in cases])
    assert again == 0 and problem.size == 3  # idempotent on replay


def test_a_worker_behind_another_reloads_only_what_the_other_changed(
        session: Session, make_case: Callable[..., Case],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers cluster one stream: the one whose index is behind the other's problems
    reloads just the problems the other changed (no rebuild of its whole index) and places
    its next case as a worker that rebuilt would."""
    from otklik.cases import problems as module

    cases, pothole = overpass_and_pothole(make_case, "id51", pothole_day=1)
    monkeypatch.setattr(module, "_index", None)
    monkeypatch.setattr(module, "_known", {})
    assign_problems(session, [cases[0].id, pothole.id])  # worker A
    a_index, a_known = module._index, dict(module._known)

    monkeypatch.setattr(module, "_index", None)  # worker B: a process of its own
    monkeypatch.setattr(module, "_known", {})
    assign_problems(session, [cases[1].id])
    assert cases[1].problem_id == cases[0].problem_id  # B read A's problem and joined it

    monkeypatch.setattr(module, "_index", a_index)  # back in A, behind B by one case
    monkeypatch.setattr(module, "_known", a_known)
    rebuilt: list[bool] = []
    rebuild = module._rebuild
    monkeypatch.setattr(module, "_rebuild", lambda *a: rebuilt.append(True) or rebuild(*a))
    assign_problems(session, [cases[2].id])
    assert not rebuilt  # patched, not rebuilt
    assert cases[2].problem_id == cases[0].problem_id
    key = next(k for k, st in a_index.problems.items()
               if st.problem_id == cases[0].problem_id)
    assert set(a_index.problems[key].case_ids) == {c.id for c in cases}
    from otklik.cases.repository import CaseRepository

    problem = CaseRepository(session).problem(cases[0].problem_id or -1)
    assert problem is not None and problem.size == 3
    assert pothole.problem_id != problem.id and module._known[problem.id] == 3


def test_cases_join_problems_in_one_versioned_update(
        session: Session, make_case: Callable[..., Case]) -> None:
    """The cases' problem ids go out in one UPDATE (not one per case); each case's version
    still moves by one, and the loaded cases are clean (nothing left for the next flush)."""
    from sqlalchemy import event

    cases, other = overpass_and_pothole(make_case, "id57", pothole_day=2)
    session.flush()
    versions = {c.id: c.version for c in [*cases, other]}
    updates: list[str] = []

    def listen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith('UPDATE "CASE"') or statement.lstrip(
                ).upper().startswith("UPDATE CASE"):
            updates.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", listen)
    try:
        joined = assign_problems(session, [c.id for c in [*cases, other]])
        session.flush()
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    assert joined == 4 and len(updates) == 1
    assert all(c.version == versions[c.id] + 1 and c not in session.dirty
               for c in [*cases, other])
    session.expire_all()
    stored = {c.id: (c.problem_id, c.version) for c in session.query(Case).filter(
        Case.id.in_(list(versions)))}
    assert len({problem for problem, _ in stored.values()}) == 2
    assert all(version == versions[i] + 1 for i, (_, version) in stored.items())


def test_a_case_changed_meanwhile_stops_the_problem_update(
        session: Session, make_case: Callable[..., Case],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Optimistic locking holds for the one-statement update: a case whose version moved
    under the job, after it read the cases and before it wrote (an operator's edit
    elsewhere), fails the batch, as the ORM's flush did."""
    from sqlalchemy import update
    from sqlalchemy.orm.exc import StaleDataError

    cases, _ = overpass_and_pothole(make_case, "id58", pothole_day=2)
    session.flush()
    read = CaseRepository.unplaced_cases

    def then_edited(self: CaseRepository, case_ids: list[int]) -> object:
        rows = read(self, case_ids)
        session.execute(update(Case.__table__).where(Case.__table__.c.id == cases[1].id)
                        .values(version=Case.__table__.c.version + 1))
        return rows

    monkeypatch.setattr(CaseRepository, "unplaced_cases", then_edited)
    if (session.get_bind().dialect.name != "postgresql"
            and not session.get_bind().dialect.supports_sane_multi_rowcount):
        pytest.skip("the driver does not count the rows of an executemany")
    with pytest.raises(StaleDataError):
        assign_problems(session, [c.id for c in cases])


def test_clustering_reads_the_oldest_message_of_each_case_as_the_whole_rows_tell(
        session: Session, make_case: Callable[..., Case],
        make_message: Callable[..., Message]) -> None:
    """What problems read of a case (its oldest message's text and near-copy key) is read
    as two columns in one query: the same as the whole rows say, for every case."""
    start = datetime(2026, 11, 1, 9, tzinfo=UTC)
    case = make_case(text="Яма на Советской так и не заделана", created_at=start
                     + timedelta(days=1))
    first = make_message("Самое первое сообщение о яме на Советской", created_at=start)
    later = make_message("Ещё раз про яму на Советской", created_at=start + timedelta(days=2))
    enrichment = session.get(MessageEnrichment, first.id)
    assert enrichment is not None
    enrichment.dedup_key = "яма советская"
    repo = CaseRepository(session)
    repo.add_message(case.id, later.id)
    repo.add_message(case.id, first.id)
    other = make_case(text="Нет света на улице Гоголя", subtopic=None)
    session.flush()
    ids = [case.id, other.id, -1]
    whole = repo.first_messages(ids)
    assert repo.first_texts(ids) == {
        i: (m.text, e.dedup_key if e else None) for i, (m, e) in whole.items()}
    assert repo.first_texts(ids)[case.id] == (first.text, "яма советская")
    assert repo.first_texts([]) == {}


#: Six things in six places of one town: six problems from one batch.
SEVERAL = [
    ("roads.potholes", "ул. Советская", "Огромная яма у дома 5 на улице Советской"),
    ("utilities.water", "ул. Лаврова", "Третий день нет воды в доме 12 по улице Лаврова"),
    ("yard.garbage", "ул. Гоголя", "Во дворе дома 3 по улице Гоголя не вывозят мусор"),
    ("utilities.heating", "ул. Гагарина", "Батареи в доме 7 по улице Гагарина холодные"),
    ("roads.lighting", "ул. Мира", "На улице Мира не горят фонари у дома 14"),
    ("transport.routes", "ул. Липецкая", "Автобус на Липецкой ходит раз в час, битком"),
]


def test_new_problems_are_numbered_in_the_order_their_cases_came(
        session: Session, make_case: Callable[..., Case]) -> None:
    """A batch that opens several problems numbers them by its cases' order, so two
    processes (each with its own hash seed) number one stream's problems alike."""
    start = datetime(2026, 11, 2, 9, tzinfo=UTC)
    cases = []
    for i, (subtopic, street, text) in enumerate(SEVERAL):
        case = make_case(text=text, subtopic=subtopic, author=f"id60{i}",
                         created_at=start + timedelta(hours=i))
        case.street = street
        cases.append(case)
    session.flush()
    assign_problems(session, [c.id for c in cases])
    ids = [c.problem_id for c in cases]
    assert None not in ids and len(set(ids)) == len(cases)
    assert ids == sorted(ids)  # type: ignore[type-var]
