"""GeoReport v2 routes under /open311/v2/ (read side; thin: parse, call, serialize).

Kept out of the OpenAPI of /api/: the bodies are the spec's XML or JSON by extension, its
errors are not the project's ErrorBody (docs/open311.md)."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from starlette.datastructures import UploadFile

from otklik.deps import SessionDep
from otklik.errors import ConfigurationError
from otklik.media.photos import MAX_BYTES, MAX_PHOTOS
from otklik.open311 import filing, serializers, service
from otklik.open311.service import Open311Error, check_format, public_actor

router = APIRouter(prefix="/open311/v2", tags=["open311"], include_in_schema=False)


@router.get("/discovery.{fmt}")
def discovery(fmt: str, request: Request) -> Response:
    """What this server offers and where."""
    check_format(fmt)
    return serializers.discovery_response(fmt, str(request.base_url).rstrip("/") + "/open311/v2/")


def _base(request: Request) -> str:
    return str(request.base_url).rstrip("/")


FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
_ATTRIBUTE = re.compile(r"attribute\[([^\]]{1,64})\](\[\])?")


async def posted(request: Request) -> filing.Filing:
    """The form of a POST requests (urlencoded, or multipart with ``media`` files):
    ``attribute[code]`` (``attribute[code][]`` for lists) apart, files read up to the limit
    plus one byte (a bigger one is refused without being read whole). A body of another
    type (XML or JSON where the spec asks for a form) is a 400 saying so."""
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind and kind not in FORM_TYPES:
        raise Open311Error(f"POST requests takes a form ({' or '.join(FORM_TYPES)}), "
                           f"not {kind[:60]}: send api_key, service_code, description … "
                           "as form fields (docs/open311.md)")
    try:
        form = await request.form(max_files=MAX_PHOTOS + 1, max_fields=200)
    except Exception as exc:  # starlette's MultiPartException and friends: the client's fault
        raise Open311Error(f"the form cannot be read: {str(exc)[:200]}") from None
    out = filing.Filing()
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            if key == "media" and (value.filename or value.size):
                out.media.append(await value.read(MAX_BYTES + 1))
            continue
        match = _ATTRIBUTE.fullmatch(key)
        if match:
            out.attributes.setdefault(match.group(1), []).append(value)
        elif key == "media":
            continue
        elif key in out.fields:
            raise Open311Error(f"{key[:64]} is given twice")
        else:
            out.fields[key] = value
    return out


@router.post("/requests.{fmt}")
def create_request(fmt: str, request: Request, session: SessionDep,
                   form: Annotated[filing.Filing, Depends(posted)]) -> Response:
    """File a service request (api_key required): stored as a message of source open311."""
    check_format(fmt)
    store = getattr(request.app.state, "open311_store", None)
    if store is None:
        raise ConfigurationError("Open311 filing is not wired (app.state.open311_store)")
    actor = filing.key_actor(session, form.fields.get("api_key"))
    filed = filing.submit(session, actor, form, store)
    entry: dict[str, object] = (
        {"service_request_id": str(filed.service_request_id)}
        if filed.service_request_id is not None else {"token": filed.token})
    entry.update({"service_notice": "", "account_id": filed.account_id})
    return serializers.respond(fmt, [entry], "service_requests", "request")


@router.get("/tokens/{token}.{fmt}")
def token(token: str, fmt: str, session: SessionDep) -> Response:
    """The service request a token became (service_request_id empty until the case exists)."""
    check_format(fmt)
    value, case_id = filing.token_status(session, token)
    entry = {"service_request_id": str(case_id) if case_id is not None else "", "token": value}
    return serializers.respond(fmt, [entry], "service_requests", "request")


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
def requests(fmt: str, request: Request, session: SessionDep, jurisdiction_id: str | None = None,
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
        page_size=page_size, base_url=_base(request))
    return serializers.respond(fmt, [serializers.service_request(i) for i in items],
                               "service_requests", "request")


@router.get("/requests/{request_id}.{fmt}")
def request_by_id(request_id: str, fmt: str, request: Request, session: SessionDep,
                  jurisdiction_id: str | None = None) -> Response:
    """One public service request (a list of one, as the spec has it)."""
    check_format(fmt)
    item = service.request(session, public_actor(), request_id, jurisdiction_id,
                           base_url=_base(request))
    return serializers.respond(fmt, [serializers.service_request(item)], "service_requests",
                               "request")
