"""Ids and paging beyond 64 bits, and the error bodies the OpenAPI promises."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.conftest import login

from otklik.app import create_app
from otklik.bounds import MAX_DB_INT, MAX_INT32
from otklik.config import Settings
from otklik.models.account import Role

TOO_BIG = MAX_DB_INT + 1


@pytest.mark.parametrize("path", [
    f"/api/v1/problems?offset={TOO_BIG}", f"/api/v1/cases/{TOO_BIG}",
    "/api/v1/messages/99999999999999999999", f"/api/v1/cases?executor_id={TOO_BIG}",
    f"/api/v1/cases/{TOO_BIG}/assignees", f"/api/v1/problems/{TOO_BIG}",
    f"/api/v1/territories/{TOO_BIG}", f"/api/v1/territories?parent_id={TOO_BIG}",
    f"/api/v1/organizations/{TOO_BIG}", f"/api/v1/organizations?offset={TOO_BIG}",
    f"/api/v1/audit?offset={TOO_BIG}", f"/api/v1/decisions/{TOO_BIG}",
    f"/api/v1/decisions?problem_id={TOO_BIG}", f"/api/v1/analytics/drill?offset={TOO_BIG}",
    f"/api/v1/analytics/dashboard?municipality_id={TOO_BIG}",
    f"/api/v1/decisions/{MAX_INT32 + 1}", f"/api/v1/organizations/{MAX_INT32 + 1}",
    f"/api/v1/cases?executor_id={MAX_INT32 + 1}",
])
def test_ids_and_offsets_beyond_64_bits_are_a_422(session: Session, client: Any,
                                                  path: str) -> None:
    """Finding 7: these were 500s (the driver cannot bind the number)."""
    login(client, make_user(session, Role.admin, all_regions=True).username, PASSWORD)
    response = client.get(path)
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["detail"] == "the request is malformed"
    assert "less than or equal to" in body["errors"][0]["problem"]


@pytest.mark.parametrize("path", [
    f"/api/v1/cases/{MAX_DB_INT}", f"/api/v1/problems/{MAX_DB_INT}", "/api/v1/cases/0",
    f"/api/v1/decisions/{MAX_INT32}", f"/api/v1/organizations/{MAX_INT32}",
    f"/api/v1/territories/{MAX_INT32}",
])
def test_the_largest_id_is_not_found(session: Session, client: Any, path: str) -> None:
    """Reference tables have 32-bit keys: their ids are bounded by what those hold."""
    login(client, make_user(session, Role.admin, all_regions=True).username, PASSWORD)
    assert client.get(path).status_code == 404


def test_the_routing_report_answers(session: Session, client: Any) -> None:
    """Found by the API run on PostgreSQL: its GROUP BY repeated a bound JSON key (a 500)."""
    login(client, make_user(session, Role.admin, all_regions=True).username, PASSWORD)
    response = client.get("/api/v1/routing/report")
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["items"], list) and response.json()["offset"] == 0


def test_ids_in_request_bodies_are_bounded(session: Session, client: Any) -> None:
    csrf = login(client, make_user(session, Role.admin, all_regions=True).username, PASSWORD)
    headers = {"x-csrf-token": csrf}
    for path, body, field in [
        ("/api/v1/cases/merge", {"target": TOO_BIG, "others": [1]}, "body.target"),
        ("/api/v1/cases/1/split", {"message_ids": [TOO_BIG]}, "body.message_ids.0"),
        ("/api/v1/routing/rules", {"region_code": "68", "executor_id": 1,
                                   "position": 2**31}, "body.position"),
    ]:
        response = client.post(path, json=body, headers=headers)
        assert response.status_code == 422, (path, response.text)
        assert response.json()["errors"][0]["field"] == field


def test_the_openapi_documents_the_error_bodies_the_handlers_send() -> None:
    schema = create_app(Settings(env="test")).openapi()  # type: ignore[arg-type]
    components = schema["components"]["schemas"]
    assert "HTTPValidationError" not in components
    assert set(components["ValidationErrorBody"]["required"]) == {"detail", "errors"}
    assert components["ErrorBody"]["properties"]["detail"]["type"] == "string"
    operations = [op for path, ops in schema["paths"].items() if path.startswith("/api/")
                  for op in ops.values()]
    assert operations
    for operation in operations:
        responses = operation["responses"]
        for status in ("400", "401", "403", "404", "409"):
            ref = responses[status]["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/ErrorBody", (operation["operationId"], status)
        if "422" in responses:
            ref = responses["422"]["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/ValidationErrorBody", operation["operationId"]


def test_a_422_body_has_the_documented_shape(client: Any) -> None:
    response = client.post("/api/v1/auth/login", json={"username": 5})
    assert response.status_code == 422
    body = response.json()
    assert set(body) == {"detail", "errors"}
    assert all(set(e) == {"field", "problem"} for e in body["errors"])
    assert {e["field"] for e in body["errors"]} >= {"body.password"}
