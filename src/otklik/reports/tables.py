"""The brief's tables as plain rows, shared by every writer."""

from __future__ import annotations

from otklik.reports.brief import Brief, Table


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.0f}%"


def _hours(value: float | None) -> str:
    return "—" if value is None else f"{value:.1f}"


def _rub(value: int | None) -> str:
    if value is None:
        return "—"
    if value >= 1_000_000_000:
        return f"{value / 1e9:.1f} млрд ₽".replace(".", ",")
    if value >= 1_000_000:
        return f"{value / 1e6:.0f} млн ₽"
    return f"{value:,} ₽".replace(",", " ")


def _partial(brief: Brief) -> str:
    """A title suffix for rates of an unfinished period (its latest cases are not due)."""
    return "" if brief.dashboard.period.complete else " (период не закончен)"


def headline(brief: Brief) -> Table:
    """The period's numbers."""
    t = brief.dashboard.totals
    change = "—" if t.messages_change_pct is None else f"{t.messages_change_pct:+.0f}%"
    return Table("headline", "Главные цифры", ["Показатель", "Значение"], [
        ["Сообщений жителей", t.messages],
        [f"Изменение к {brief.compared_with}", change],
        ["Обращений (в работу)", t.cases],
        ["Доля негативных сообщений", _pct(t.negative_share)],
    ], [0.65, 0.35])


def topics(brief: Brief) -> Table:
    """Topic shares and changes."""
    rows: list[list[str | int | float]] = [
        [t.name, t.messages, _pct(t.share), f"{t.change_pp:+.1f}".replace(".", ",")]
        for t in brief.dashboard.topics if t.messages]
    rows = rows[:12]
    return Table("topics", "Темы", ["Тема", "Сообщений", "Доля", "Изм., п. п."], rows,
                 [0.55, 0.15, 0.12, 0.18])


def problems(brief: Brief) -> Table:
    """Top problems."""
    trend = {"new": "новая", "up": "рост", "down": "снижение", "flat": "без изменений"}
    rows: list[list[str | int | float]] = [
        [p.title, p.municipality or "—", p.messages, p.messages_previous, trend[p.trend]]
        for p in brief.dashboard.problems]
    before = "Было" if brief.dashboard.period.complete else "Было за те же дни"
    return Table("problems", "Главные проблемы",
                 ["Проблема", "Где", "Сообщений", before, "Тренд"], rows,
                 [0.40, 0.24, 0.12, 0.10, 0.14])


def executor_rating(brief: Brief) -> Table:
    """Executors by score."""
    perf = {p.key: p for p in brief.dashboard.executors}
    rows: list[list[str | int | float]] = []
    for r in brief.executor_ratings.items[:15]:
        p = perf[r.key]
        rows.append([r.rank, r.name, r.score, p.cases, _pct(p.compliance),
                     _hours(p.median_first_response_h), _pct(p.brush_off_rate),
                     _pct(p.reopen_rate)])
    return Table("executors", "Рейтинг исполнителей" + _partial(brief),
                 ["№", "Исполнитель", "Балл", "Обращ.", "В срок", "1-й ответ, ч", "Отписки",
                  "Повт."], rows, [0.05, 0.35, 0.08, 0.09, 0.09, 0.12, 0.11, 0.11])


def municipality_performance(brief: Brief) -> Table:
    """Municipalities: deadlines and quality."""
    rows: list[list[str | int | float]] = [
        [p.name, p.cases, _pct(p.compliance), _pct(p.overdue_share),
         _hours(p.median_resolution_h), _pct(p.brush_off_rate)]
        for p in brief.dashboard.municipalities[:20]]
    return Table("municipalities",
                 "Муниципалитеты: сроки и качество ответов" + _partial(brief),
                 ["Муниципалитет", "Обращ.", "В срок", "Просрочено", "Решение, ч", "Отписки"],
                 rows, [0.40, 0.10, 0.11, 0.14, 0.13, 0.12])


def overdue(brief: Brief) -> Table:
    """Open cases past their deadline."""
    rows: list[list[str | int | float]] = [
        [o.case_id, o.title[:80], o.executor[:60], f"{o.due:%d.%m.%Y}", o.days_late]
        for o in brief.overdue]
    return Table("overdue", "Просроченные обращения",
                 ["№", "Обращение", "Исполнитель", "Срок", "Дней"], rows,
                 [0.08, 0.42, 0.30, 0.12, 0.08])


def decisions(brief: Brief) -> Table:
    """Decisions of the period."""
    rows: list[list[str | int | float]] = [
        [f"{d.decided_on:%d.%m.%Y}", d.title, d.decided_by, _rub(d.budget_rub)]
        for d in brief.decisions]
    return Table("decisions", "Управленческие решения периода",
                 ["Дата", "Решение", "Кто принял", "Бюджет"], rows, [0.12, 0.48, 0.25, 0.15])


def all_tables(brief: Brief) -> list[Table]:
    """Every table in the order of the brief."""
    return [headline(brief), topics(brief), problems(brief), executor_rating(brief),
            municipality_performance(brief), overdue(brief), decisions(brief),
            *brief.sections]
