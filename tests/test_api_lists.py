"""Every list of the REST API is a page: ``{items, total, limit, offset}`` with the ``limit``
and ``offset`` query parameters (docs/architecture.md, "REST API: lists")."""

from __future__ import annotations

from typing import Any

from otklik.app import create_app
from otklik.paging import DEFAULT_LIMIT, MAX_LIMIT, Page

#: GET lists under /api/v1 that may still answer a bare array, and why.
BARE_ARRAYS_ALLOWED = {
    # The fakes' lists are being reshaped on their own branch (issue 19, fakes part).
    "/api/v1/fakes/suspects", "/api/v1/fakes/{fake_id}/copies", "/api/v1/fakes/{fake_id}/history",
}
#: Objects with an ``items`` list that are not pages, and why.
NOT_PAGES = {
    # A ranking with its formula: every rated subject at once (a region's executors or
    # municipalities, tens), ranked by the published formula; paging would split the ranks.
    "/api/v1/analytics/ratings/{subject}",
}
#: Reference directories a client reads in wider pages (a region's settlements run into the
#: thousands): limit 1-1000, 100 by default.
WIDER_PAGES = {"/api/v1/territories", "/api/v1/organizations"}
PAGE_FIELDS = {"items", "total", "limit", "offset"}


def _get_lists() -> list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]]:
    spec = create_app().openapi()
    schemas = spec["components"]["schemas"]
    found = []
    for path, operations in spec["paths"].items():
        get = operations.get("get")
        if not path.startswith("/api/v1") or get is None:
            continue
        schema = (get["responses"].get("200", {}).get("content", {})
                  .get("application/json", {}).get("schema", {}))
        if "$ref" in schema:
            schema = schemas[schema["$ref"].rsplit("/", 1)[-1]]
        found.append((path, get, schema, schemas))
    return found


def test_no_get_list_answers_a_bare_array() -> None:
    bare = sorted(path for path, _, schema, _ in _get_lists()
                  if schema.get("type") == "array" and path not in BARE_ARRAYS_ALLOWED)
    assert bare == [], f"these lists answer a bare array instead of a page: {bare}"


def test_every_list_object_is_a_page_with_limit_and_offset() -> None:
    checked = 0
    for path, get, schema, _ in _get_lists():
        properties = schema.get("properties", {})
        if properties.get("items", {}).get("type") != "array" or path in NOT_PAGES:
            continue
        checked += 1
        assert PAGE_FIELDS <= set(properties), f"{path}: {sorted(properties)}"
        params = {p["name"]: p for p in get.get("parameters", []) if p["in"] == "query"}
        assert {"limit", "offset"} <= set(params), f"{path} takes no limit/offset"
        limit = params["limit"]["schema"]
        bounds = (1, 1000, 100) if path in WIDER_PAGES else (1, MAX_LIMIT, DEFAULT_LIMIT)
        assert (limit.get("minimum"), limit.get("maximum"), limit.get("default")) == bounds, (
            f"{path}: limit {limit}")
    assert checked >= 35  # the walk found the API's lists, not nothing


def test_a_page_of_a_list_read_whole() -> None:
    class Numbers(Page[int]):
        """A page of numbers."""

    page = Numbers.of(list(range(7)), limit=3, offset=3)
    assert (page.items, page.total, page.limit, page.offset) == ([3, 4, 5], 7, 3, 3)
    assert Numbers.of(list(range(7)), limit=3, offset=9).items == []
