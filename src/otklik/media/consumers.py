"""What media does when other domains announce something (see :mod:`otklik.events`)."""

from __future__ import annotations

from otklik.db.session import session_scope
from otklik.events import ResidentFilesReleased, consumer
from otklik.media import service


@consumer(ResidentFilesReleased, queue_name="upkeep")
def release_photos(event: ResidentFilesReleased) -> None:
    """Delete the files of residents' photos whose rows retention or an erasure deleted
    (idempotent: a file already gone, or a key a row still names, is left)."""
    if not event.photo_keys:
        return
    with session_scope() as session:
        service.release(session, event.photo_keys)
