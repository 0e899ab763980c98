"""What contests does when other domains announce something (see :mod:`otklik.events`)."""

from __future__ import annotations

from otklik.contests import attachments as files
from otklik.contests.repository import ContestRepository
from otklik.db.session import session_scope
from otklik.events import ResidentFilesReleased, consumer


@consumer(ResidentFilesReleased, queue_name="upkeep")
def release_attachments(event: ResidentFilesReleased) -> None:
    """Delete the files of applications' attachments whose rows retention or an erasure
    deleted (idempotent: a file already gone, or a name a row still holds, is left)."""
    if not event.attachments:
        return
    with session_scope() as session:
        kept = ContestRepository(session).stored_names([n for _, n in event.attachments])
    for contest_id, name in event.attachments:
        if name not in kept:
            files.path_of(contest_id, name).unlink(missing_ok=True)
