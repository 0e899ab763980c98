"""Problems: cases grouped automatically by topic, place, text and time (otklik.problems).

The clusterer keeps an index in memory per process; before each run it checks the stored
problems against it and, when another worker changed some, reloads just those (rebuilding
the whole index only when most of it changed), so several workers stay consistent without
each rebuilding it at every batch of the others. An operator's manual placement is pinned
and never undone automatically.

Titles follow the active rubricator (:func:`otklik.language.taxonomy_service.active_taxonomy`):
each run hands the index the version in use, and every problem's stored state names the
version its title was written with. A problem whose title follows another version is
re-titled at the next run (or at once by :func:`retitle_problems`, queued when a version
is activated), so an activation made anywhere, even by a CLI whose queued job is lost,
reaches the titles of the problems still in play.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from otklik.cases import problems_store
from otklik.cases.repository import CaseRepository
from otklik.db.base import utcnow
from otklik.language.taxonomy_service import active_taxonomy
from otklik.models.case import Problem
from otklik.nlp.taxonomy.taxonomy import Taxonomy
from otklik.problems.clustering import CaseFeatures, ProblemIndex, ProblemState
from otklik.territories.repository import TerritoryRepository

RETENTION = timedelta(days=120)
#: Problems changed elsewhere are reloaded one by one up to this share of the index (or
#: :data:`PATCH_MIN` of them); beyond it the index is rebuilt whole.
PATCH_SHARE = 0.25
PATCH_MIN = 200
_lock = threading.Lock()
_index: ProblemIndex | None = None
_known: dict[int, int] = {}  # problem id -> size, as this process last saw it


def queue_problem_assignment(session: Session, case_ids: Sequence[int]) -> None:
    """Cluster these cases after commit."""
    from otklik.cases.tasks import assign_problems_job
    from otklik.queue import enqueue_after_commit

    enqueue_after_commit(session, assign_problems_job, list(case_ids))


def _in_sync(session: Session, index: ProblemIndex, since: object) -> bool:
    """Bring the index in step with the stored problems (id and size, the cheap signs of a
    change): those another worker created, grew, merged or split are reloaded from their
    stored state under the key the index knows them by; those gone from the window are
    dropped. False when so many changed that a rebuild is the cheaper way, or when some the
    index holds are no longer stored at all (a rolled-back batch): then it is rebuilt."""
    stored: dict[int, int] = dict(session.execute(  # type: ignore[arg-type]
        select(Problem.id, Problem.size).where(Problem.last_seen >= since)).all())
    if stored == _known:
        return True
    changed = sorted(i for i, size in stored.items() if _known.get(i) != size)
    gone = sorted(i for i in _known if i not in stored)
    if len(changed) + len(gone) > max(PATCH_MIN, PATCH_SHARE * len(stored)):
        return False
    if gone and len(CaseRepository(session).problems_by_id(gone)) < len(gone):
        return False  # not aged out but missing (a rolled-back batch, an erasure): rebuild
    keys = {st.problem_id: key for key, st in index.problems.items()
            if st.problem_id is not None}
    for problem_id in gone:
        del _known[problem_id]
        if problem_id in keys:
            index.forget(keys[problem_id])
    for problem in CaseRepository(session).problems_by_id(changed).values():
        if held := keys.get(problem.id):
            index.forget(held)
        if problem.state:
            index.add_problem(ProblemState.from_dict({
                **problem.state, "problem_id": problem.id,
                "key": held or f"p{problem.id}"}), count_terms=False)
        _known[problem.id] = problem.size
    return True


def _rebuild(session: Session, taxonomy: Taxonomy) -> tuple[ProblemIndex, int]:
    global _index
    index = ProblemIndex(taxonomy=taxonomy)
    _known.clear()
    rows = CaseRepository(session).active_problems(utcnow() - RETENTION)
    for problem in rows:
        _known[problem.id] = problem.size
        if not problem.state:
            continue
        state = ProblemState.from_dict({**problem.state, "problem_id": problem.id,
                                        "key": f"p{problem.id}"})
        index.add_problem(state)
    _index = index
    return index, _follow_taxonomy(index, rows)


def _follow_taxonomy(index: ProblemIndex, rows: Sequence[Problem]) -> int:
    """Re-title the problems whose title follows another rubricator version than the
    index's, storing the new titles; returns how many titles changed."""
    stale = {st.problem_id: st for st in index.stale_titles() if st.problem_id is not None}
    changed = 0
    for row in rows:  # in id order: concurrent workers lock rows in the same order
        state = stale.get(row.id)
        if state is None:
            continue
        index.retitle(state)
        if row.title != state.title[:300]:
            row.title = state.title[:300]
            changed += 1
        row.state = {**(row.state or {}), "title": state.title,
                     "title_taxonomy": state.title_taxonomy}
    return changed


def _current(session: Session) -> tuple[ProblemIndex, int]:
    """This process's index, in step with the stored problems and the active rubricator,
    and how many stored titles that took changing (call under ``_lock``)."""
    taxonomy = active_taxonomy(session)
    if _index is None or not _in_sync(session, _index, utcnow() - RETENTION):
        return _rebuild(session, taxonomy)
    if _index.taxonomy is taxonomy:
        return _index, 0
    _index.taxonomy = taxonomy  # matching does not depend on it: no rebuild
    if not _index.stale_titles():
        return _index, 0
    rows = CaseRepository(session).active_problems(utcnow() - RETENTION)
    return _index, _follow_taxonomy(_index, rows)


def assign_problems(session: Session, case_ids: Sequence[int]) -> int:
    """Put cases into problems (new or existing); returns how many joined one."""
    if not case_ids:
        return 0
    with _lock:
        index, _ = _current(session)
        return _assign(session, index, case_ids)


def retitle_problems(session: Session) -> int:
    """Bring the titles of the problems still in play (seen within the retention) to the
    active rubricator; returns how many changed. Idempotent: a second run changes none."""
    with _lock:
        return _current(session)[1]


def _features(session: Session, cases: Sequence[Any]) -> dict[int, CaseFeatures]:
    """What the clusterer needs of each case, read for all of them in three queries."""
    first = CaseRepository(session).first_texts([c.id for c in cases])
    places = TerritoryRepository(session).many(
        t for c in cases for t in (c.settlement_id, c.municipality_id) if t is not None)
    features: dict[int, CaseFeatures] = {}
    for case in cases:
        primary = first.get(case.id)
        settlement = places.get(case.settlement_id) if case.settlement_id else None
        municipality = places.get(case.municipality_id) if case.municipality_id else None
        features[case.id] = CaseFeatures(
            case_id=case.id, created_at=case.received_at, topic=case.topic,
            subtopic=case.subtopic, region=case.region_code,
            municipality_id=case.municipality_id, settlement_id=case.settlement_id,
            street=case.street, house=case.house,
            text=primary[0] if primary else case.title,
            signature=primary[1] if primary else None,
            settlement_name=settlement.name if settlement else None,
            # The full name: a district's problem reads «… — Токарёвский район».
            municipality_name=municipality.name if municipality else None,
            settlement_population=settlement.population if settlement else None,
        )
    return features


def _assign(session: Session, index: ProblemIndex, case_ids: Sequence[int]) -> int:
    repo = CaseRepository(session)
    # the problems touched, in the order their cases came (a dict, not a set: new problems
    # are numbered in that order, the same in every process whatever its hash seed)
    changed: dict[str, None] = {}
    cases = repo.unplaced_cases(case_ids)  # oldest first: (received_at, id)
    features = _features(session, cases)
    placed: list[tuple[Any, str]] = []
    for case in cases:
        assignment = index.assign(features[case.id])
        if assignment.problem_key is None or assignment.pinned:
            continue
        changed[assignment.problem_key] = None
        placed.append((case, assignment.problem_key))
    # Problems whose title a new problem of the same subtopic and place refined.
    changed.update(dict.fromkeys(sorted(k for k in index.retitled if k in index.problems)))
    index.retitled.clear()
    # the problems written as rows (:mod:`otklik.cases.problems_store`): which of those the
    # index knows are stored (one may be gone: it is stored anew), ids for the new ones
    # taken at once, in the order of ``changed``
    known = problems_store.stored(session, [index.problems[key].problem_id for key in changed])
    new_keys = [key for key in changed if index.problems[key].problem_id not in known]
    ids = problems_store.take_ids(session, len(new_keys))
    ids_of = dict(zip(new_keys, ids, strict=True)) if ids is not None else {}
    fresh: list[Problem] = []
    written: list[dict[str, Any]] = []
    problem_of: dict[str, int] = {}
    for key in changed:
        state = index.problems[key]
        index.retitle(state)
        if state.problem_id not in known:
            row = Problem(
                region_code=state.region, title=state.title[:300], topic=state.topic,
                subtopic=state.subtopic, municipality_id=state.municipality_id,
                settlement_id=state.settlement_id, street=state.street,
                first_seen=state.first_seen, last_seen=state.last_seen, size=state.size)
            if key in ids_of:
                row.id = ids_of[key]
                index.set_problem_id(key, row.id)
                row.state = state.to_dict()
                fresh.append(row)
            else:  # no ids taken ahead: the database gives it one now
                index.set_problem_id(key, repo.add_problem(row).id)
                written.append(_changed(row.id, state))
        else:
            written.append(_changed(state.problem_id, state))
        problem_of[key] = cast(int, state.problem_id)
        _known[problem_of[key]] = state.size
    problems_store.insert(session, fresh)
    problems_store.write(session, written)
    # the problems first, then the cases' problem ids in one statement
    repo.set_problems([(case.id, case.version, problem_of[key]) for case, key in placed])
    return len(placed)


def _changed(problem_id: int, state: ProblemState) -> dict[str, Any]:
    """What a run stores of a problem it changed (:data:`problems_store.CHANGED`)."""
    return {"id": problem_id, "title": state.title[:300], "size": state.size,
            "last_seen": state.last_seen, "street": state.street, "subtopic": state.subtopic,
            "state": state.to_dict()}
