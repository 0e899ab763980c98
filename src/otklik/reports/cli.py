"""Report commands: ``otklik report brief --region NAME --period 2026-11 --format pdf --out F``
and ``otklik report rollup`` (refresh the analytics rollup; run it from a scheduler)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

console = Console()
report_app = typer.Typer(help="Reports: briefs for the head of a region.", no_args_is_help=True)


@report_app.command("brief")
def brief(
    region: Annotated[str, typer.Option(help="Region code or name (e.g. 68, Тамбовская)")],
    period: Annotated[str, typer.Option(help="2026-11, 2026-W47, 2026-Q4 or 2026")],
    out: Annotated[Path, typer.Option(help="File to write")],
    fmt: Annotated[str, typer.Option("--format", help="docx | pdf | xlsx")] = "pdf",
) -> None:
    """Write the brief of a region for a period."""
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.errors import InvalidInput
    from otklik.reports.brief import build_brief
    from otklik.reports.writers import FORMATS, render

    if fmt not in FORMATS:
        raise InvalidInput(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
    started = time.perf_counter()
    with session_scope() as session:
        data = build_brief(session, Actor.system("report"), region, period,
                           with_charts=fmt != "xlsx")
        content = render(data, fmt)  # type: ignore[arg-type]
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(content)
    console.print(f"{data.title}: {out} ({len(content) // 1024} KB, "
                  f"{time.perf_counter() - started:.1f} s)")


@report_app.command("rollup")
def rollup(full: Annotated[bool, typer.Option("--full", help="Rebuild every day")] = False
           ) -> None:
    """Bring the analytics rollup up to date (only the days touched since the last run)."""
    from otklik.analytics.tasks import refresh_rollups
    from otklik.db.session import session_scope

    with session_scope() as session:
        result = refresh_rollups(session, full=full, every=True)
    console.print(f"messages: rebuilt {result.message_days} days ({result.message_rows} rows, "
                  f"with their months and okrugs); up to {result.watermark or '—'}; cases: "
                  f"{result.case_rows} rows; problems: {result.problem_rows} rows")


@report_app.command("run-due")
def run_due() -> None:
    """Generate the scheduled briefs that are due (each period once; safe to repeat)."""
    from otklik.db.session import session_scope
    from otklik.queue import inline_worker
    from otklik.reports.schedule import run_due as run

    with inline_worker():  # the e-mails go out before the command ends (inline broker)
        with session_scope() as session:
            result = run(session)
    for schedule_id, region, period, fmt in result.generated:
        console.print(f"schedule {schedule_id}: {region} {period} {fmt}")
    console.print(f"{len(result.generated)} briefs generated, {result.skipped} already there; "
                  f"{result.deliveries} e-mails to send (see /analytics/reports)")


def register(app: typer.Typer) -> None:
    """Add the report commands to the root CLI."""
    app.add_typer(report_app, name="report")
