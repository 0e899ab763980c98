"""Queue additions of issue 6: saved views, assignment, split, keyset pages, capped counts,
full-text search over message text."""
# ruff: noqa: F811  (fixtures imported from other test modules are parameters here)

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session
from tests.cases.conftest import make_case, make_message, michurinsk  # noqa: F401
from tests.web.test_workspace import _login, people  # noqa: F401

from otklik.accounts.scope import Scope
from otklik.audit.actor import Actor
from otklik.cases import service
from otklik.cases.answers import answer_context
from otklik.cases.repository import CaseRepository
from otklik.db.base import utcnow
from otklik.errors import NotFound
from otklik.models.case import Case, CaseStatus
from otklik.models.message import Message
from otklik.models.workspace import SavedView
from otklik.web import workspace_queries as wq
from otklik.workspace import service as views

TAMBOV = Scope(region_codes=frozenset({"68"}), permissions=frozenset({"read", "triage"}))


# -- saved views ----------------------------------------------------------------------------------


def test_save_a_view_open_it_and_delete_it(session: Session, client: Any,
                                           make_case: Callable[..., Case],
                                           people: dict[str, Actor]) -> None:
    waste = make_case(text="Во дворе на ул. Гоголя третью неделю не вывозят мусор",
                      topic="waste", subtopic=None)
    road = make_case(text="На путепроводе по ул. Лаврова провалился асфальт")
    csrf = _login(client, session, people["operator"])
    saved = client.post("/cases/views", data={
        "csrf": csrf, "name": "Мусор, на разборе",
        "query": "topic=waste&status=triage&after=2026-01-01~5&page=3&evil=1"})
    assert saved.status_code == 303
    assert saved.headers["location"] == "/cases?topic=waste&status=triage"
    view = session.query(SavedView).filter_by(user_id=people["operator"].user_id).one()
    assert view.query == "topic=waste&status=triage"  # no cursor, no unknown keys

    queue = client.get("/cases").text
    assert 'data-testid="saved-view"' in queue and "Мусор, на разборе" in queue
    opened = client.get("/cases?" + view.query).text
    assert f'data-case-id="{waste.id}"' in opened and f'data-case-id="{road.id}"' not in opened
    assert 'aria-current="true">Мусор, на разборе' in opened

    # The same name replaces the filters; another user never sees the view.
    client.post("/cases/views", data={"csrf": csrf, "name": "Мусор, на разборе",
                                      "query": "topic=waste"})
    session.refresh(view)
    assert view.query == "topic=waste"
    assert views.list_views(session, people["samara_operator"]) == []
    with pytest.raises(NotFound):
        views.delete_view(session, people["samara_operator"], view.id)

    deleted = client.post(f"/cases/views/{view.id}/delete", data={"csrf": csrf})
    assert deleted.status_code == 303
    assert session.query(SavedView).filter_by(id=view.id).first() is None


def test_a_view_needs_a_name(session: Session, client: Any, people: dict[str, Actor]) -> None:
    csrf = _login(client, session, people["operator"])
    client.post("/cases/views", data={"csrf": csrf, "name": "   ", "query": "topic=roads"})
    assert session.query(SavedView).count() == 0
    assert "name the view" in client.get("/cases").text


# -- assignment -----------------------------------------------------------------------------------


def test_assign_on_the_card_then_find_it_under_mine(
        session: Session, client: Any, make_case: Callable[..., Case],
        people: dict[str, Actor]) -> None:
    case = make_case(text="Яма на путепроводе по ул. Лаврова, бьются колёса")
    other = make_case(text="Во дворе на ул. Гоголя не горят фонари", author="id8")
    operator = people["operator"]
    csrf = _login(client, session, operator)
    card = client.get(f"/cases/{case.id}").text
    assert 'id="assign-user"' in card and 'data-shortcut="a"' in card
    done = client.post(f"/cases/{case.id}/assign", data={
        "csrf": csrf, "version": case.version, "assignee_id": operator.user_id})
    assert done.status_code == 303
    assert case.assignee_id == operator.user_id
    card = client.get(f"/cases/{case.id}").text
    name = wq.user_names(session, [operator.user_id])[operator.user_id]
    assert f'data-testid="case-assignee">{name}<' in card
    mine = client.get("/cases", params={"mine": "1"}).text
    assert f'data-case-id="{case.id}"' in mine and f'data-case-id="{other.id}"' not in mine
    refused = client.post(f"/cases/{case.id}/assign", data={
        "csrf": csrf, "assignee_id": people["samara_operator"].user_id})
    assert refused.status_code == 400 and "cannot take this case" in refused.text


def test_bulk_assign_from_the_queue(session: Session, client: Any,
                                    make_case: Callable[..., Case],
                                    people: dict[str, Actor]) -> None:
    first = make_case(text="Не вывозят мусор с площадки на ул. Гоголя", topic="waste",
                      subtopic=None)
    second = make_case(text="Переполнены контейнеры на ул. Мира", topic="waste",
                       subtopic=None, author="id9")
    operator = people["operator"]
    csrf = _login(client, session, people["operator"])
    queue = client.get("/cases").text
    assert '<option value="assign">' in queue
    response = client.post("/cases/bulk", data={
        "csrf": csrf, "op": "assign", "ids": [first.id, second.id],
        "assignee_id": operator.user_id, "back": "/cases"})
    assert response.status_code == 303
    assert first.assignee_id == second.assignee_id == operator.user_id
    listed = client.get("/cases", params={"topic": "waste"}).text
    name = wq.user_names(session, [operator.user_id])[operator.user_id]
    assert listed.count(f'data-testid="row-assignee">{name}<') == 2


# -- split ----------------------------------------------------------------------------------------


def test_split_messages_into_a_new_case_on_the_card(
        session: Session, client: Any, make_case: Callable[..., Case],
        make_message: Callable[..., Message], people: dict[str, Actor]) -> None:
    case = make_case(text="На путепроводе по ул. Лаврова огромные ямы")
    stray = make_message("А ещё у школы № 5 не убирают снег с тротуара", author="id42")
    service.attach_message(session, Actor.system("tests"), case, stray, reason="comment")
    session.flush()
    csrf = _login(client, session, people["operator"])
    card = client.get(f"/cases/{case.id}").text
    assert 'data-testid="split"' in card and f'value="{stray.id}"' in card
    response = client.post(f"/cases/{case.id}/split",
                           data={"csrf": csrf, "message_ids": [stray.id]})
    assert response.status_code == 303
    new_id = int(response.headers["location"].rsplit("/", 1)[1])
    assert new_id != case.id
    repo = CaseRepository(session)
    assert [m.id for m in repo.messages(new_id)] == [stray.id]
    assert stray.id not in [m.id for m in repo.messages(case.id)]
    assert "у школы № 5" in client.get(f"/cases/{new_id}").text
    everything = [m.id for m in repo.messages(case.id)]
    refused = client.post(f"/cases/{case.id}/split",
                          data={"csrf": csrf, "message_ids": everything})
    assert refused.status_code == 400 and "leave at least one message" in refused.text


# -- keyset pages, capped counts, search ----------------------------------------------------------


@pytest.mark.parametrize("q", [None, "Лаврова"])  # SQL keyset, and a search's one pass
@pytest.mark.parametrize("sort", ["deadline", "newest", "oldest"])
def test_keyset_pages_walk_every_case_once(session: Session, make_case: Callable[..., Case],
                                           sort: str, q: str | None) -> None:
    now = utcnow()
    made = [make_case(text=f"Яма на ул. Лаврова у дома {n}, нужен ремонт", author=f"id{n}",
                      created_at=now - timedelta(hours=n)) for n in range(1, 8)]
    # Some with a deadline (two share one), some without: both ranges must be walked.
    for n, case in enumerate(made[:4]):
        case.resolution_due = now + timedelta(days=1 + min(n, 2))
    session.flush()
    ids = {c.id for c in made}
    seen: list[int] = []
    key = None
    f = wq.QueueFilter(q=q, sort=sort)
    for _ in range(10):
        page = wq.queue(session, TAMBOV, f, now, limit=2, after=key, with_counts=False)
        seen += [c.id for c in page.rows]
        key = page.next_key
        if key is None:
            break
    mine = [i for i in seen if i in ids]
    assert sorted(mine) == sorted(ids) and len(mine) == len(set(mine))
    if sort == "deadline":
        dated = [c.id for c in sorted(made[:4], key=lambda c: (c.resolution_due, c.id))]
        assert mine[:4] == dated
    if sort == "newest":
        assert mine == [c.id for c in made]


def test_counts_stop_at_the_cap(session: Session, make_case: Callable[..., Case]) -> None:
    for n in range(4):
        make_case(text=f"Не вывозят мусор на ул. Гоголя, дом {n}", topic="waste",
                  subtopic=None, author=f"id{n}")
    f = wq.QueueFilter(topic="waste")
    exact = wq.status_counts(session, TAMBOV, f, utcnow(), cap=100)
    assert exact[""] >= 4 and exact["triage"] >= 4
    capped = wq.status_counts(session, TAMBOV, f, utcnow(), cap=2)
    assert capped[""] == 3 and capped["triage"] == 3 and capped["closed"] == 0
    tabs = wq.status_counts(session, TAMBOV, f, utcnow(), cap=2, status_cap=1)
    assert tabs[""] == 3 and tabs["triage"] == 2  # "более 1" on the tab

def test_full_text_search_finds_other_word_forms(session: Session,
                                                 make_case: Callable[..., Case]) -> None:
    pipe = make_case(text="Прорвало трубу во дворе дома 12 на ул. Мира, вода течёт в подвал",
                     topic="utilities", subtopic=None)
    road = make_case(text="Яма на ул. Лаврова", author="id77")
    for q in ("трубы", "труба прорвало"):
        found = wq.queue(session, TAMBOV, wq.QueueFilter(q=q), utcnow(), limit=50).rows
        assert pipe.id in [c.id for c in found] and road.id not in [c.id for c in found], q


def test_fts5_query_reads_the_web_search_syntax() -> None:
    assert wq.fts5_query("Трубы прорвало") == '"труб"* "прорвал"*'
    assert wq.fts5_query('"горячей воды" нет') == '"горячей воды" "нет"*'
    assert wq.fts5_query("свет or электричество") == '"свет"* OR "электричеств"*'
    assert wq.fts5_query("яма -путепровод") == '("ям"*) NOT "путепровод"*'
    assert wq.fts5_query('Ленина "; DROP') == '"ленин"* "drop"*'
    assert wq.fts5_query("-только") is None and wq.fts5_query("  ") is None


def test_search_syntax_excludes_and_alternates(session: Session,
                                               make_case: Callable[..., Case]) -> None:
    bridge = make_case(text="Яма на путепроводе по ул. Лаврова")
    yard = make_case(text="Глубокая яма во дворе дома 3 на ул. Мира", author="id31")
    light = make_case(text="Не горят фонари на ул. Садовой", topic="improvement",
                      subtopic=None, author="id32")

    def found(q: str) -> set[int]:
        rows = wq.queue(session, TAMBOV, wq.QueueFilter(q=q), utcnow(), limit=50).rows
        return {c.id for c in rows} & {bridge.id, yard.id, light.id}

    assert found("яма -путепровод") == {yard.id}
    assert found("путепровод or фонари") == {bridge.id, light.id}


def test_search_without_fts5_falls_back_to_substrings(
        session: Session, make_case: Callable[..., Case],
        monkeypatch: pytest.MonkeyPatch) -> None:
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("the fallback is SQLite's")
    case = make_case(text="Прорвало трубу на ул. Мира")
    monkeypatch.setattr(wq, "_has_fts5_table", lambda _session: False)
    rows = wq.queue(session, TAMBOV, wq.QueueFilter(q="ТРУБУ"), utcnow(), limit=50).rows
    assert case.id in [c.id for c in rows]
    assert not wq.queue(session, TAMBOV, wq.QueueFilter(q="трубы"), utcnow(), limit=50).rows


def test_queue_labels_capped_totals(session: Session, client: Any,
                                    make_case: Callable[..., Case], people: dict[str, Actor],
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    for n in range(3):
        make_case(text=f"Яма на ул. Лаврова у дома {n}", author=f"id{n}")
    monkeypatch.setattr(wq, "COUNT_CAP", 1)
    _login(client, session, people["operator"])
    page = client.get("/cases").text
    total = re.search(r'data-testid="queue-total">(.*?)</span></h1>', page, re.S)
    assert total and "более 1" in total.group(1)


def test_answer_context_is_public(session: Session, make_case: Callable[..., Case]) -> None:
    _, org = michurinsk(session)
    case = make_case()
    context = answer_context(case, org)
    assert context["case_number"] == case.id and context["executor"] == org.name
    assert context["topic"] == "Дороги"
    assert context["address"] == "ул. Лаврова" and case.status == CaseStatus.triage
    from otklik.language import taxonomy_service
    from otklik.nlp.taxonomy import editing

    renamed = editing.rename(taxonomy_service.current_document(session), "roads",
                             "Дороги и мосты")
    taxonomy_service.save_version(session, Actor.system("tests"), renamed, "переименование",
                                  activate=True)
    assert answer_context(case, org)["topic"] == "Дороги и мосты"


@pytest.mark.parametrize("after", ["garbage", "2026-01-01~5", "~7", "2026-13-45T99~x"])
def test_a_hand_made_page_key_is_harmless(session: Session, client: Any,
                                          make_case: Callable[..., Case],
                                          people: dict[str, Actor], after: str) -> None:
    make_case()
    _login(client, session, people["operator"])
    for sort in ("deadline", "newest"):
        assert client.get("/cases", params={"after": after, "sort": sort}).status_code == 200
