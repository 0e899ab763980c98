"""The settlement a sender gave in a form's own field places the message when its text names
none; a batch reads the places its forms name together (one query for their ids, one for
their rows), and a name of another region's place is not taken."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import event
from sqlalchemy.orm import Session

from otklik.channels.schemas import IncomingMessage, Source
from otklik.intake.service import store_messages
from otklik.intake.tasks import enrich_now
from otklik.models.message import Message, MessageEnrichment
from otklik.territories.repository import TerritoryRepository

TEXT = "Во дворе третью неделю не вывозят мусор, контейнеры переполнены"


def test_a_batch_of_forms_is_placed_by_their_settlement_fields(session: Session) -> None:
    fields = {"web-s1": "Мичуринск", "web-s2": "Мичуринск", "web-s3": "Котовск",
              "web-s4": "Сызрань", "web-s5": "",
              "web-s6": "Моршанск", "web-s7": "Рассказово"}  # Syzran is in Samara: not Tambov's
    store_messages(session, [IncomingMessage(
        source=Source.web, source_id=source_id, text=TEXT, region="68",
        created_at=datetime(2026, 11, 20, 9, 0, tzinfo=UTC),
        raw={"fields": {"settlement": name}}) for source_id, name in fields.items()],
        enqueue=False)
    messages = {m.source_id: m for m in session.query(Message).filter(
        Message.source_id.in_(list(fields)))}
    reads: list[str] = []

    def listen(_conn: object, _cursor: object, statement: str, *_: object) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "FROM territory" in statement:
            reads.append(statement)

    event.listen(session.get_bind(), "before_cursor_execute", listen)
    try:
        enrich_now(session, [m.id for m in messages.values()])
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", listen)
    places = {source_id: session.get(MessageEnrichment, m.id) for source_id, m in
              messages.items()}
    territories = TerritoryRepository(session)
    michurinsk = places["web-s1"].municipality_id or places["web-s1"].settlement_id
    assert michurinsk is not None
    assert places["web-s2"].municipality_id == places["web-s1"].municipality_id
    assert places["web-s2"].settlement_id == places["web-s1"].settlement_id
    kotovsk = places["web-s3"].settlement_id or places["web-s3"].municipality_id
    assert kotovsk is not None and kotovsk != michurinsk
    named = territories.get(kotovsk)
    assert named is not None and named.region_code == "68"
    assert places["web-s4"].settlement_id is None and places["web-s4"].municipality_id is None
    assert places["web-s5"].settlement_id is None and places["web-s5"].municipality_id is None
    towns = {places[s].settlement_id or places[s].municipality_id
             for s in ("web-s1", "web-s3", "web-s6", "web-s7")}
    assert len(towns) == 4 and None not in towns
    # the stated places' ids and rows: two reads for the batch, not two per name
    assert len(reads) == 2, reads
