"""The workspace pages through the TestClient: who sees what, forms, CSRF, escaping."""
# ruff: noqa: F811  (fixtures imported from tests/cases/conftest.py are parameters here)

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.cases.conftest import make_case, make_message, michurinsk  # noqa: F401

from otklik.audit.actor import Actor
from otklik.cases import actions, answers, service
from otklik.cases.repository import CaseRepository
from otklik.cases.schemas import CaseAction
from otklik.cases.service import case_from_message
from otklik.channels.schemas import IncomingMessage, Source
from otklik.db.base import utcnow
from otklik.intake.service import store_messages
from otklik.models.account import Role, User
from otklik.models.case import Case, CaseStatus, Label, Problem, Publication, RoutingRule
from otklik.models.message import Message, MessageEnrichment
from otklik.web.workspace_common import decisions, resident, safe_url

HTML = {"accept": "text/html"}
ROLES = {"operator": (Role.operator, "68", None), "samara_operator": (Role.operator, "36", None),
         "executor": (Role.executor, "68", "Мичуринска"),
         "other_executor": (Role.executor, "68", "Тамбова")}


class _People(dict):  # type: ignore[type-arg]
    """Users made on first use: hashing a password is slow, most tests need one or two."""

    def __init__(self, session: Session) -> None:
        super().__init__()
        self.session = session

    def __missing__(self, name: str) -> Actor:
        from otklik.accounts.scope import Scope
        from otklik.accounts.service import actor_for
        from otklik.models.organization import OrganizationKind
        from otklik.organizations.repository import OrganizationRepository

        role, region, org_name = ROLES[name]
        organization_id = None
        if org_name:
            organization_id = OrganizationRepository(self.session).page(
                Scope.system(), region_code=region, kind=OrganizationKind.municipal_admin,
                q=org_name, limit=1)[0][0].id
        user = make_user(self.session, role, [region], organization_id=organization_id)
        self[name] = actor_for(self.session, user)
        return self[name]


@pytest.fixture
def people(session: Session) -> _People:
    """An operator, an executor of Michurinsk, one of Tambov, an operator of Samara oblast."""
    return _People(session)
ANSWER = ("Ямочный ремонт путепровода на ул. Лаврова выполнит МБУ «Дорсервис» до 15 мая "
          "2027 г.; капитальный ремонт включён в программу на 2027 год.")
XSS = ("Помогите! <script>alert('x')</script> <img src=x onerror=alert(1)> "
       "\u202eтекст задом наперёд\u202c на ул. Ленина яма")


def _login(client: Any, session: Session, actor: Actor) -> str:
    user = session.get(User, actor.user_id)
    assert user is not None
    client.follow_redirects = False  # the tests look at each redirect
    csrf = str(client.get("/api/v1/auth/csrf").json()["csrf"])
    response = client.post("/login", data={"username": user.username, "password": PASSWORD,
                                           "csrf": csrf}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return str(client.get("/api/v1/auth/csrf").json()["csrf"])


def _xss_case(session: Session) -> Case:
    municipality_id, _ = michurinsk(session)
    store_messages(session, [IncomingMessage(
        source=Source.vk, source_id="wall-990_xss1", text=XSS, author_id="id666",
        author_name="<b>Вася</b>", created_at=datetime.now(UTC) - timedelta(hours=2),
        region="68", url="javascript:alert(document.cookie)",
        attachments=[{"url": "javascript:alert(2)", "type": "link", "title": "фото"},
                     {"url": "https://vk.com/photo-1_2", "type": "photo"}])], enqueue=False)
    message = session.scalars(select(Message).where(Message.source_id == "wall-990_xss1")).one()
    # Intake strips markup; the page must be safe even if a channel or an import did not.
    message.text = XSS
    enrichment = MessageEnrichment(
        message_id=message.id, relevant=True, kind="complaint", topic="roads",
        subtopic="roads.potholes", topic_confidence=0.8, sentiment="negative",
        urgency="normal", region_code="68", municipality_id=municipality_id,
        result={"topic": {"code": "roads", "name": "Дороги", "confidence": 0.8},
                "explain": {"topic": {"matched": {"roads": ["<script>яма</script>"]}}}})
    session.add(enrichment)
    session.flush()
    return case_from_message(session, Actor.system("tests"), message, enrichment)


# -- who sees what --------------------------------------------------------------------------------


def test_queue_lists_cases_with_counters_and_filters(
        session: Session, client: Any, make_case: Callable[..., Case],
        people: dict[str, Actor]) -> None:
    road = make_case(text="На путепроводе по ул. Лаврова провалился асфальт, нужен ремонт")
    waste = make_case(text="Во дворе на ул. Гоголя третью неделю не вывозят мусор",
                      topic="waste", subtopic=None)
    _login(client, session, people["operator"])
    page = client.get("/cases")
    assert page.status_code == 200
    assert f'data-case-id="{road.id}"' in page.text and f'data-case-id="{waste.id}"' in page.text
    assert 'data-testid="count-triage"' in page.text
    only_waste = client.get("/cases", params={"topic": "waste"}).text
    assert f'data-case-id="{waste.id}"' in only_waste
    assert f'data-case-id="{road.id}"' not in only_waste
    found = client.get("/cases", params={"q": "МУСОР"}).text
    assert f'data-case-id="{waste.id}"' in found and f'data-case-id="{road.id}"' not in found
    empty = client.get("/cases", params={"status": "answered", "overdue": "1"}).text
    assert "data-case-id=" not in empty


def test_other_region_operator_sees_nothing(session: Session, client: Any,
                                            make_case: Callable[..., Case],
                                            people: dict[str, Actor]) -> None:
    case = make_case()
    _login(client, session, people["samara_operator"])
    assert f'data-case-id="{case.id}"' not in client.get("/cases").text
    assert client.get(f"/cases/{case.id}", headers=HTML).status_code == 404


def test_executor_cabinet_lists_only_their_organization(
        session: Session, client: Any, make_case: Callable[..., Case],
        people: dict[str, Actor]) -> None:
    _, org = michurinsk(session)
    ours = make_case(text="Яма на путепроводе по ул. Лаврова, колёса бьются")
    theirs = make_case(text="На ул. Советской в Тамбове не горят фонари", author="id7")
    service.route(session, people["operator"], ours, org.id)
    theirs.executor_id = people["other_executor"].scope.organization_id
    theirs.status = CaseStatus.routed
    session.flush()
    _login(client, session, people["executor"])
    assert client.get("/cases", follow_redirects=False).headers["location"] == "/my"
    cabinet = client.get("/my").text
    assert f'data-case-id="{ours.id}"' in cabinet
    assert f'data-case-id="{theirs.id}"' not in cabinet
    assert client.get(f"/cases/{theirs.id}", headers=HTML).status_code == 404
    assert client.get(f"/cases/{ours.id}").status_code == 200


def test_executor_is_refused_operator_pages(session: Session, client: Any,
                                            people: dict[str, Actor]) -> None:
    _login(client, session, people["executor"])
    for path in ("/triage", "/moderation", "/admin/rules", "/admin/policies", "/admin/calendar",
                 "/admin/connectors", "/admin/models", "/admin/users/new"):
        assert client.get(path, headers=HTML).status_code == 403, path
    # Problems are scoped like cases: an executor sees those holding its cases (none here).
    assert 'data-href="/problems/' not in client.get("/problems", headers=HTML).text


def test_pages_render_for_the_roles_that_use_them(
        session: Session, client: Any, make_case: Callable[..., Case],
        people: dict[str, Actor]) -> None:
    make_case()
    _login(client, session, people["operator"])
    for path in ("/cases", "/triage", "/moderation", "/problems", "/admin/taxonomy", "/admin"):
        assert client.get(path).status_code == 200, path
    assert client.get("/my", headers=HTML).status_code == 403
    assert client.get("/admin/rules", headers=HTML).status_code == 403
    client.cookies.clear()
    admin = make_user(session, Role.admin, ["68"])
    csrf = str(client.get("/api/v1/auth/csrf").json()["csrf"])
    assert client.post("/login", data={"username": admin.username, "password": PASSWORD,
                                       "csrf": csrf}, follow_redirects=False).status_code == 303
    for path in ("/admin/rules?region=68", "/admin/policies", "/admin/calendar",
                 "/admin/connectors", "/admin/models", "/admin/users/new", "/admin/taxonomy"):
        assert client.get(path).status_code == 200, path
    assert "Дороги" in client.get("/admin/taxonomy").text


def test_anonymous_is_sent_to_login(client: Any) -> None:
    response = client.get("/cases", headers=HTML, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")


# -- safety ---------------------------------------------------------------------------------------


def test_resident_text_is_escaped_and_bidi_controls_are_visible(
        session: Session, client: Any, people: dict[str, Actor]) -> None:
    case = _xss_case(session)
    _login(client, session, people["operator"])
    for path in (f"/cases/{case.id}", "/cases", "/triage"):
        html = client.get(path).text
        assert "<script>alert" not in html and "<img src=x" not in html, path
        assert "\u202e" not in html, path
        assert "[U+202E]" in html, path
    card = client.get(f"/cases/{case.id}").text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in card
    assert "&lt;b&gt;Вася&lt;/b&gt;" in card
    assert 'href="javascript:' not in card
    assert 'href="https://vk.com/photo-1_2" rel="noopener noreferrer nofollow"' in card
    assert "script-src 'self'" in client.get(f"/cases/{case.id}").headers[
        "content-security-policy"]


def test_safe_url_and_resident_filters() -> None:
    assert safe_url("https://vk.com/wall-1_2") == "https://vk.com/wall-1_2"
    for bad in ("javascript:alert(1)", " JaVaScRiPt:alert(1)", "data:text/html,x", "//evil",
                "https://evil.example/\u202egpj.exe", None, 5):
        assert safe_url(bad) is None
    assert resident("abc\u2066def\u2069") == "abc[U+2066]def[U+2069]"


def test_decisions_carry_confidence_and_reasons() -> None:
    result = {"topic": {"code": "roads", "name": "Дороги", "confidence": 0.61},
              "urgency": {"level": "high", "signals": ["children"], "confidence": 0.7},
              "sentiment": {"value": "negative", "confidence": 0.8},
              "territory": {"municipality": {"name": "город Мичуринск"}, "street": "улица Лаврова",
                            "confidence": 0.98},
              "explain": {"topic": {"matched": {"roads": ["путепровод", "яма"]}},
                          "sentiment": {"matches": [["ямы", -0.84]]},
                          "territory": {"mentions": [{"span": "Мичуринске"}]}}}
    got = decisions(result)
    assert got["topic"].confidence == 0.61 and "путепровод" in got["topic"].reasons[0]
    assert got["place"].value == "город Мичуринск, улица Лаврова"
    assert got["place"].reasons == ["«Мичуринске»"]
    assert got["urgency"].reasons == ["children"] and got["sentiment"].reasons == ["ямы"]


@pytest.mark.parametrize("path", ["/cases/{id}/do/route", "/cases/{id}/edit", "/cases/bulk"])
def test_forms_without_csrf_are_refused(session: Session, client: Any, path: str,
                                        make_case: Callable[..., Case],
                                        people: dict[str, Actor]) -> None:
    case = make_case()
    _, org = michurinsk(session)
    _login(client, session, people["operator"])
    response = client.post(path.format(id=case.id),
                           data={"executor_id": org.id, "fields": "urgency", "urgency": "high",
                                 "op": "route", "ids": [case.id], "csrf": "forged"})
    assert response.status_code == 403
    assert case.status == CaseStatus.triage and case.urgency == "normal"


# -- doing things ---------------------------------------------------------------------------------


def test_operator_corrects_topic_then_routes(session: Session, client: Any,
                                             make_case: Callable[..., Case],
                                             people: dict[str, Actor]) -> None:
    case = make_case(text="Во дворе дома 5 по ул. Лаврова переполнены контейнеры",
                     topic="roads", subtopic="roads.potholes")
    _, org = michurinsk(session)
    csrf = _login(client, session, people["operator"])
    edited = client.post(f"/cases/{case.id}/edit", data={
        "csrf": csrf, "version": case.version, "fields": "topic", "topic": "waste"})
    assert edited.status_code == 303
    assert case.topic == "waste" and case.subtopic is None
    label = session.scalars(select(Label).where(Label.case_id == case.id,
                                                Label.field == "topic")).one()
    assert (label.previous, label.value) == ("roads", "waste")
    routed = client.post(f"/cases/{case.id}/do/route", data={
        "csrf": csrf, "version": case.version, "executor_id": org.id})
    assert routed.status_code == 303 and case.status == CaseStatus.routed
    assert case.executor_id == org.id
    card = client.get(f"/cases/{case.id}").text
    assert "Направить: готово" in card and 'data-testid="case-executor"' in card


def test_a_refused_action_shows_why_and_changes_nothing(
        session: Session, client: Any, make_case: Callable[..., Case],
        people: dict[str, Actor]) -> None:
    case = make_case()
    csrf = _login(client, session, people["operator"])
    stale = client.post(f"/cases/{case.id}/do/route", data={
        "csrf": csrf, "version": case.version - 1 if case.version > 1 else 999,
        "executor_id": michurinsk(session)[1].id})
    assert stale.status_code == 409 and 'data-testid="form-error"' in stale.text
    assert case.status == CaseStatus.triage and case.executor_id is None


def test_bulk_reject_and_merge(session: Session, client: Any, make_case: Callable[..., Case],
                               people: dict[str, Actor]) -> None:
    spam = [make_case(text=f"Купите окна недорого, звоните {i}", author=f"id9{i}")
            for i in range(2)]
    same = [make_case(text="Яма на путепроводе ул. Лаврова", author=f"id8{i}") for i in range(2)]
    csrf = _login(client, session, people["operator"])
    client.post("/cases/bulk", data={"csrf": csrf, "op": "reject", "reason": "spam",
                                     "ids": [c.id for c in spam]})
    assert all(c.status == CaseStatus.rejected and c.reject_reason == "spam" for c in spam)
    client.post("/cases/bulk", data={"csrf": csrf, "op": "merge", "ids": [c.id for c in same]})
    assert same[1].merged_into_id == same[0].id
    assert len(CaseRepository(session).messages(same[0].id)) == 2


def test_executor_answers_operator_approves_and_it_is_published(
        session: Session, client: Any, make_case: Callable[..., Case],
        people: dict[str, Actor]) -> None:
    _, org = michurinsk(session)
    case = make_case()
    service.route(session, people["operator"], case, org.id)
    csrf = _login(client, session, people["executor"])
    for action, data in (("accept", {}), ("draft_answer", {"text": ANSWER}), ("submit", {})):
        response = client.post(f"/cases/{case.id}/do/{action}",
                               data={"csrf": csrf, "version": case.version, **data})
        assert response.status_code == 303, response.text
    assert case.status == CaseStatus.on_moderation
    client.cookies.clear()
    csrf = _login(client, session, people["operator"])
    queue = client.get("/moderation").text
    assert "МБУ «Дорсервис»" in queue.replace("&#34;", '"').replace("&laquo;", "«")
    approved = client.post(f"/cases/{case.id}/do/approve",
                           data={"csrf": csrf, "version": case.version, "back": "/moderation"})
    assert approved.headers["location"] == "/moderation"
    assert case.status == CaseStatus.answered
    final = next(a for a in CaseRepository(session).answers(case.id) if a.kind == "final")
    from otklik.cases import publishing

    publishing.publish(session, final.id)
    rows = session.scalars(select(Publication).where(Publication.answer_id == final.id)).all()
    assert rows and all(r.status == "no_channel" for r in rows)
    card = client.get(f"/cases/{case.id}").text
    assert "опубликовано (без канала)" in card and "отвечено" in card


def test_triage_preselects_the_rule_and_moderation_shows_flags(
        session: Session, client: Any, make_case: Callable[..., Case],
        people: dict[str, Actor]) -> None:
    _, org = michurinsk(session)
    case = make_case()
    case.routing = {"executor_id": org.id, "from_rule": False, "learned": {}}
    other = make_case(author="id55")
    service.route(session, people["operator"], other, org.id)
    actions.perform(session, people["executor"], other, "accept", CaseAction())
    answers.draft(session, people["executor"], other, "Ваше обращение рассмотрено, "
                  "информация принята к сведению.")
    answers.submit(session, people["executor"], other)
    session.flush()
    _login(client, session, people["operator"])
    triage = client.get("/triage").text
    assert f'<option value="{org.id}" selected>' in triage
    moderation = client.get("/moderation").text
    assert 'class="flag' in moderation


def test_problem_page_and_bulk_answer(session: Session, client: Any,
                                      make_case: Callable[..., Case],
                                      people: dict[str, Actor]) -> None:
    problem = Problem(region_code="68", title="Путепровод на ул. Лаврова", topic="roads",
                      first_seen=utcnow(), last_seen=utcnow(), size=2)
    session.add(problem)
    session.flush()
    cases = [make_case(author=f"id77{i}") for i in range(2)]
    for case in cases:
        case.problem_id = problem.id
    session.flush()
    csrf = _login(client, session, people["operator"])
    page = client.get(f"/problems/{problem.id}").text
    assert 'class="timeline"' in page and all(f"№ {c.id}" in page for c in cases)
    # The map: both cases at Michurinsk's centre (approximate), inside Tambov oblast.
    import json
    import re

    block = re.search(r'<script type="application/json" id="an-data">(.*?)</script>', page, re.S)
    assert block is not None
    shown = json.loads(block[1])["map"]
    assert shown["focus"] == ["68"] and shown["regions"][0]["messages"] == 2
    assert [(p["name"], p["messages"]) for p in shown["points"]] == [("город Мичуринск", 2)]
    assert "Путепровод на ул. Лаврова" in client.get("/problems").text
    short = client.post(f"/problems/{problem.id}/answer", data={"csrf": csrf, "text": "Ок"})
    assert short.status_code == 400
    done = client.post(f"/problems/{problem.id}/answer", data={"csrf": csrf, "text": ANSWER})
    assert done.status_code == 303
    assert all(c.status == CaseStatus.answered for c in cases)
    assert_no_jobs_sent()


def assert_no_jobs_sent() -> None:
    """Jobs wait for the (never made) commit: nothing reached the broker (but the audit
    sealer, which follows any real commit, such as the login's own unit of work)."""
    from otklik.queue import broker

    assert all(q.qsize() == 0 for name, q in getattr(broker, "queues", {}).items()
               if name != "audit")


def test_admin_adds_a_rule_and_a_user(session: Session, client: Any,
                                      people: dict[str, Actor]) -> None:
    _, org = michurinsk(session)
    admin = make_user(session, Role.admin, ["68"])
    client.follow_redirects = False
    csrf = str(client.get("/api/v1/auth/csrf").json()["csrf"])
    client.post("/login", data={"username": admin.username, "password": PASSWORD, "csrf": csrf})
    csrf = str(client.get("/api/v1/auth/csrf").json()["csrf"])
    added = client.post("/admin/rules", data={"csrf": csrf, "region_code": "68",
                                              "executor_id": org.id, "topic": "roads.bridges",
                                              "position": "10", "note": "мосты"})
    assert added.status_code == 303
    rule = session.scalars(select(RoutingRule).where(RoutingRule.note == "мосты")).one()
    assert (rule.topic, rule.subtopic, rule.executor_id) == ("roads", "roads.bridges", org.id)
    bad = client.post("/admin/policies", data={"csrf": csrf, "region_code": "68",
                                               "policy": "{not json"})
    assert bad.status_code == 400 and "JSON" in bad.text
    created = client.post("/admin/users/new", data={
        "csrf": csrf, "username": "ivanova.mo", "full_name": "Иванова М. О.",
        "password": "длинный пароль 2026", "role": "executor", "region_codes": ["68"],
        "organization_id": org.id})
    assert created.status_code == 303
    user = session.scalars(select(User).where(User.username == "ivanova.mo")).one()
    assert user.organization_id == org.id and user.role == Role.executor
    refused = client.post("/admin/users/new", data={
        "csrf": csrf, "username": "petrov", "password": "длинный пароль 2026",
        "role": "executor", "region_codes": ["68"]})
    assert refused.status_code == 400 and 'data-testid="form-error"' in refused.text


def test_new_case_counter(session: Session, client: Any, make_case: Callable[..., Case],
                          people: dict[str, Actor]) -> None:
    _login(client, session, people["operator"])
    since = (utcnow() - timedelta(minutes=5)).isoformat()
    make_case()
    assert client.get("/cases/new-count", params={"since": since}).json()["count"] >= 1
    later = (utcnow() + timedelta(minutes=5)).isoformat()
    assert client.get("/cases/new-count", params={"since": later}).json()["count"] == 0


def test_english_switch(session: Session, client: Any, make_case: Callable[..., Case],
                        people: dict[str, Actor]) -> None:
    case = make_case()
    _login(client, session, people["operator"])
    client.get("/lang/en")
    page = client.get(f"/cases/{case.id}").text
    assert "What the system decided" in page and "Deadline clock" in page
    client.get("/lang/ru")
    assert "Что решила система" in client.get(f"/cases/{case.id}").text


def test_pages_name_topics_by_the_rubricator_in_use(session: Session, client: Any,
                                                    make_case: Callable[..., Case],
                                                    people: dict[str, Actor]) -> None:
    from otklik.language import taxonomy_service
    from otklik.nlp.taxonomy import editing

    case = make_case()
    renamed = editing.rename(taxonomy_service.current_document(session), "roads.bridges",
                             "Мосты, путепроводы и эстакады")
    taxonomy_service.save_version(session, Actor.system("tests"), renamed, "переименование",
                                  activate=True)
    _login(client, session, people["operator"])
    assert "Мосты, путепроводы и эстакады" in client.get(f"/cases/{case.id}", headers=HTML).text
    assert "Мосты, путепроводы и эстакады" in client.get("/cases").text


def test_the_queue_shows_what_is_still_to_be_done_unless_asked_for_all(
        session: Session, client: Any, make_case: Callable[..., Case],
        people: dict[str, Actor]) -> None:
    from otklik.cases import service as case_service

    pending = make_case(text="Яма на ул. Лаврова у дома 57, не проехать")
    done = make_case(text="Реклама: продаю гараж недорого")
    case_service.reject(session, people["operator"], done, "not_for_authorities")
    _login(client, session, people["operator"])

    default = client.get("/cases").text
    assert f'data-case-id="{pending.id}"' in default
    assert f'data-case-id="{done.id}"' not in default
    assert 'data-testid="count-open"' in default
    everything = client.get("/cases", params={"status": "all"}).text
    assert f'data-case-id="{pending.id}"' in everything
    assert f'data-case-id="{done.id}"' in everything
    rejected = client.get("/cases", params={"status": "rejected"}).text
    assert f'data-case-id="{done.id}"' in rejected
    assert f'data-case-id="{pending.id}"' not in rejected
