"""The brief's section on fakes: the period's fakes with copies, their copies and reach (a
section of :mod:`otklik.reports.brief`, declared through its hook)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from otklik.analytics.schemas import day_start_utc
from otklik.audit.actor import Actor
from otklik.fakes import analytics
from otklik.fakes.repository import FakeRepository
from otklik.reports.brief import Brief, Table, brief_section

#: Fakes listed in the brief, the most copied first.
TOP = 10


@brief_section
def fakes_section(session: Session, actor: Actor, brief: Brief) -> Table | None:
    """Fakes of the region copied in the period: copies, reach, the refutation's state
    (no section for a region whose registry is empty, or for a caller without analytics)."""
    if not actor.scope.can("analytics"):
        return None
    start, end = day_start_utc(brief.flt.start), day_start_utc(brief.flt.end)
    data = analytics.summary(session, actor, region_code=brief.region_code, start=start,
                             end=end)
    if not data.fakes:
        return None  # a region without a registry of fakes has no section
    repo = FakeRepository(session)
    counts: dict[int, tuple[int, int]] = {}
    for fake_id, _, _, reach, _ in repo.copy_rows(
            repo.scoped_fake_ids(actor.scope, brief.region_code), "copy", start, end):
        copies, total = counts.get(fake_id, (0, 0))
        counts[fake_id] = (copies + 1, total + reach)
    fakes = repo.fakes_by_id(list(counts))
    state = {"approved": "опровергнут", "on_approval": "на согласовании",
             "draft": "готовится", "none": "нет"}
    rows: list[list[str | int | float]] = [
        [fakes[i].claim[:90], c, r, state.get(fakes[i].refutation_state, "—")]
        for i, (c, r) in sorted(counts.items(), key=lambda kv: -kv[1][0])[:TOP]]
    reach_text = f"{data.reach:,}".replace(",", " ")  # 12 345, as reports.tables writes sums
    title = f"Фейки: распространялось {data.fakes_spread}, копий {data.copies}, охват {reach_text}"
    return Table("fakes", title, ["Утверждение", "Копий", "Охват", "Опровержение"],
                        rows, [0.58, 0.12, 0.14, 0.16])
