"""``otklik check --json``, ``otklik reconcile``, ``otklik scheduler``."""

from __future__ import annotations

import json
import signal
from datetime import timedelta
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()


def check_command(
    as_json: Annotated[bool, typer.Option("--json", help="Print the counts as JSON")] = False,
    grace: Annotated[int, typer.Option(help="Seconds work may be in flight before it counts "
                                            "as late", min=0)] = 60,
) -> None:
    """Check the invariants of the stored work; exit 1 when one is broken."""
    from otklik.db.session import check_database, session_scope
    from otklik.upkeep.invariants import INVARIANTS, check

    check_database()
    with session_scope() as session:
        report = check(session, grace=timedelta(seconds=grace))
    if as_json:
        typer.echo(json.dumps(report.as_dict(), ensure_ascii=False, sort_keys=True))
    else:
        table = Table("invariant", "count", title="otklik check")
        for name in INVARIANTS:
            count = report.counts[name]
            table.add_row(name, f"[red]{count}[/red]" if count else "0")
        table.add_row("messages (total)", str(report.counts["messages"]))
        table.add_row("enriched (total)", str(report.counts["enriched"]))
        console.print(table)
    if not report.ok:
        raise typer.Exit(1)


def reconcile_command(
    grace: Annotated[int, typer.Option(help="Seconds work may be in flight before it is "
                                            "queued again", min=0)] = 60,
    window: Annotated[int | None, typer.Option(
        help="Look for relevant messages without a case only among those enriched in the "
             "last HOURS (the scheduler's frequent pass); all of them by default",
        min=1, metavar="HOURS")] = None,
) -> None:
    """Queue again what is stored but unfinished (safe to run any time, any number of times)."""
    from otklik.db.session import check_database, session_scope
    from otklik.queue import inline_worker
    from otklik.upkeep.reconcile import reconcile

    check_database()
    with inline_worker():  # with the embedded broker the work is done before the end
        with session_scope() as session:
            done = reconcile(session, grace=timedelta(seconds=grace),
                             window=None if window is None else timedelta(hours=window))
    if window is not None:
        console.print(f"messages enriched in the last {window} h only")
    if not done.total:
        console.print("nothing to reconcile")
    for kind, n in sorted(done.counts.items()):
        console.print(f"{kind}: {n} queued again")


def scheduler_command(
    once: Annotated[bool, typer.Option("--once", help="One round, then exit")] = False,
    poll: Annotated[float, typer.Option(help="Seconds between rounds", min=0.1)] = 5.0,
) -> None:
    """Run the periodic work (connectors, cases tick, rollups, due reports, reconcile), one
    leader at a time across hosts."""
    from otklik.db.session import check_database, get_engine
    from otklik.queue import inline_worker
    from otklik.upkeep.scheduler import default_work, run

    check_database()
    stop = {"now": False}

    def ask_stop(*_: object) -> None:
        stop["now"] = True

    signal.signal(signal.SIGTERM, ask_stop)
    signal.signal(signal.SIGINT, ask_stop)
    with inline_worker():
        sent = run(get_engine(), default_work(), poll=poll, once=once,
                   should_stop=lambda: stop["now"])
    console.print(f"scheduler stopped; {sent} jobs sent")


def register(app: typer.Typer) -> None:
    """Add the upkeep commands to the root CLI."""
    app.command("check")(check_command)
    app.command("reconcile")(reconcile_command)
    app.command("scheduler")(scheduler_command)
