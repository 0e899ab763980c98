"""Assigning a case to a person: who may be given it, who may give it, history and the API."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy.orm import Session
from tests.builders import PASSWORD
from tests.conftest import login

from otklik.audit.actor import Actor
from otklik.cases import service
from otklik.cases.repository import CaseRepository
from otklik.errors import Conflict, InvalidInput, NotFound
from otklik.models.account import User
from otklik.models.case import Case, CaseStatus

from .conftest import michurinsk


def _routed(session: Session, make_case: Callable[..., Case], people: dict[str, Actor]) -> Case:
    _, org = michurinsk(session)
    case = make_case(text="На путепроводе по ул. Лаврова провал асфальта у второй опоры")
    service.route(session, people["operator"], case, org.id)
    return case


def test_operator_assigns_an_executor_of_the_case_and_history_records_it(
        session: Session, make_case: Callable[..., Case], people: dict[str, Actor]) -> None:
    case = _routed(session, make_case, people)
    executor_id = people["executor"].user_id
    names = {u.id for u in service.assignable(session, people["operator"], case)}
    assert {executor_id, people["operator"].user_id, people["curator"].user_id} <= names
    assert people["other_executor"].user_id not in names  # another organization
    assert people["samara_operator"].user_id not in names  # another region

    service.assign(session, people["operator"], case, executor_id, version=case.version)
    session.flush()
    assert case.assignee_id == executor_id
    event = CaseRepository(session).events(case.id)[-1]
    assert event.kind == "assign" and event.details["assignee"] == executor_id
    assert event.details["assignee_name"] == (session.get(User, executor_id).full_name
                                              or session.get(User, executor_id).username)
    service.assign(session, people["operator"], case, None)
    assert case.assignee_id is None


@pytest.mark.parametrize("outsider", ["other_executor", "samara_operator", "head"])
def test_only_staff_of_the_executor_or_the_center_may_be_assigned(
        session: Session, make_case: Callable[..., Case], people: dict[str, Actor],
        outsider: str) -> None:
    case = _routed(session, make_case, people)
    with pytest.raises(InvalidInput, match="cannot take this case"):
        service.assign(session, people["operator"], case, people[outsider].user_id)
    assert case.assignee_id is None


def test_executor_assigns_only_within_their_organization(
        session: Session, make_case: Callable[..., Case], people: dict[str, Actor]) -> None:
    case = _routed(session, make_case, people)
    executor = people["executor"]
    service.assign(session, executor, case, executor.user_id)
    assert case.assignee_id == executor.user_id
    with pytest.raises(InvalidInput):
        service.assign(session, executor, case, people["operator"].user_id)
    other = make_case(text="Во дворе на ул. Гоголя не горят фонари, темно и опасно")
    with pytest.raises(NotFound):
        service.assign(session, executor, other, executor.user_id)


def test_a_stale_version_or_a_closed_case_is_refused(
        session: Session, make_case: Callable[..., Case], people: dict[str, Actor]) -> None:
    case = _routed(session, make_case, people)
    with pytest.raises(Conflict, match="changed by someone else"):
        service.assign(session, people["operator"], case, people["operator"].user_id,
                       version=case.version - 1)
    case.status = CaseStatus.closed
    with pytest.raises(Conflict, match="cannot assign"):
        service.assign(session, people["operator"], case, people["operator"].user_id)


def test_assign_over_the_api(session: Session, client,  # type: ignore[no-untyped-def]
                             make_case: Callable[..., Case], people: dict[str, Actor]) -> None:
    case = _routed(session, make_case, people)
    operator = session.get(User, people["operator"].user_id)
    csrf = login(client, operator.username, PASSWORD)
    listed = client.get(f"/api/v1/cases/{case.id}/assignees").json()["items"]
    assert people["executor"].user_id in [u["id"] for u in listed]
    response = client.put(f"/api/v1/cases/{case.id}/assignee",
                          json={"assignee_id": people["executor"].user_id,
                                "version": case.version}, headers={"x-csrf-token": csrf})
    assert response.status_code == 200, response.text
    assert response.json()["assignee_id"] == people["executor"].user_id
    refused = client.put(f"/api/v1/cases/{case.id}/assignee",
                         json={"assignee_id": people["samara_operator"].user_id},
                         headers={"x-csrf-token": csrf})
    assert refused.status_code == 400 and "cannot take this case" in refused.json()["detail"]


def test_a_handed_back_case_leaves_the_executor_staff_member(
        session: Session, make_case: Callable[..., Case], people: dict[str, Actor]) -> None:
    case = _routed(session, make_case, people)
    service.assign(session, people["operator"], case, people["executor"].user_id)
    service.handback(session, people["executor"], case,
                     "Путепровод на балансе области, не муниципалитета")
    assert case.assignee_id is None and case.status == CaseStatus.triage
    mine = _routed(session, make_case, people)
    service.assign(session, people["operator"], mine, people["operator"].user_id)
    service.handback(session, people["executor"], mine, "Не наша территория, это Тамбов")
    assert mine.assignee_id == people["operator"].user_id  # center staff keep it
