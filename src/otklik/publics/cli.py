"""``otklik publics import | collect | compute | rating | methodology``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from otklik.console import fail, progress_bar
from otklik.errors import OtklikError
from otklik.publics.collect import MessageSink

publics_app = typer.Typer(help="Госпаблики: реестр, сбор, методика, недельный рейтинг.",
                          no_args_is_help=True)
console = Console()
#: Rows of an import report printed, at most.
MAX_SHOWN = 50


def _region(value: str | None) -> str | None:
    from otklik.territories.service import resolve_region_code

    return resolve_region_code(value) if value else None


@publics_app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="CSV or XLSX of pages", exists=True,
                                         dir_okay=False)],
    region: Annotated[str | None, typer.Option(
        help="Region code or name for rows without one")] = None,
) -> None:
    """Add pages from a file; every row not added is named with the reason."""
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.publics.importer import import_pages

    try:
        with session_scope() as session:
            report = import_pages(session, Actor.system("cli"), path, _region(region))
    except OtklikError as exc:
        raise fail(exc.message) from None
    problems = report.problems
    if problems:
        table = Table("строка", "итог", "страница", "причина")
        for row in problems[:MAX_SHOWN]:
            table.add_row(str(row.row), row.outcome, row.name, row.detail)
        console.print(table)
        if len(problems) > MAX_SHOWN:
            console.print(f"… и ещё {len(problems) - MAX_SHOWN}")
    console.print(f"добавлено {report.added}, дублей {report.duplicates}, "
                  f"ошибок {report.errors}")


def _collect_command(sink: MessageSink) -> None:
    @publics_app.command("collect")
    def collect_command(
        region: Annotated[str | None, typer.Option(help="Region code or name")] = None,
        page: Annotated[list[int] | None, typer.Option(help="Page id; repeat")] = None,
    ) -> None:
        """Collect posts, comments and the day's snapshot of the active pages."""
        from otklik.accounts.scope import Scope
        from otklik.audit.actor import Actor
        from otklik.db.session import session_scope
        from otklik.publics.collect import collect
        from otklik.publics.repository import PublicsRepository

        try:
            code = _region(region)
            with session_scope() as session:
                total = len(PublicsRepository(session).collectable(Scope.system(), code,
                                                                   page or []))
            with progress_bar() as bar:
                task = bar.add_task("страницы", total=total)
                result = collect(session_scope, Actor.system("cli"), sink, region_code=code,
                                 page_ids=page or [], progress=lambda n: bar.advance(task, n))
        except OtklikError as exc:
            raise fail(exc.message) from None
        posts = sum(r.posts for r in result.runs)
        comments = sum(r.comments for r in result.runs)
        console.print(f"страниц {len(result.runs)}, новых постов {posts}, "
                      f"комментариев {comments}, ошибок {len(result.errors)}")
        for error in result.errors[:MAX_SHOWN]:
            console.print(f"  [yellow]{error}[/yellow]", highlight=False)


@publics_app.command("compute")
def compute_command(
    week: Annotated[str | None, typer.Option(
        help="ISO week, e.g. 2026-W49; the last complete week by default")] = None,
    region: Annotated[str | None, typer.Option(help="Region code or name; all by default")
                      ] = None,
) -> None:
    """Compute a week's rating (one SQL job over every active page)."""
    from otklik.audit.actor import Actor
    from otklik.db.base import utcnow
    from otklik.db.session import session_scope
    from otklik.publics import service
    from otklik.publics.weeks import Week

    try:
        chosen = Week.parse(week) if week else Week.of(utcnow()).previous()
        with session_scope() as session:
            summary = service.compute_week(session, Actor.system("cli"), chosen,
                                           _region(region))
    except OtklikError as exc:
        raise fail(exc.message) from None
    console.print(f"неделя {summary.week}, методика v{summary.version}: страниц "
                  f"{summary.pages}, с оценкой {summary.rated}, нет данных "
                  f"{summary.pages - summary.rated}")
    if summary.no_data:
        more = summary.pages - summary.rated - len(summary.no_data)
        console.print("нет данных: " + "; ".join(summary.no_data)
                      + (f" … и ещё {more}" if more > 0 else ""), highlight=False)


@publics_app.command("rating")
def rating_command(
    region: Annotated[str, typer.Option(help="Region code or name")],
    week: Annotated[str, typer.Option(help="ISO week, e.g. 2026-W49")],
    format: Annotated[str, typer.Option("--format", help="xlsx or docx")],
    out: Annotated[Path, typer.Option(help="File to write")],
) -> None:
    """Export a region's weekly rating as XLSX or DOCX."""
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.publics.export import build_report, render
    from otklik.publics.weeks import Week

    if format not in ("xlsx", "docx"):
        raise fail(f"format {format!r}: use xlsx or docx")
    try:
        label = Week.parse(week).label
        with session_scope() as session:
            report = build_report(session, Actor.system("cli"), str(_region(region)), label)
        data = render(report, "docx" if format == "docx" else "xlsx")
        out.write_bytes(data)
    except OtklikError as exc:
        raise fail(exc.message) from None
    except OSError as exc:
        raise fail(f"{out}: {exc.strerror or exc}") from None
    console.print(f"{out}: {len(report.rows)} страниц, методика v{report.version}")


@publics_app.command("candidates")
def candidates_command(
    name: Annotated[str, typer.Argument(help="The organization's name")],
    region: Annotated[str | None, typer.Option(help="Region code or name")] = None,
) -> None:
    """Channels of the monitored stream, not yet in the registry, named like an
    organization: candidate pages to add."""
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.publics import service
    from otklik.publics.vocabulary import PLATFORM_NAMES, label

    try:
        with session_scope() as session:
            found = service.propose_candidates(session, Actor.system("cli"), name,
                                               _region(region))
    except OtklikError as exc:
        raise fail(exc.message) from None
    if not found:
        console.print(f"в потоке нет каналов, похожих на «{name}», которых нет в реестре")
        return
    for c in found:  # one line each, so that a link is never cut to the terminal's width
        console.print(f"{label(PLATFORM_NAMES, c.platform)} · {c.channel} · сообщений "
                      f"{c.messages} · {c.link or 'id ' + c.external_id}", highlight=False,
                      soft_wrap=True)


@publics_app.command("methodology")
def methodology_command() -> None:
    """Show the methodology in force (its version and criteria)."""
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.publics import service
    from otklik.publics.vocabulary import CRITERIA

    with session_scope() as session:
        version = service.ensure_methodology(session, Actor.system("cli"))
        rows = service.criteria_in(session, version.id)
        table = Table("критерий", "тип", "класс", "вес", "норма",
                      title=f"Методика v{version.version}")
        for row in rows:
            table.add_row(CRITERIA[row.code].ru if row.code in CRITERIA else row.code,
                          row.page_type, row.page_class, f"{row.weight:g}",
                          f"{row.threshold:g}")
    console.print(table)


def register(app: typer.Typer, sink: MessageSink | None = None) -> None:
    """Add ``otklik publics …`` to the CLI; ``sink`` stores collected comments in the
    message stream (without it there is no ``collect``)."""
    if sink is not None:
        _collect_command(sink)
    app.add_typer(publics_app, name="publics")
