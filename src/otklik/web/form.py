"""The public web form: no login, rate-limited per address, a honeypot against bots."""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from otklik.accounts.scope import Scope
from otklik.db.base import utcnow
from otklik.deps import SessionDep, check_csrf, client_ip
from otklik.intake.schemas import IncomingMessage, Source
from otklik.intake.service import store_messages
from otklik.territories.repository import TerritoryRepository
from otklik.web.rendering import render

router = APIRouter(include_in_schema=False)


class RateLimiter:
    """At most ``limit`` submissions per ``window`` seconds from one address (per process)."""

    def __init__(self, limit: int = 5, window: float = 600.0) -> None:
        self.limit, self.window = limit, window
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        """Count a hit; False when over the limit."""
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.window:
                hits.popleft()
            if len(hits) >= self.limit:
                return False
            hits.append(now)
            return True


limiter = RateLimiter()


def _regions(session: SessionDep) -> list[tuple[str, str]]:
    return [(r.region_code, r.name) for r in TerritoryRepository(session).regions(Scope.system())]


@router.get("/form", response_class=HTMLResponse)
def form_page(request: Request, session: SessionDep) -> Response:
    """The form a resident fills in."""
    return render(request, "form.html", {"regions": _regions(session),
                                         "nonce": secrets.token_urlsafe(16)})


@router.post("/form", response_class=HTMLResponse)
def form_submit(
    request: Request,
    session: SessionDep,
    text: Annotated[str, Form(max_length=20_000)],
    nonce: Annotated[str, Form(min_length=8, max_length=64)],
    csrf: Annotated[str, Form()] = "",
    name: Annotated[str, Form(max_length=255)] = "",
    contact: Annotated[str, Form(max_length=255)] = "",
    region: Annotated[str, Form(max_length=2)] = "",
    website: Annotated[str, Form(max_length=255)] = "",
) -> Response:
    """Store a submission once (the nonce makes a double click one message)."""
    check_csrf(request, csrf)
    context = {"regions": _regions(session), "nonce": secrets.token_urlsafe(16)}
    if website:  # the hidden honeypot field: a person never fills it
        return render(request, "form.html", {**context, "sent": True})
    if not limiter.allow(client_ip(request) or "unknown"):
        return render(request, "form.html", {**context, "error": "rate"}, status_code=429)
    if len(text.strip()) < 5:
        return render(request, "form.html", {**context, "error": "short", "text": text},
                      status_code=400)
    store_messages(session, [IncomingMessage(
        source=Source.web, source_id=f"form:{nonce}", text=text, created_at=utcnow(),
        author_name=name or None, region=region if region.isdigit() else None,
        channel="web-form", raw={"name": name, "contact": contact, "region": region},
    )])
    return render(request, "form.html", {**context, "sent": True})
