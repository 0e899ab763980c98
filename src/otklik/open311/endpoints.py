"""GeoReport v2 routes under /open311/v2/ (read side; thin: parse, call, serialize).

Kept out of the OpenAPI of /api/: the bodies are the spec's XML or JSON by extension, its
errors are not the project's ErrorBody (docs/open311.md)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from otklik.deps import SessionDep
from otklik.open311 import serializers, service
from otklik.open311.service import check_format, public_actor

router = APIRouter(prefix="/open311/v2", tags=["open311"], include_in_schema=False)


@router.get("/discovery.{fmt}")
def discovery(fmt: str, request: Request) -> Response:
    """What this server offers and where."""
    check_format(fmt)
    return serializers.discovery_response(fmt, str(request.base_url).rstrip("/") + "/open311/v2/")


@router.get("/services.{fmt}")
def services(fmt: str, session: SessionDep, jurisdiction_id: str | None = None) -> Response:
    """The services: the active rubricator's topics and subtopics."""
    check_format(fmt)
    items = service.services(session, public_actor(), jurisdiction_id)
    return serializers.respond(fmt, [serializers.service(i) for i in items], "services",
                               "service")


@router.get("/services/{code}.{fmt}")
def service_definition(code: str, fmt: str, session: SessionDep,
                       jurisdiction_id: str | None = None) -> Response:
    """One service's definition (its attributes)."""
    check_format(fmt)
    item = service.service_definition(session, public_actor(), code, jurisdiction_id)
    return serializers.definition_response(fmt, item)


@router.get("/requests.{fmt}")
def requests(fmt: str, session: SessionDep, jurisdiction_id: str | None = None,
             service_request_id: str | None = None, service_code: str | None = None,
             start_date: str | None = None, end_date: str | None = None,
             status: str | None = None, page: str | None = None,
             page_size: str | None = None) -> Response:
    """Public service requests (cases), filtered and paged."""
    check_format(fmt)
    items = service.requests(
        session, public_actor(), jurisdiction_id=jurisdiction_id,
        service_request_id=service_request_id, service_code=service_code,
        start_date=start_date, end_date=end_date, status=status, page=page,
        page_size=page_size)
    return serializers.respond(fmt, [serializers.service_request(i) for i in items],
                               "service_requests", "request")


@router.get("/requests/{request_id}.{fmt}")
def request_by_id(request_id: str, fmt: str, session: SessionDep,
                  jurisdiction_id: str | None = None) -> Response:
    """One public service request (a list of one, as the spec has it)."""
    check_format(fmt)
    item = service.request(session, public_actor(), request_id, jurisdiction_id)
    return serializers.respond(fmt, [serializers.service_request(item)], "service_requests",
                               "request")
