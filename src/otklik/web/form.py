"""The public web form's page; what it does with a submission is
:mod:`otklik.intake.web_form`."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response

from otklik.config import get_settings
from otklik.deps import SessionDep, check_csrf, client_ip
from otklik.intake import web_form
from otklik.media.photos import MAX_BYTES, MAX_PHOTOS
from otklik.web.rendering import render

router = APIRouter(include_in_schema=False)


def _context(session: SessionDep) -> dict[str, object]:
    return {"regions": web_form.regions(session), "nonce": secrets.token_urlsafe(16),
            "pd_policy_url": get_settings().pd_policy_url}


@router.get("/form", response_class=HTMLResponse)
def form_page(request: Request, session: SessionDep) -> Response:
    """The form a resident fills in."""
    return render(request, "form.html", _context(session))


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
    consent: Annotated[str, Form(max_length=8)] = "",
    photos: Annotated[list[UploadFile] | None, File()] = None,
) -> Response:
    """Store a submission once (the nonce makes a double click one message), with photos."""
    check_csrf(request, csrf)
    context = _context(session)
    files = [f for f in photos or [] if f.filename or f.size]
    # One byte over the limit is enough to refuse: a huge upload is never read whole.
    blobs = [f.file.read(MAX_BYTES + 1) for f in files[:MAX_PHOTOS + 1]]
    error = web_form.submit(session, text=text, nonce=nonce, name=name, contact=contact,
                            region=region, website=website, ip=client_ip(request),
                            photos=blobs, consent=consent == "yes")
    if error == "rate":
        return render(request, "form.html", {**context, "error": "rate"}, status_code=429)
    if error == "photo":
        return render(request, "form.html", {**context, "error": "photo", "text": text},
                      status_code=400)
    if error == "consent":
        return render(request, "form.html", {**context, "error": "consent", "text": text,
                                             "name": name, "contact": contact},
                      status_code=400)
    if error == "short":
        return render(request, "form.html", {**context, "error": "short", "text": text},
                      status_code=400)
    return render(request, "form.html", {**context, "sent": True})
