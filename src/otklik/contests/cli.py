"""Contest commands: ``otklik contests list | import | results | protocol``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from otklik.console import fail

console = Console()
contests_app = typer.Typer(help="Expert panels for contests.", no_args_is_help=True)


@contests_app.command("list")
def list_contests() -> None:
    """Every contest with its status and applications."""
    from otklik.audit.actor import Actor
    from otklik.contests.service import list_contests as contests
    from otklik.db.session import session_scope

    table = Table("id", "region", "title", "status", "applications")
    with session_scope() as session:
        for c in contests(session, Actor.system("cli")):
            table.add_row(str(c.id), c.region_code, c.title, c.status, str(c.applications))
    console.print(table)


@contests_app.command("import")
def import_applications(
    contest: Annotated[int, typer.Option("--contest", help="Contest id")],
    file: Annotated[Path, typer.Option("--file", help="CSV or XLSX with one application a row")],
) -> None:
    """Import applications; each row is counted or named with the reason it was skipped."""
    from otklik.audit.actor import Actor
    from otklik.contests.importer import import_applications as run
    from otklik.db.session import session_scope
    from otklik.errors import OtklikError

    if not file.is_file():
        raise fail(f"нет файла {file}")
    try:
        with session_scope() as session:
            report = run(session, Actor.system("cli"), contest, file)
    except OtklikError as exc:
        raise fail(exc.message) from exc
    for error in report.errors:
        console.print(f"строка {error.row}: {error.error}", highlight=False)
    console.print(f"добавлено {report.created}, уже были {report.duplicates}, "
                  f"с ошибками {len(report.errors)}")


@contests_app.command("results")
def results(contest: Annotated[int, typer.Option("--contest", help="Contest id")]) -> None:
    """The ranking and grants per track, with the budget shortfalls if any."""
    from otklik.audit.actor import Actor
    from otklik.contests.results import contest_results
    from otklik.db.session import session_scope
    from otklik.errors import OtklikError

    try:
        with session_scope() as session:
            data = contest_results(session, Actor.system("cli"), contest)
    except OtklikError as exc:
        raise fail(exc.message) from exc
    for track in data.tracks:
        table = Table("место", "№", "проект", "балл", "разброс", "выбросы", "грант, ₽",
                      title=f"{track.title}: {track.spent_rub:,} из {track.budget_rub:,} ₽")
        for r in track.rows:
            table.add_row(str(r.place or "—"), str(r.application_id), r.title[:40],
                          f"{r.score:.2f}" if r.score is not None else "—",
                          f"{r.spread:.2f}" if r.spread is not None else "—",
                          ", ".join(r.outliers), f"{r.grant_rub:,}" if r.grant_rub else "")
        console.print(table)
    for message in data.shortfalls:
        console.print(f"[red]{message}[/red]", highlight=False)


@contests_app.command("protocol")
def protocol(
    contest: Annotated[int, typer.Option("--contest", help="Contest id")],
    out: Annotated[Path, typer.Option("--out", help="File to write")],
    fmt: Annotated[str, typer.Option("--format", help="docx | xlsx")] = "docx",
) -> None:
    """Write the panel's protocol."""
    from otklik.audit.actor import Actor
    from otklik.contests.protocol import FORMATS, render
    from otklik.contests.results import contest_results
    from otklik.db.session import session_scope
    from otklik.errors import OtklikError

    if fmt not in FORMATS:
        raise fail(f"--format {fmt!r}: docx или xlsx")
    try:
        with session_scope() as session:
            data = contest_results(session, Actor.system("cli"), contest)
    except OtklikError as exc:
        raise fail(exc.message) from exc
    content = render(data, fmt)  # type: ignore[arg-type]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(content)
    console.print(f"{data.title}: {out} ({len(content) // 1024} KB)")


def register(app: typer.Typer) -> None:
    """Add the contest commands to the root CLI."""
    app.add_typer(contests_app, name="contests")
