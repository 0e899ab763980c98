"""create_app(): middleware, error handlers, routers, the UI."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from fastapi.staticfiles import StaticFiles
from pydantic.json_schema import models_json_schema
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from otklik import __version__
from otklik.config import Settings, get_settings
from otklik.errors import (
    ErrorBody,
    FieldProblem,
    NotAuthenticated,
    OtklikError,
    ValidationErrorBody,
)
from otklik.open311.serializers import error_response as open311_error
from otklik.open311.serializers import format_of as open311_format
from otklik.ops import metrics
from otklik.web.rendering import render

log = logging.getLogger("otklik")

STATIC_DIR = Path(__file__).resolve().parent / "web" / "static"

#: No inline scripts or styles anywhere, no third-party origins: resident text can never run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)


async def security_headers(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Strict CSP and the usual hardening headers on every response."""
    response = await call_next(request)
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Cache-Control", "no-store") if not request.url.path.startswith(
        "/static/") else None
    return response


def _wants_html(request: Request) -> bool:
    path = request.url.path
    if path.startswith("/api/") and path != "/api/docs":
        return False
    return "text/html" in request.headers.get("accept", "") or request.method == "POST"


class ErrorJSONResponse(JSONResponse):
    """JSON of an error; input echoed back with a lone surrogate stays an escape, not a 500."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, allow_nan=False,
                          separators=(",", ":")).encode("utf-8", "backslashreplace")


def _is_open311(request: Request) -> bool:
    """Under /open311/ errors are GeoReport v2's own list, in the requested format."""
    return request.url.path.startswith("/open311/")


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(OtklikError)
    async def otklik_error(request: Request, exc: OtklikError) -> Response:
        if _is_open311(request):
            return open311_error(open311_format(request.url.path), exc.status_code,
                                 exc.message)
        if _wants_html(request):
            if isinstance(exc, NotAuthenticated):
                target = quote(request.url.path + (f"?{request.url.query}" if request.url.query
                                                   else ""), safe="")
                return RedirectResponse(f"/login?next={target}", status_code=303)
            return render(request, "error.html",
                          {"status_code": exc.status_code, "message": exc.message},
                          status_code=exc.status_code)
        return ErrorJSONResponse(ErrorBody(detail=exc.message).model_dump(),
                                 status_code=exc.status_code)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _is_open311(request):
            response = open311_error(open311_format(request.url.path), exc.status_code,
                                     str(exc.detail))
            response.headers.update(getattr(exc, "headers", None) or {})
            return response
        if _wants_html(request):
            page = render(request, "error.html",
                          {"status_code": exc.status_code, "message": str(exc.detail)},
                          status_code=exc.status_code)
            page.headers.update(getattr(exc, "headers", None) or {})  # Allow on a 405
            return page
        return ErrorJSONResponse(ErrorBody(detail=str(exc.detail)).model_dump(),
                                 status_code=exc.status_code,
                                 headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        body = ValidationErrorBody(detail="the request is malformed", errors=[
            FieldProblem(field=".".join(str(p) for p in e["loc"]),
                         problem=e["msg"].removeprefix("Value error, "))
            for e in exc.errors()
        ])
        if _is_open311(request):
            problems = "; ".join(f"{e.field}: {e.problem}" for e in body.errors)
            return open311_error(open311_format(request.url.path), 400,
                                 f"{body.detail}: {problems}")
        if _wants_html(request):
            problems = "; ".join(f"{e.field}: {e.problem}" for e in body.errors)
            return render(request, "error.html",
                          {"status_code": 422, "message": f"{body.detail}: {problems}"},
                          status_code=422)
        return ErrorJSONResponse(body.model_dump(), status_code=422)


#: The 4xx every API operation may answer through the handlers above, with what each means.
_ERROR_STATUSES = {
    "400": "The input is wrong in a way the caller can fix",
    "401": "No valid session or API token",
    "403": "The caller may not do this (role, token scope, region, CSRF)",
    "404": "The object does not exist or is outside the caller's scope",
    "409": "The object changed meanwhile or already exists",
    "429": "Too many requests with this API key: wait as the detail says and retry",
}


def operation_id(route: APIRoute) -> str:
    """An operation's id made of its path and method alone, never of the Python function's
    name, so refactoring never changes the published API (``GET /api/v1/cases/{case_id}`` →
    ``cases_case_id_get``). Pinned by ``tests/test_operation_ids.py``; a route may still name
    its own id."""
    path = route.path_format.removeprefix("/api/v1")
    name = re.sub(r"\W+", "_", path).strip("_") or "root"
    method = sorted(route.methods or {"GET"})[0]
    return f"{name}_{method.lower()}"


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's OpenAPI with the error bodies the handlers really send: one ``ErrorBody`` for
    every 4xx and ``ValidationErrorBody`` for 422 (not FastAPI's default ``detail`` list)."""
    if app.openapi_schema:
        return app.openapi_schema
    schema = get_openapi(title=app.title, version=app.version, description=app.description,
                         routes=app.routes, webhooks=app.webhooks.routes)
    _, definitions = models_json_schema(
        [(ErrorBody, "validation"), (ValidationErrorBody, "validation")],
        ref_template="#/components/schemas/{model}")
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.pop("HTTPValidationError", None)
    components.pop("ValidationError", None)
    components.update(definitions["$defs"])

    def body(model: str, description: str) -> dict[str, Any]:
        return {"description": description, "content": {"application/json": {
            "schema": {"$ref": f"#/components/schemas/{model}"}}}}

    for path, operations in schema.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in _ERROR_STATUSES.items():
                responses.setdefault(status, body("ErrorBody", description))
            if "422" in responses:  # FastAPI lists it where there is input to validate
                responses["422"] = body("ValidationErrorBody",
                                        "The request is malformed: each field and its problem")
    app.openapi_schema = schema
    return schema


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the web application (API + UI) for the given or configured settings."""
    settings = settings or get_settings()
    app = FastAPI(
        title="Otklik API",
        version=__version__,
        description="Residents' messages in, answered cases out. Russian UI at /.",
        openapi_url="/api/openapi.json",
        docs_url=None,
        redoc_url=None,
        generate_unique_id_function=operation_id,
    )
    app.middleware("http")(metrics.metrics_middleware)
    app.middleware("http")(security_headers)
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        session_cookie="otklik_session",
        max_age=settings.session_max_age,
        same_site="lax",
        https_only=settings.cookies_secure,
    )
    _install_error_handlers(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    for router in _routers():
        app.include_router(router)
    app.state.open311_store = _open311_store
    from otklik.webhooks.endpoints import payloads as webhook_payloads

    app.webhooks.include_router(webhook_payloads)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def _open311_store(session: Any, item: Any, photos: Any) -> int:
    """Open311 files a report through intake (open311 does not import intake: app wires)."""
    from otklik.intake.resident_reports import store_report

    return store_report(session, item, photos, origin="open311")


def _declare_everything() -> None:
    """Every actor (so /metrics and /admin/queue list every queue, not only those this process
    sends to) and the invariants among /metrics' gauges."""
    import otklik.upkeep.gauges  # noqa: F401
    import otklik.worker  # noqa: F401


def _routers() -> list:  # type: ignore[type-arg]
    from otklik.accounts.endpoints import router as accounts
    from otklik.analytics.endpoints import router as analytics
    from otklik.audit.endpoints import router as audit
    from otklik.cases.endpoints import router as cases
    from otklik.contests.endpoints import router as contests
    from otklik.decisions.endpoints import router as decisions
    from otklik.fakes.endpoints import check_router as fakes_check
    from otklik.fakes.endpoints import router as fakes
    from otklik.incidents.endpoints import router as incidents
    from otklik.intake.endpoints import router as intake
    from otklik.media.endpoints import router as media
    from otklik.notify.endpoints import router as notify
    from otklik.open311.endpoints import router as open311
    from otklik.ops.endpoints import router as ops
    from otklik.organizations.endpoints import router as organizations
    from otklik.participation.endpoints import router as participation
    from otklik.pd.endpoints import router as pd
    from otklik.publics.endpoints import router as publics
    from otklik.territories.endpoints import router as territories
    from otklik.web.admin_apikeys import router as admin_apikeys
    from otklik.web.admin_channels import router as admin_channels
    from otklik.web.admin_notify import router as admin_notify
    from otklik.web.admin_queue import router as admin_queue
    from otklik.web.admin_taxonomy import router as admin_taxonomy
    from otklik.web.analytics_views import router as analytics_web
    from otklik.web.contests import router as contests_web
    from otklik.web.contests_public import router as contests_public
    from otklik.web.demo_load import api as demo_load_api
    from otklik.web.demo_load import router as demo_load
    from otklik.web.fakes import router as fakes_web
    from otklik.web.form import router as form
    from otklik.web.incidents import router as incidents_web
    from otklik.web.participation import router as participation_web
    from otklik.web.participation_proposals import router as proposals_web
    from otklik.web.publics import router as publics_web
    from otklik.web.views import router as web
    from otklik.web.workspace import router as workspace
    from otklik.webhooks.endpoints import router as webhooks

    _declare_everything()

    return [ops, accounts, territories, organizations, audit, intake, cases, analytics,
            decisions, contests, open311, media, participation, fakes, fakes_check, publics,
            incidents, notify, webhooks, pd, form, web, admin_apikeys, admin_channels,
            admin_notify, admin_queue, admin_taxonomy, workspace, analytics_web,
            contests_public, contests_web, participation_web, proposals_web, fakes_web,
            publics_web, incidents_web, demo_load, demo_load_api]
