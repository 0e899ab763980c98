"""Case commands: ``otklik cases tick`` (escalations; run it from cron every few minutes)."""

from __future__ import annotations

import typer
from rich.console import Console

console = Console()
cases_app = typer.Typer(help="Cases: deadlines and escalations.", no_args_is_help=True)


@cases_app.command("tick")
def tick() -> None:
    """Escalate cases near or past their deadlines and close expired clarifications."""
    from otklik.audit.actor import Actor
    from otklik.cases.service import escalate_due
    from otklik.db.session import session_scope

    with session_scope() as session:
        touched = escalate_due(session, Actor.system("sla"))
    console.print(f"{len(touched)} cases escalated or closed")
    from otklik.reports.schedule import periodic_tick  # analytics rollups and due briefs

    periodic_tick()
    from otklik.notify.cli import periodic_tick as notify_tick  # alert escalations, retries

    notify_tick()


def register(app: typer.Typer) -> None:
    """Add the case commands to the root CLI."""
    app.add_typer(cases_app, name="cases")
