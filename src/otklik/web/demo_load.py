"""The demo's load behind its first page: the banner the pages poll, and its JSON.

Only in the demo (404 elsewhere); no login, so the login page shows it too. When the load
has finished the banner answers empty with 286, which tells htmx to stop polling.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from otklik.config import get_settings
from otklik.demo.progress import tracker
from otklik.errors import NotFound
from otklik.web.rendering import render

router = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1/demo", tags=["demo"])

#: htmx stops an ``every`` poll on this status (and still swaps the answer in).
STOP_POLLING = 286


def _demo_only() -> None:
    if not get_settings().is_demo:
        raise NotFound("no demo here")


@router.get("/demo/progress", response_class=HTMLResponse)
def progress_banner(request: Request) -> Response:
    """The banner: the stage and the percent while loading; empty (and 286) afterwards."""
    _demo_only()
    snapshot = tracker.snapshot()
    if not snapshot["loading"] and not snapshot["error"]:
        return HTMLResponse("", status_code=STOP_POLLING)
    return render(request, "_demo_progress.html", {"demo_progress": snapshot})


@api.get("/progress")
def progress_json() -> dict[str, object]:
    """How far the demo's load is: ``percent`` 0-100, ``stage``, ``loading``, ``finished``."""
    _demo_only()
    return tracker.snapshot()
