"""Liveness, readiness and metrics routes (no login: for load balancers and Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from otklik.db.session import check_database
from otklik.errors import ConfigurationError
from otklik.ops import metrics

router = APIRouter(tags=["ops"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "The database cannot be reached"}})
def readyz() -> Response:
    """The service can reach its database."""
    try:
        check_database()
    except ConfigurationError as exc:
        return JSONResponse({"status": "unavailable", "detail": exc.message}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})


@router.get("/metrics", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {}}}})
def prometheus_metrics() -> Response:
    """Prometheus metrics."""
    return metrics.render()
