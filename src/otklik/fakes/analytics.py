"""Analytics of fakes: unique fakes, copies and reach by topic, territory and period; the
channels that spread fakes and those that seed them (post a fake's first copy); a fake's
spread over time by source and channel; the XLSX export."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.fakes.repository import FakeRepository
from otklik.language.taxonomy_service import active_taxonomy
from otklik.models.fakes import Fake


@dataclass
class Row:
    """One line of a breakdown."""

    key: str
    name: str
    fakes: int = 0
    copies: int = 0
    reach: int = 0


@dataclass
class ChannelRow:
    """A channel that carried copies: how many, of how many fakes, what reach, and how many
    fakes it seeded (posted their first copy)."""

    channel: str
    source: str
    copies: int = 0
    fakes: int = 0
    reach: int = 0
    seeded: int = 0


@dataclass
class Summary:
    """The fakes' analytics of a scope and period."""

    fakes: int = 0
    fakes_spread: int = 0
    copies: int = 0
    reach: int = 0
    by_topic: list[Row] = field(default_factory=list)
    by_territory: list[Row] = field(default_factory=list)
    by_month: list[Row] = field(default_factory=list)
    channels: list[ChannelRow] = field(default_factory=list)


def _rows(acc: dict[str, Row]) -> list[Row]:
    return sorted(acc.values(), key=lambda r: (-r.copies, -r.fakes, r.name))


def summary(session: Session, actor: Actor, *, region_code: str | None = None,
            start: datetime | None = None, end: datetime | None = None,
            topic: str | None = None, top: int = 15) -> Summary:
    """Fakes and their copies in the actor's scope; copies posted in ``[start, end)``."""
    actor.require("analytics")
    repo = FakeRepository(session)
    ids = repo.scoped_fake_ids(actor.scope, region_code, topic)
    fakes = repo.fakes_by_id(ids)
    copies = repo.copy_rows(ids, "copy", start, end) if ids else []
    places = repo.territory_names({f.territory_id for f in fakes.values() if f.territory_id})
    taxonomy = active_taxonomy(session)

    def topic_name(code: str) -> str:
        return taxonomy.name(code) if code in taxonomy else code

    out = Summary(fakes=len(fakes))
    topics: dict[str, Row] = {}
    territories: dict[str, Row] = {}
    months: dict[str, Row] = {}
    channels: dict[tuple[str, str], ChannelRow] = {}
    channel_fakes: dict[tuple[str, str], set[int]] = defaultdict(set)
    first: dict[int, tuple[datetime, tuple[str, str]]] = {}
    spread: set[int] = set()
    for fake in fakes.values():
        t = fake.topic or "—"
        topics.setdefault(t, Row(t, topic_name(t))).fakes += 1
        place = places.get(fake.territory_id or -1, fake.region_code)
        territories.setdefault(place, Row(place, place)).fakes += 1
    for fake_id, source, channel, reach, posted in copies:
        fake = fakes[fake_id]
        spread.add(fake_id)
        out.copies += 1
        out.reach += reach
        for acc, key in ((topics, fake.topic or "—"),
                         (territories, places.get(fake.territory_id or -1, fake.region_code)),
                         (months, f"{posted:%Y-%m}")):
            row = acc.setdefault(key, Row(key, topic_name(key) if acc is topics else key))
            row.copies += 1
            row.reach += reach
        ckey = (channel or "—", source)
        crow = channels.setdefault(ckey, ChannelRow(ckey[0], source))
        crow.copies += 1
        crow.reach += reach
        channel_fakes[ckey].add(fake_id)
        if fake_id not in first or posted < first[fake_id][0]:
            first[fake_id] = (posted, ckey)
    for _, ckey in first.values():
        channels[ckey].seeded += 1
    month_fakes: dict[str, set[int]] = defaultdict(set)
    for fake_id, _, _, _, posted in copies:
        month_fakes[f"{posted:%Y-%m}"].add(fake_id)
    for key, row in months.items():
        row.fakes = len(month_fakes[key])
    for ckey, crow in channels.items():
        crow.fakes = len(channel_fakes[ckey])
    out.fakes_spread = len(spread)
    out.by_topic, out.by_territory = _rows(topics), _rows(territories)
    out.by_month = sorted(months.values(), key=lambda r: r.key)
    out.channels = sorted(channels.values(),
                          key=lambda r: (-r.seeded, -r.copies, r.channel))[:top]
    return out


def timeline(session: Session, fake: Fake) -> dict[str, object]:
    """A fake's copies per day, one series per source, and the channels that carried them
    (for the card's chart)."""
    rows = FakeRepository(session).copy_rows([fake.id], "copy")
    days = sorted({f"{posted:%Y-%m-%d}" for _, _, _, _, posted in rows})
    per: dict[str, Counter[str]] = defaultdict(Counter)
    channels: Counter[str] = Counter()
    reach_by_day: Counter[str] = Counter()
    for _, source, channel, reach, posted in rows:
        day = f"{posted:%Y-%m-%d}"
        per[source][day] += 1
        channels[channel or "—"] += 1
        reach_by_day[day] += reach
    cumulative, total = [], 0
    for day in days:
        total += reach_by_day[day]
        cumulative.append(total)
    return {"days": days,
            "series": [{"name": s, "data": [per[s][d] for d in days]} for s in sorted(per)],
            "reach": cumulative,
            "channels": [{"name": c, "copies": n} for c, n in channels.most_common(10)]}


def export_xlsx(data: Summary, title: str) -> bytes:
    """The analytics as an XLSX workbook (one sheet per breakdown)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "Итоги"
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    for label, value in (("Фейков в реестре", data.fakes),
                         ("Фейков с копиями за период", data.fakes_spread),
                         ("Копий", data.copies), ("Охват копий", data.reach)):
        sheet.append([label, value])
    sheet.column_dimensions["A"].width = 40
    for name, rows in (("По темам", data.by_topic), ("По территориям", data.by_territory),
                       ("По месяцам", data.by_month)):
        grid = book.create_sheet(name)
        grid.append([name.split()[-1].capitalize(), "Фейков", "Копий", "Охват"])
        for row in rows:
            grid.append([row.name, row.fakes, row.copies, row.reach])
        grid.column_dimensions["A"].width = 40
    grid = book.create_sheet("Каналы")
    grid.append(["Канал", "Источник", "Копий", "Фейков", "Охват", "Первым опубликовал"])
    for c in data.channels:
        grid.append([c.channel, c.source, c.copies, c.fakes, c.reach, c.seeded])
    grid.column_dimensions["A"].width = 40
    for ws in book.worksheets:
        for cell in ws[1]:
            cell.font = Font(bold=True)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
