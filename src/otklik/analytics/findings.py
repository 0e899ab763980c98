"""Findings: statements generated with their numbers, each linked to the query behind it.

"24% сообщений касались темы «Дороги», +3 п. п. к предыдущему периоду; из них 40% — город
Мичуринск." Every number in the text is in ``numbers`` and recomputable from
``drill``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from otklik.analytics.schemas import NO_TOPIC, Dashboard, Finding, drill
from otklik.ru import plural

if TYPE_CHECKING:
    from otklik.analytics.periods import Progress
    from otklik.analytics.service import DashboardBuilder

#: A topic must move at least this much (percentage points) to be called growing.
GROWTH_PP = 2.0
#: Fewer messages than this and shares say nothing.
MINIMUM_MESSAGES = 20
#: Executors are named in findings only with at least this many answers / cases.
MINIMUM_SUBJECT = 5


def pct(value: float) -> str:
    """A share as Russian percent text (0.237 → "24%", 0.034 → "3,4%")."""
    number = 100 * value
    text = f"{number:.0f}" if number >= 10 or number == 0 else f"{number:.1f}"
    return text.replace(".", ",") + "%"


def pp(value: float) -> str:
    """A change in percentage points with its sign ("+3 п. п.", "−1,5 п. п.")."""
    sign = "+" if value > 0 else "−" if value < 0 else "±"
    magnitude = abs(value)
    text = f"{magnitude:.0f}" if magnitude >= 10 or magnitude == int(magnitude) else \
        f"{magnitude:.1f}"
    return f"{sign}{text.replace('.', ',')} п. п."


def _messages(n: int) -> str:
    return f"{n} {plural(n, 'сообщение', 'сообщения', 'сообщений')}"


def topic_findings(builder: DashboardBuilder, dashboard: Dashboard) -> list[Finding]:
    """The biggest topic with its change and where it concentrates; the fastest-growing one."""
    total = dashboard.totals.messages
    topics = [t for t in dashboard.topics if t.topic != NO_TOPIC]
    if total < MINIMUM_MESSAGES or not topics:
        return []
    out: list[Finding] = []
    top = topics[0]
    compared = dashboard.totals.messages_previous >= MINIMUM_MESSAGES
    if builder.flt.topic:  # the filter is the topic: its share is 100%, say the count
        text = f"По теме «{top.name}» — {_messages(top.messages)}"
    else:
        text = f"{pct(top.share)} сообщений касались темы «{top.name}»"
        if compared:  # no "+34 п. п." against a period without data
            text += f", {pp(top.change_pp)} к {builder.progress.compared_with()}"
    numbers: dict[str, float] = {"share": top.share, "messages": top.messages,
                                 "change_pp": top.change_pp}
    place = _concentration(builder, top.topic, top.messages)
    if place is not None:
        name, count, flt_drill = place
        numbers.update(place_messages=count, place_share=round(count / top.messages, 4))
        # "из них 40% — город Мичуринск": no declension of the place's name is needed.
        text += f"; из них {pct(count / top.messages)} — {name}"
        out.append(Finding(code="top_topic", text=text + ".", numbers=numbers, drill=top.drill,
                           related={"place": flt_drill}))
    else:
        out.append(Finding(code="top_topic", text=text + ".", numbers=numbers, drill=top.drill))
    growing = max(topics[1:], key=lambda t: t.change_pp, default=None)
    if compared and growing is not None and growing.change_pp >= GROWTH_PP:
        out.append(Finding(
            code="growing_topic",
            text=(f"Быстрее всего растёт доля темы «{growing.name}»: {pct(growing.share)} "
                  f"({pp(growing.change_pp)}), {_messages(growing.messages)}."),
            numbers={"share": growing.share, "change_pp": growing.change_pp,
                     "messages": growing.messages}, drill=growing.drill))
    return out


def _concentration(builder: DashboardBuilder, topic: str, topic_total: int
                   ) -> tuple[str, int, dict[str, Any]] | None:
    """The place (municipality at region level, region above) with most of a topic."""
    flt = builder.flt.narrowed(topic=topic)
    if builder.level == "municipality" or topic_total == 0:
        return None
    if builder.level == "region":
        rows = [(m, n) for m, n in builder.counts(flt, ["municipality"]) if m is not None]
        if not rows:
            return None
        key, count = max(rows, key=lambda r: (r[1], -r[0]))
        territory = builder.repo.territories([key]).get(key)
        name = territory.name if territory else str(key)
        return name, int(count), drill("messages", flt.narrowed(municipality_id=key))
    rows = [(r, n) for r, n in builder.counts(flt, ["region"]) if r is not None]
    if not rows:
        return None
    key, count = max(rows, key=lambda r: (r[1], r[0]))
    region = next((t for t in builder.repo.regions(builder.limits.scope)
                   if t.region_code == key), None)
    return (region.name if region else key), int(count), drill(
        "messages", flt.narrowed(region_code=key))


def volume_finding(dashboard: Dashboard, progress: Progress) -> Finding | None:
    """How the number of messages changed (for an unfinished period, against the same
    elapsed days of the previous one, and saying so)."""
    t = dashboard.totals
    if t.messages_change_pct is None or t.messages < MINIMUM_MESSAGES:
        return None
    change = t.messages_change_pct
    direction = "больше" if change > 0 else "меньше"
    if progress.complete:
        text = (f"За период поступило {_messages(t.messages)} — на {abs(change):.0f}% "
                f"{direction}, чем в предыдущем ({t.messages_previous}).")
        if abs(change) < 1:
            text = (f"За период поступило {_messages(t.messages)} — столько же, сколько "
                    f"в предыдущем.")
    else:
        head = f"За {progress.part()} (период не закончен) — {_messages(t.messages)}"
        text = (f"{head}, на {abs(change):.0f}% {direction}, чем за {progress.same_part()} "
                f"({t.messages_previous}).")
        if abs(change) < 1:
            text = f"{head}, столько же, сколько за {progress.same_part()}."
    return Finding(code="volume", text=text, numbers={
        "messages": t.messages, "messages_previous": t.messages_previous,
        "change_pct": change}, drill=t.drill_messages)


def problem_finding(dashboard: Dashboard, progress: Progress) -> Finding | None:
    """The problem residents wrote most about."""
    if not dashboard.problems:
        return None
    p = dashboard.problems[0]
    where = f" ({p.municipality})" if p.municipality else ""
    trend = {"new": "новая проблема", "up": f"рост с {p.messages_previous}",
             "down": f"снижение с {p.messages_previous}",
             "flat": f"было {p.messages_previous}"}[p.trend]
    if p.trend != "new" and not progress.complete:
        trend += f" за {progress.same_part()}"
    return Finding(code="top_problem",
                   text=f"Больше всего сообщений — о проблеме «{p.title}»{where}: "
                        f"{p.messages} ({trend}).",
                   numbers={"messages": p.messages, "messages_previous": p.messages_previous},
                   drill=p.drill)


def executor_findings(dashboard: Dashboard, progress: Progress) -> list[Finding]:
    """Overdue share and brush-offs, naming the executor with most of them (labelled
    partial in an unfinished period: its latest cases are not due yet)."""
    partial = "" if progress.complete else \
        f" (период не закончен: за {progress.part()})"
    rows = dashboard.executors
    cases = sum(r.cases for r in rows)
    out: list[Finding] = []
    if cases >= MINIMUM_SUBJECT:
        overdue = sum(r.overdue for r in rows)
        worst = max((r for r in rows if r.cases >= MINIMUM_SUBJECT),
                    key=lambda r: (r.overdue, -r.cases), default=None)
        text = (f"С нарушением срока — {pct(overdue / cases)} обращений ({overdue} из {cases})"
                f"{partial}")
        numbers: dict[str, float] = {"overdue": overdue, "cases": cases,
                                     "share": round(overdue / cases, 4)}
        finding_drill = dashboard.totals.drill_cases
        if worst is not None and worst.overdue:
            text += f"; больше всего у исполнителя «{worst.name}»: {worst.overdue}"
            numbers["worst_overdue"] = worst.overdue
            finding_drill = worst.drill["overdue"]
        out.append(Finding(code="overdue", text=text + ".", numbers=numbers,
                           drill=finding_drill))
    answers = sum(r.answers for r in rows)
    if answers >= MINIMUM_SUBJECT:
        brush = sum(r.brush_offs for r in rows)
        worst = max((r for r in rows if r.answers >= MINIMUM_SUBJECT and r.brush_off_rate),
                    key=lambda r: (r.brush_off_rate or 0, r.answers), default=None)
        text = (f"Признаны отписками {pct(brush / answers)} ответов ({brush} из {answers})"
                f"{partial}")
        numbers = {"brush_offs": brush, "answers": answers, "share": round(brush / answers, 4)}
        finding_drill = {k: v for k, v in dashboard.totals.drill_cases.items()}
        finding_drill["metric"] = "brush_off"
        if worst is not None:
            text += (f"; чаще всего у исполнителя «{worst.name}»: "
                     f"{pct(worst.brush_off_rate or 0)}")
            numbers["worst_rate"] = worst.brush_off_rate or 0
            finding_drill = worst.drill["brush_off"]
        out.append(Finding(code="brush_off", text=text + ".", numbers=numbers,
                           drill=finding_drill))
    return out


def sentiment_finding(dashboard: Dashboard) -> Finding | None:
    """The share of negative messages."""
    t = dashboard.totals
    if t.negative_share is None or t.messages < MINIMUM_MESSAGES:
        return None
    negative = round(t.negative_share * t.messages)
    d = dict(t.drill_messages)
    d["sentiment"] = "negative"
    return Finding(code="negative", text=f"Негативных сообщений — {pct(t.negative_share)} "
                   f"({negative} из {t.messages}).",
                   numbers={"share": t.negative_share, "messages": negative}, drill=d)


def generate(builder: DashboardBuilder, dashboard: Dashboard) -> list[Finding]:
    """All findings of a dashboard, most important first."""
    out: list[Finding] = []
    out += topic_findings(builder, dashboard)
    progress = builder.progress
    for finding in (volume_finding(dashboard, progress), problem_finding(dashboard, progress),
                    sentiment_finding(dashboard)):
        if finding is not None:
            out.append(finding)
    out += executor_findings(dashboard, progress)
    return out
