"""The message store: once per (source, source_id), edits kept, deletions marked."""

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from otklik.channels.schemas import IncomingMessage, Source
from otklik.intake.repository import MessageRepository
from otklik.intake.service import store_messages
from otklik.models.message import MAX_TEXT_LENGTH, Message
from otklik.queue import broker

T0 = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)


def msg(source_id: str, text: str = "Когда починят дорогу на ул. Лаврова?",
        **extra: object) -> IncomingMessage:
    return IncomingMessage(source=Source.vk, source_id=source_id, text=text, created_at=T0,
                           author_id="id123", author_name="Ирина К.", region="68",
                           **extra)  # type: ignore[arg-type]


def _get(session: Session, source_id: str) -> Message:
    return session.scalars(select(Message).where(Message.source_id == source_id)).one()


def test_same_message_twice_is_stored_once(session: Session) -> None:
    first = store_messages(session, [msg("wall-1_10"), msg("wall-1_10")], enqueue=False)
    second = store_messages(session, [msg("wall-1_10")], enqueue=False)
    assert (first.stored, first.duplicates) == (1, 1)
    assert (second.stored, second.duplicates) == (0, 1)
    assert session.scalars(select(Message).where(Message.source_id == "wall-1_10")).all()


def test_an_edit_keeps_the_old_text(session: Session) -> None:
    store_messages(session, [msg("wall-1_11", "Яма на дороге")], enqueue=False)
    edited = msg("wall-1_11", "Яма на дороге, уже две недели!!!", edited_at=T0 + timedelta(hours=1))
    summary = store_messages(session, [edited], enqueue=False)
    message = _get(session, "wall-1_11")
    assert summary.updated == 1 and message.text.endswith("две недели!!!")
    revisions = MessageRepository(session).revisions(message.id)
    assert [r.text for r in revisions] == ["Яма на дороге"]
    assert message.edited_at == T0 + timedelta(hours=1) and message.enrich_status == "pending"


def test_a_deleted_message_is_marked_not_erased(session: Session) -> None:
    store_messages(session, [msg("wall-1_12", "Нет воды третий день")], enqueue=False)
    summary = store_messages(session, [msg("wall-1_12", "", deleted=True)], enqueue=False)
    message = _get(session, "wall-1_12")
    assert summary.deleted == 1 and message.deleted_at is not None
    assert message.text == "Нет воды третий день"


def test_long_text_is_cut_and_flagged_raw_kept(session: Session) -> None:
    long_text = "Очень длинная жалоба. " * 2000
    store_messages(session, [msg("wall-1_13", long_text)], enqueue=False)
    message = _get(session, "wall-1_13")
    assert len(message.text) == MAX_TEXT_LENGTH and message.text_truncated
    assert message.text_length == len(long_text.strip())
    assert message.raw["_original_text"] == long_text


def test_html_and_control_characters_are_normalized(session: Session) -> None:
    dirty = "<p>Во дворе&nbsp;не&nbsp;вывозят мусор</p>\x00\x07"
    store_messages(session, [msg("wall-1_14", dirty)], enqueue=False)
    message = _get(session, "wall-1_14")
    assert message.text == "Во дворе не вывозят мусор"
    assert message.raw["_original_text"].startswith("<p>")


def test_comments_find_their_post_in_any_order(session: Session) -> None:
    comment = msg("wall-1_20_5", "У нас тоже!", parent_source_id="wall-1_20")
    store_messages(session, [comment], enqueue=False)
    store_messages(session, [msg("wall-1_20", "Сугробы во дворе")], enqueue=False)
    post = _get(session, "wall-1_20")
    assert _get(session, "wall-1_20_5").parent_id == post.id
    late = msg("wall-1_20_6", "+1", parent_source_id="wall-1_20")
    store_messages(session, [late], enqueue=False)
    assert _get(session, "wall-1_20_6").parent_id == post.id


def test_author_key_is_stable_and_pseudonymous(session: Session) -> None:
    store_messages(session, [msg("wall-1_30"), msg("wall-1_31")], enqueue=False)
    a, b = _get(session, "wall-1_30"), _get(session, "wall-1_31")
    assert a.author_key == b.author_key and a.author_key and "id123" not in a.author_key


def _queued() -> int:
    return sum(q.qsize() for name, q in broker.queues.items() if name.startswith("enrich"))


def test_enrichment_is_queued_after_commit_and_dropped_on_rollback(session: Session) -> None:
    import otklik.intake.tasks  # noqa: F401

    before = _queued()
    store_messages(session, [msg("wall-1_40")])
    assert _queued() == before  # nothing before commit
    session.commit()
    assert _queued() == before + 1
    store_messages(session, [msg("wall-1_41")])
    session.rollback()
    session.commit()
    assert _queued() == before + 1
    broker.flush_all()


def test_enrichment_jobs_take_batches_of_the_configured_size(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    import dramatiq

    import otklik.intake.tasks  # noqa: F401
    from otklik.config import get_settings

    monkeypatch.setenv("OTKLIK_ENRICH_BATCH", "3")
    get_settings.cache_clear()
    try:
        broker.flush_all()
        store_messages(session, [msg(f"wall-1_5{n}") for n in range(7)])
        session.commit()
        jobs = [dramatiq.Message.decode(broker.queues["enrich"].get_nowait())
                for _ in range(broker.queues["enrich"].qsize())]
    finally:
        monkeypatch.delenv("OTKLIK_ENRICH_BATCH")
        get_settings.cache_clear()
        broker.flush_all()
    batches = [job.args[0] for job in jobs if job.actor_name == "enrich_messages"]
    assert [len(batch) for batch in batches] == [3, 3, 1]
    stored = session.scalars(select(Message.id).where(
        Message.source_id.in_([f"wall-1_5{n}" for n in range(7)])).order_by(Message.id))
    assert sorted(i for batch in batches for i in batch) == list(stored)


def test_nul_characters_are_kept_visibly_on_every_database(session: Session) -> None:
    message = msg("wall-1_50", "Текст\x00 с нулём", raw={"text": "Текст\x00 с нулём"})
    message.author_name = "Имя\x00"
    store_messages(session, [message], enqueue=False)
    stored = _get(session, "wall-1_50")
    assert "\x00" not in stored.text and stored.raw["text"] == "Текст\\u0000 с нулём"
    assert stored.author_name == "Имя\\u0000"


def test_a_released_savepoint_does_not_send_jobs_early(session: Session) -> None:
    import otklik.intake.tasks  # noqa: F401

    before = _queued()
    with session.begin_nested():
        store_messages(session, [msg("wall-1_60")])
    assert _queued() == before  # the savepoint is not the commit
    with session.begin_nested():
        store_messages(session, [msg("wall-1_61")])
    session.commit()
    assert _queued() == before + 2  # both jobs, sent once, on the real commit
    broker.flush_all()
