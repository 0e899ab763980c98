"""Karelia's archive and its year of decisions (DESIGN.md story 1), without a database."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

from otklik.analytics.schemas import day_start_utc, reporting_day
from otklik.demo import karelia
from otklik.demo.archive import ArchiveBuilder, archive_size, generate_archive
from otklik.demo.stream import generate_stream
from otklik.demo.stream_vocab import load_regions

END = datetime(2026, 11, 29, 7, tzinfo=UTC)


def _settlements() -> list[tuple[str, int]]:
    return [(s.municipality, s.population) for s in load_regions()["86"].settlements]


def test_span_is_the_calendar_year_before_the_window_or_twelve_months_early_in_the_year(
) -> None:
    start, stop = karelia.archive_span(END)
    assert start == day_start_utc(datetime(2026, 1, 1).date())
    assert stop == END - timedelta(days=90)
    february = datetime(2027, 2, 10, 12, tzinfo=UTC)
    start, stop = karelia.archive_span(february)
    assert start == february - timedelta(days=365) and stop == february - timedelta(days=90)


def test_archive_is_karelian_residents_before_the_window_with_fresh_ids() -> None:
    archive = list(generate_archive(seed=3, end=END, total=600))
    start, stop = karelia.archive_span(END)
    assert len(archive) == 600
    assert all(m.region == "86" for m in archive)
    assert all(start <= m.created_at < stop for m in archive)
    assert [m.created_at for m in archive] == sorted(m.created_at for m in archive)
    meta = [m.raw["_demo"] for m in archive]
    assert not any(x["noise"] for x in meta) and all(x["person"] for x in meta)
    assert all(m.parent_source_id is None for m in archive)
    assert {m.source.value for m in archive} == {"vk", "ok", "telegram", "email", "web"}
    assert [m.model_dump() for m in generate_archive(seed=3, end=END, total=600)] == [
        m.model_dump() for m in archive]
    live = list(generate_stream(seed=3, end=END, total=600))
    assert not {m.source_id for m in archive} & {m.source_id for m in live}
    first_live: dict[str, int] = {}
    for m in live:
        if m.source.value == "vk" and m.parent_source_id is None and m.region == "86":
            first_live.setdefault(m.owner_id or "", int(m.post_id or 0))
    older = [(m.owner_id, int(m.post_id or 0)) for m in archive if m.source.value == "vk"]
    assert all(post < first_live[owner] for owner, post in older if owner in first_live)


def test_archive_size_follows_the_stream() -> None:
    assert archive_size(20_000) == 62_000 and archive_size(0) == 0


def test_about_seventy_decisions_spread_over_the_year_away_from_the_window_edge() -> None:
    plan = karelia.plan_decisions(END, _settlements())
    start, stop = karelia.archive_span(END)
    assert len(plan) == karelia.DECISIONS_PER_YEAR
    assert all(reporting_day(start) < p.day < reporting_day(END) for p in plan)
    edge = reporting_day(stop)
    assert all(abs((p.day - edge).days) >= 30 for p in plan)
    assert all(p.in_archive == (p.day < edge) for p in plan)
    in_archive = sum(p.in_archive for p in plan)
    assert 40 <= in_archive <= 60  # most of the year is archive
    titles = [karelia.decision_title(p, p.municipality) for p in plan]
    assert len(set(titles)) == len(titles)
    assert plan == karelia.plan_decisions(END, _settlements())
    months = Counter(p.day.month for p in plan)
    assert len(months) >= 9


def test_residents_write_less_about_a_subject_after_a_decision_that_worked() -> None:
    builder = ArchiveBuilder(5, END, 12_000)
    drafts = builder.build()
    before = after = 0
    for planned in builder.plan:
        if not planned.works:
            continue
        for d in drafts:
            if d.settlement.municipality != planned.municipality or d.topic not in \
                    planned.template.generator_topics:
                continue
            days = (d.created_at.date() - planned.day).days
            before += -30 <= days < 0
            after += 0 <= days < 30
    assert after < 0.6 * before
