"""Operation ids are the API's names for integrators: unique, made of path and method (not of
Python function names), and written down, so a change is deliberate and visible."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

from fastapi.routing import APIRoute

from otklik.app import create_app, operation_id

ROOT = Path(__file__).resolve().parent.parent


def test_operation_ids_are_unique_and_written_down() -> None:
    sys.path.insert(0, str(ROOT / "scripts"))
    from operation_ids import DOC, operations, render

    rows = operations()
    repeated = [ident for ident, n in Counter(i for _, _, i in rows).items() if n > 1]
    assert not repeated, f"operation ids used twice: {repeated}"
    assert DOC.read_text(encoding="utf-8") == render(rows), (
        "docs/api-operations.md is stale (an operation was added, removed or renamed): "
        "run python scripts/operation_ids.py and review the change")


def test_an_id_does_not_depend_on_the_functions_name() -> None:
    def list_everything() -> list[int]:
        return []

    def renamed_in_a_refactoring() -> list[int]:
        return []

    first = APIRoute("/api/v1/cases/{case_id}/events", list_everything, methods=["GET"])
    second = APIRoute("/api/v1/cases/{case_id}/events", renamed_in_a_refactoring,
                      methods=["GET"])
    assert operation_id(first) == operation_id(second) == "cases_case_id_events_get"
    spec = create_app().openapi()
    assert spec["paths"]["/api/v1/cases/{case_id}"]["get"]["operationId"] == "cases_case_id_get"
