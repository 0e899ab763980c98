"""create_app(): middleware, error handlers, routers, the UI."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from pathlib import Path
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware

from otklik import __version__
from otklik.config import Settings, get_settings
from otklik.errors import NotAuthenticated, OtklikError
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


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(OtklikError)
    async def otklik_error(request: Request, exc: OtklikError) -> Response:
        if _wants_html(request):
            if isinstance(exc, NotAuthenticated):
                target = quote(request.url.path + (f"?{request.url.query}" if request.url.query
                                                   else ""), safe="")
                return RedirectResponse(f"/login?next={target}", status_code=303)
            return render(request, "error.html",
                          {"status_code": exc.status_code, "message": exc.message},
                          status_code=exc.status_code)
        return JSONResponse({"detail": exc.message}, status_code=exc.status_code)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if _wants_html(request):
            return render(request, "error.html",
                          {"status_code": exc.status_code, "message": str(exc.detail)},
                          status_code=exc.status_code)
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        errors = [
            {"field": ".".join(str(p) for p in e["loc"]), "problem": e["msg"]}
            for e in exc.errors()
        ]
        return JSONResponse({"detail": "the request is malformed", "errors": errors},
                            status_code=422)


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
    for router in _routers():
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app


def _routers() -> list:  # type: ignore[type-arg]
    from otklik.accounts.endpoints import router as accounts
    from otklik.analytics.endpoints import router as analytics
    from otklik.audit.endpoints import router as audit
    from otklik.cases.endpoints import router as cases
    from otklik.decisions.endpoints import router as decisions
    from otklik.intake.endpoints import router as intake
    from otklik.ops.endpoints import router as ops
    from otklik.organizations.endpoints import router as organizations
    from otklik.territories.endpoints import router as territories
    from otklik.web.admin_channels import router as admin_channels
    from otklik.web.admin_taxonomy import router as admin_taxonomy
    from otklik.web.analytics_views import router as analytics_web
    from otklik.web.form import router as form
    from otklik.web.views import router as web
    from otklik.web.workspace import router as workspace

    return [ops, accounts, territories, organizations, audit, intake, cases, analytics,
            decisions, form, web, admin_channels, admin_taxonomy, workspace, analytics_web]
