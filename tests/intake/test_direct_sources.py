"""Messages sent straight to the center (web form, e-mail, Open311) are appeals."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.cases.builder import build_cases
from otklik.channels.schemas import IncomingMessage, Source
from otklik.intake.service import store_messages
from otklik.intake.tasks import enrich_now
from otklik.models.case import CaseMessage
from otklik.models.message import Message, MessageEnrichment

# Names no thing of the city's economy and no fault the stages know: only the channel tells.
BARE_REPORT = "Громкая музыка из кафе на Садовой до утра"


def _enrich(session: Session, source: Source, source_id: str, text: str) -> MessageEnrichment:
    store_messages(session, [IncomingMessage(
        source=source, source_id=source_id, text=text, region="68",
        created_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC))], enqueue=False)
    message = session.query(Message).filter_by(source=source.value, source_id=source_id).one()
    enrich_now(session, [message.id])
    row = session.get(MessageEnrichment, message.id)
    assert row is not None
    return row


@pytest.mark.parametrize("source", [Source.web, Source.email, Source.open311])
def test_a_bare_report_sent_to_the_center_is_an_appeal(session: Session, source: Source) -> None:
    row = _enrich(session, source, f"{source.value}-1", BARE_REPORT)
    assert row.relevant
    assert row.result["relevant"] is True
    assert row.result["relevance"]["direct_source"] == source.value
    assert source.value in row.result["explain"]["relevance"]["direct_source"]


def test_the_same_words_in_a_public_post_need_the_stages_cues(session: Session) -> None:
    row = _enrich(session, Source.vk, "wall-1_1", BARE_REPORT)
    assert not row.relevant
    assert "direct_source" not in row.result["relevance"]


def test_a_bare_report_in_a_public_post_is_an_appeal_by_its_words(session: Session) -> None:
    row = _enrich(session, Source.vk, "wall-1_2", "Бурьян и помойка за гаражами на Садовой")
    assert row.relevant
    assert "direct_source" not in row.result["relevance"]
    assert any(c.startswith("report:")
               for c in row.result["explain"]["relevance"]["cues"]["appeal"])


@pytest.mark.parametrize(
    "text",
    [
        "Скидки до 50%! Натяжные потолки недорого, звоните 8 900 123-45-67, пишите в лс",
        "С Новым годом! Счастья, здоровья и хорошего настроения!",
        "😂😂😂🔥",
        "Hello, I would like to know the opening hours",
    ],
)
def test_adverts_greetings_and_empty_mail_stay_out(session: Session, text: str) -> None:
    row = _enrich(session, Source.email, f"mail-{abs(hash(text))}", text)
    assert not row.relevant, row.result["relevance"]


def test_a_form_entry_without_appeal_words_becomes_a_case(session: Session) -> None:
    row = _enrich(session, Source.web, "form-7", "Парковка на газоне у дома 12 по ул. Мира")
    assert row.relevant
    build_cases(session, Actor.system("tests"), [row.message_id])
    assert session.query(CaseMessage).filter_by(message_id=row.message_id).count() == 1
