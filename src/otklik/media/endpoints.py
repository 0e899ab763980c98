"""Stored photos, served by their unguessable key (the link Open311's ``media_url`` and the
case card carry). Served as an inert JPEG: no sniffing, no scripts, cached."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from otklik.deps import SessionDep
from otklik.errors import NotFound
from otklik.media import service
from otklik.media.storage import KEY_PATTERN

router = APIRouter(tags=["media"], include_in_schema=False)


@router.get("/media/photos/{key}")
def photo(key: str, session: SessionDep) -> Response:
    """One stored photo."""
    found = service.photo_file(session, key) if KEY_PATTERN.fullmatch(key) else None
    if found is None:
        raise NotFound("no such photo")
    data, content_type = found
    return Response(data, media_type=content_type, headers={
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "default-src 'none'; sandbox",
        "Cache-Control": "public, max-age=86400, immutable",
        "Content-Disposition": "inline",
    })
