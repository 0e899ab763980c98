"""Problem titles follow the active rubricator version (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.cases.problems import assign_problems, retitle_problems
from otklik.cases.repository import CaseRepository
from otklik.language import taxonomy_service
from otklik.models.case import Case, Problem
from otklik.nlp.taxonomy import editing, load_taxonomy
from otklik.queue import pending_mark

ADMIN = Actor.system("tests")
PACKAGED_NAME = "Мосты, путепроводы, эстакады"
NEW_NAME = "Путепроводы и эстакады"
# Nothing in it names a roads thing: the title says the subtopic.
VAGUE = "Когда уже кто-нибудь ответит, сил нет терпеть это безобразие"
# «парапет» is no word of the packaged roads lexicon.
PARAPET = "Парапет совсем рассыпался, кто-нибудь ответит?"
# Problems of the same street more than the matching window (45 days) apart stay apart;
# all of them are still in play (seen within the last 120 days).
DAYS_APART = 48


def _activate(session: Session, *, name: str | None = None, lexicon: str | None = None) -> None:
    document = taxonomy_service.current_document(session)
    if name:
        document = editing.rename(document, "roads.bridges", name)
    if lexicon:
        current = editing.format_lexicon(load_taxonomy()["roads.bridges"].lexicon)
        document = editing.set_lexicon(document, "roads.bridges", current + "\n" + lexicon)
    taxonomy_service.save_version(session, ADMIN, document, "test", activate=True)


def _problem(session: Session, make_case: Callable[..., Case], text: str, n: int) -> Problem:
    at = datetime.now(UTC) - timedelta(days=100 - DAYS_APART * n)
    case = make_case(text=text, author=f"id77{n}", created_at=at)
    assert assign_problems(session, [case.id]) == 1
    problem = CaseRepository(session).problem(case.problem_id or -1)
    assert problem is not None
    return problem


def test_packaged_rubricator_titles_as_before(session: Session,
                                             make_case: Callable[..., Case]) -> None:
    problem = _problem(session, make_case, VAGUE, 1)
    assert problem.title.startswith(PACKAGED_NAME), problem.title
    assert problem.state["title_taxonomy"] == load_taxonomy().version
    assert _problem(session, make_case, PARAPET, 2).title.startswith(PACKAGED_NAME)
    assert retitle_problems(session) == 0


def test_new_problem_uses_renamed_subtopic(session: Session,
                                           make_case: Callable[..., Case]) -> None:
    _activate(session, name=NEW_NAME)
    problem = _problem(session, make_case, VAGUE, 1)
    assert problem.title.startswith(NEW_NAME), problem.title
    assert problem.state["title_taxonomy"] == taxonomy_service.active_taxonomy(session).version


def test_added_lexicon_word_tells_problems_of_one_place_apart(
        session: Session, make_case: Callable[..., Case]) -> None:
    _activate(session, lexicon="парапет 2")
    vague = _problem(session, make_case, VAGUE, 1)
    alone = vague.title
    assert ":" not in alone and "(с " not in alone  # alone: the subtopic and the place
    parapet = _problem(session, make_case, PARAPET, 2)
    assert parapet.id != vague.id
    assert parapet.title.startswith(PACKAGED_NAME + ": парапет — "), parapet.title
    # The first problem of the same subtopic and place is re-titled and stored too.
    assert vague.title.startswith(alone + " (с "), vague.title
    assert vague.state["title"] == vague.title


def test_activation_retitles_problems_in_play(session: Session,
                                             make_case: Callable[..., Case]) -> None:
    vague = _problem(session, make_case, VAGUE, 1)
    parapet = _problem(session, make_case, PARAPET, 2)
    assert vague.id != parapet.id and vague.title.startswith(PACKAGED_NAME)
    mark = pending_mark(session)
    _activate(session, name=NEW_NAME, lexicon="парапет 2")
    queued = session.info["otklik_pending_jobs"][mark:]
    assert [actor.actor_name for actor, _ in queued] == ["retitle_problems_after_activation"]
    assert retitle_problems(session) == 2
    assert vague.title.startswith(NEW_NAME), vague.title
    assert parapet.title.startswith(NEW_NAME + ": парапет"), parapet.title
    assert vague.state["title"] == vague.title
    assert retitle_problems(session) == 0  # idempotent
    # Rolling back to the packaged rubricator brings the old names back.
    taxonomy_service.use_packaged(session, ADMIN)
    assert retitle_problems(session) == 2
    assert vague.title.startswith(PACKAGED_NAME) and parapet.title.startswith(PACKAGED_NAME)


def test_next_clustering_run_retitles_without_the_job(session: Session,
                                                      make_case: Callable[..., Case]) -> None:
    """An activation whose job never ran (a CLI with the in-process broker) still reaches
    the titles: the next clustering run notices the version and re-titles."""
    vague = _problem(session, make_case, VAGUE, 1)
    _activate(session, name=NEW_NAME)
    other = _problem(session, make_case, "Парапет на Лаврова в ужасном состоянии", 2)
    assert other.id != vague.id
    assert vague.title.startswith(NEW_NAME), vague.title
