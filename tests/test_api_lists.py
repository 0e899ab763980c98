"""Every list of the REST API is a page: ``{items, total, limit, offset}`` with the ``limit``
and ``offset`` query parameters (docs/architecture.md, "REST API: lists")."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session
from tests.builders import PASSWORD, an_organization, make_user
from tests.conftest import login

from otklik.app import create_app
from otklik.models.account import Role
from otklik.models.case import RoutingRule
from otklik.paging import DEFAULT_LIMIT, MAX_LIMIT, Page

#: GET lists under /api/v1 that may still answer a bare array, and why.
BARE_ARRAYS_ALLOWED: set[str] = set()  # none: every list is a page
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


def test_every_paged_get_answers_a_documented_page() -> None:
    """A GET that takes ``limit``/``offset`` answers a page the OpenAPI spells out (not an
    untyped object)."""
    for path, get, schema, _ in _get_lists():
        params = {p["name"] for p in get.get("parameters", []) if p["in"] == "query"}
        if {"limit", "offset"} <= params and path not in BARE_ARRAYS_ALLOWED:
            assert PAGE_FIELDS <= set(schema.get("properties", {})), (
                f"{path} is paged but answers {schema}")


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


def test_users_are_paged_and_filtered(session: Session, client: Any) -> None:
    admin = make_user(session, Role.admin, all_regions=True)
    analysts = [make_user(session, Role.analyst, ["36"]) for _ in range(3)]
    make_user(session, Role.operator, ["68"])
    login(client, admin.username, PASSWORD)
    page = client.get("/api/v1/users", params={"role": "analyst", "region_code": "36",
                                               "limit": 2}).json()
    mine = {u.id for u in analysts}
    assert page["total"] >= 3 and len(page["items"]) == 2 and page["limit"] == 2
    rest = client.get("/api/v1/users", params={"role": "analyst", "region_code": "36",
                                               "limit": 500}).json()["items"]
    assert mine <= {u["id"] for u in rest}
    assert all(u["role"] == "analyst" and (u["all_regions"] or "36" in u["region_codes"])
               for u in rest)
    operators = client.get("/api/v1/users", params={"role": "operator", "region_code": "36",
                                                    "limit": 500}).json()["items"]
    assert not {u["id"] for u in operators} & mine
    inactive = client.get("/api/v1/users", params={"is_active": "false"}).json()
    assert all(not u["is_active"] for u in inactive["items"])
    assert client.get("/api/v1/users", params={"limit": 501}).status_code == 422
    assert client.get("/api/v1/users", params={"limit": 0}).status_code == 422


def test_audit_is_a_page_with_the_full_count(session: Session, client: Any) -> None:
    admin = make_user(session, Role.admin, all_regions=True)
    for _ in range(3):
        make_user(session, Role.analyst, ["68"])  # each is audited as user.create
    login(client, admin.username, PASSWORD)
    page = client.get("/api/v1/audit", params={"action": "user.create", "limit": 2}).json()
    assert len(page["items"]) == 2 and page["total"] >= 4
    assert {e["action"] for e in page["items"]} == {"user.create"}
    later = client.get("/api/v1/audit", params={"action": "user.create", "limit": 2,
                                                "offset": 2}).json()
    assert later["total"] == page["total"] and later["offset"] == 2
    assert not {e["id"] for e in later["items"]} & {e["id"] for e in page["items"]}


def test_routing_rules_by_topic_and_executor(session: Session, client: Any) -> None:
    executor = an_organization(session, "68")
    session.add_all([RoutingRule(region_code="68", topic="api19_roads", executor_id=executor.id,
                                 position=1),
                     RoutingRule(region_code="68", topic="api19_water", executor_id=executor.id,
                                 position=2)])
    session.flush()
    login(client, make_user(session, Role.admin, ["68"]).username, PASSWORD)
    roads = client.get("/api/v1/routing/rules", params={"region_code": "68",
                                                        "topic": "api19_roads"}).json()
    assert [r["topic"] for r in roads["items"]] == ["api19_roads"] and roads["total"] == 1
    everything = client.get("/api/v1/routing/rules", params={
        "region_code": "68", "executor_id": executor.id, "limit": 500}).json()
    assert {"api19_roads", "api19_water"} <= {r["topic"] for r in everything["items"]}
    assert all(r["executor_id"] == executor.id for r in everything["items"])
