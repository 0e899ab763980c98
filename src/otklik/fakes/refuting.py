"""Publishing an approved refutation as a reply under each copy, where the platform allows it.

The same path as residents' answers (``cases/publishing.py``; both through
:func:`otklik.channels.replying.reply_under`): the connector the copy came through, ``Reply``
with an idempotency key, one row per (fake, copy) so that a retry publishes
only what is not published yet. A copy from a source without a configured connector that
can publish (a file import, the demo, a platform without replies) is recorded as
``no_channel``: visible on the fake's card, never silently dropped. Only an approved
refutation (four eyes) is ever published.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from otklik.channels.connectors.base import Reply
from otklik.channels.replying import ReplySummary, reply_under
from otklik.db.base import utcnow
from otklik.fakes.repository import FakeRepository
from otklik.models.fakes import Fake, FakeReply
from otklik.models.message import Message


def reply_text(fake: Fake) -> str:
    """The reply under a copy: the refutation and its official source."""
    text = (fake.refutation_text or "").strip()
    return f"Это фейк. {text}\nИсточник: {fake.refutation_url}" if fake.refutation_url \
        else f"Это фейк. {text}"


def queue_replies(session: Session, fake_id: int) -> None:
    """Publish the refutation under the fake's copies after commit (a job; idempotent)."""
    from otklik.fakes.tasks import publish_refutation
    from otklik.queue import enqueue_after_commit

    enqueue_after_commit(session, publish_refutation, fake_id)


def publish(session: Session, fake_id: int) -> ReplySummary:
    """Reply under every copy of the fake that has no reply yet (approved refutations only)."""
    repo = FakeRepository(session)
    summary = ReplySummary()
    fake = repo.get(fake_id)
    if fake is None or fake.refutation_state != "approved" or not fake.refutation_text:
        return summary
    for message in repo.copy_messages(fake.id):
        row = repo.reply(fake.id, message.id) or repo.add(
            FakeReply(fake_id=fake.id, message_id=message.id))
        if row.status in ("published", "no_channel"):
            summary.already += 1
            continue
        _publish_one(session, fake, message, row, summary)
    return summary


def _publish_one(session: Session, fake: Fake, message: Message, row: FakeReply,
                 summary: ReplySummary) -> None:
    if message.source == "email":  # a refutation is not sent into a stranger's mailbox
        row.status, row.published_at = "no_channel", utcnow()
        summary.count("no_channel")
        return
    outcome = reply_under(session, message, row, Reply(
        target_source_id=message.source_id, text=reply_text(fake),
        target_parent_source_id=message.parent_source_id,
        idempotency_key=f"fake-{fake.id}-message-{message.id}"),
        what=f"the refutation of fake {fake.id} under message {message.id}",
        replying_kinds_only=True)
    summary.count(outcome)
