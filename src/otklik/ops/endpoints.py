"""Liveness, readiness and metrics routes (no login: for load balancers and Prometheus)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from otklik.db.session import check_database
from otklik.deps import SessionDep
from otklik.errors import ConfigurationError
from otklik.ops import gauges, metrics, queues

router = APIRouter(tags=["ops"])


@router.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get("/readyz", responses={503: {"description": "The database cannot be reached"}})
def readyz() -> Response:
    """The service can reach its database (503 otherwise); the broker is reported too.

    A broker outage alone keeps the API ready: what it stores is committed, the jobs it could
    not send are queued again by the reconciler (``broker`` says ``unavailable: …``)."""
    broker = _broker_state()
    try:
        check_database()
    except ConfigurationError as exc:
        return JSONResponse({"status": "unavailable", "detail": exc.message,
                             "database": "unavailable", "broker": broker}, status_code=503)
    return JSONResponse({"status": "ok" if broker == "ok" else "degraded", "database": "ok",
                         "broker": broker, "broker_kind": queues.broker_kind()})


def _broker_state() -> str:
    try:
        queues.check_broker()
    except Exception as exc:  # pika's, redis' connection errors
        return f"unavailable: {type(exc).__name__}"
    return "ok"


@router.get("/metrics", response_class=PlainTextResponse,
            responses={200: {"content": {"text/plain": {}}}})
def prometheus_metrics(session: SessionDep) -> Response:
    """Prometheus metrics: requests, and gauges of the queue, lag, deadlines, connectors,
    deliveries and invariants (computed at the scrape, cached a few seconds)."""
    return metrics.render(gauges.families(gauges.collect(session)))
