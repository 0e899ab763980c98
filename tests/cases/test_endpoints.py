"""The cases API: scoped lists, the card, actions with optimistic locking, problems, rules."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.conftest import login

from otklik.models.account import Role
from otklik.models.case import Case

from .conftest import michurinsk


def _login(client, session: Session, role: Role, **kwargs: object) -> str:  # type: ignore[no-untyped-def]
    user = make_user(session, role, ["68"], **kwargs)  # type: ignore[arg-type]
    client.cookies.clear()
    return login(client, user.username, PASSWORD)


def test_operator_routes_and_executor_answers_over_the_api(
        session: Session, client, make_case: Callable[..., Case]) -> None:  # type: ignore[no-untyped-def]
    case = make_case()
    _, org = michurinsk(session)
    csrf = _login(client, session, Role.operator)
    listed = client.get("/api/v1/cases", params={"status": "triage"}).json()
    assert case.id in [c["id"] for c in listed["items"]]
    card = client.get(f"/api/v1/cases/{case.id}").json()
    assert card["messages"] and "route" in card["allowed_actions"]
    routed = client.post(f"/api/v1/cases/{case.id}/actions/route",
                         json={"executor_id": org.id, "version": card["version"]},
                         headers={"x-csrf-token": csrf})
    assert routed.status_code == 200, routed.text
    stale = client.post(f"/api/v1/cases/{case.id}/actions/triage",
                        json={"version": card["version"]}, headers={"x-csrf-token": csrf})
    assert stale.status_code == 409 and "changed by someone else" in stale.json()["detail"]

    csrf = _login(client, session, Role.executor, organization_id=org.id)
    mine = client.get("/api/v1/cases").json()
    assert [c["id"] for c in mine["items"]] == [case.id]
    for action, body in [("accept", {}), ("draft_answer", {"text": (
            "Выполнен ремонт покрытия путепровода 12 декабря 2026 г., капитальный ремонт "
            "запланирован до 1 июля 2027 г.")}), ("submit", {})]:
        response = client.post(f"/api/v1/cases/{case.id}/actions/{action}", json=body,
                               headers={"x-csrf-token": csrf})
        assert response.status_code == 200, (action, response.text)
    refused = client.post(f"/api/v1/cases/{case.id}/actions/approve", json={},
                          headers={"x-csrf-token": csrf})
    assert refused.status_code == 403


def test_api_refusals_say_why(session: Session, client,
                              make_case: Callable[..., Case]) -> None:  # type: ignore[no-untyped-def]
    case = make_case()
    csrf = _login(client, session, Role.operator)
    bad = client.post(f"/api/v1/cases/{case.id}/actions/fly", json={},
                      headers={"x-csrf-token": csrf})
    assert bad.status_code == 400 and "unknown action" in bad.json()["detail"]
    missing = client.post(f"/api/v1/cases/{case.id}/actions/route", json={},
                          headers={"x-csrf-token": csrf})
    assert missing.status_code == 400 and "executor_id" in missing.json()["detail"]
    wrong = client.post(f"/api/v1/cases/{case.id}/actions/accept", json={},
                        headers={"x-csrf-token": csrf})
    assert wrong.status_code == 409 and "cannot accept" in wrong.json()["detail"]


def test_other_regions_and_organizations_get_404(session: Session, client,
                                                 make_case: Callable[..., Case]) -> None:  # type: ignore[no-untyped-def]
    case = make_case()
    user = make_user(session, Role.operator, ["36"])
    client.cookies.clear()
    login(client, user.username, PASSWORD)
    assert client.get(f"/api/v1/cases/{case.id}").status_code == 404
    assert case.id not in [c["id"] for c in client.get("/api/v1/cases").json()["items"]]


def test_rules_and_policies_are_validated(session: Session, client) -> None:  # type: ignore[no-untyped-def]
    _, org = michurinsk(session)
    csrf = _login(client, session, Role.admin)
    ok = client.post("/api/v1/routing/rules", json={"region_code": "68", "executor_id": org.id,
                                                   "topic": "roads"},
                     headers={"x-csrf-token": csrf})
    assert ok.status_code == 201, ok.text
    wrong_region = client.post("/api/v1/routing/rules",
                               json={"region_code": "36", "executor_id": org.id},
                               headers={"x-csrf-token": csrf})
    assert wrong_region.status_code == 403
    policy = client.post("/api/v1/deadline-policies", json={
        "region_code": "68", "policy": {"topic": "roads", "urgency": "high",
                                        "first_response": "2h", "resolution": "1d"}},
        headers={"x-csrf-token": csrf})
    assert policy.status_code == 201, policy.text
    broken = client.post("/api/v1/deadline-policies", json={
        "region_code": "68", "policy": {"resolution": "ten days"}},
        headers={"x-csrf-token": csrf})
    assert broken.status_code == 400
    day = client.post("/api/v1/calendar-exceptions", json={
        "region_code": "68", "day": "2026-12-30", "kind": "holiday", "note": "региональный"},
        headers={"x-csrf-token": csrf})
    assert day.status_code == 201
