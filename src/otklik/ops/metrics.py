"""Prometheus metrics of the HTTP service."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response

REQUESTS = Counter(
    "otklik_http_requests_total", "HTTP requests served", ["method", "route", "status"]
)
LATENCY = Histogram(
    "otklik_http_request_seconds", "HTTP request duration", ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1, 2.5, 5),
)


async def metrics_middleware(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Count and time each request by its route template (not the raw path: bounded labels)."""
    started = time.perf_counter()
    response = await call_next(request)
    route = request.scope.get("route")
    template = getattr(route, "path", "unmatched")
    LATENCY.labels(request.method, template).observe(time.perf_counter() - started)
    REQUESTS.labels(request.method, template, str(response.status_code)).inc()
    return response


class _Snapshot:
    """A one-scrape collector of already computed metric families."""

    def __init__(self, families: Iterable[object]) -> None:
        self.families = list(families)

    def collect(self) -> Iterable[object]:
        return self.families


def render(extra: Iterable[object] = ()) -> Response:
    """The metrics page in Prometheus text format: this process's request metrics and the
    ``extra`` families (the gauges computed for this scrape)."""
    scrape = CollectorRegistry(auto_describe=False)
    scrape.register(_Snapshot(extra))  # type: ignore[arg-type]
    return Response(generate_latest() + generate_latest(scrape), media_type=CONTENT_TYPE_LATEST)
