"""Notifier commands: ``otklik notify tick`` (escalations and due retries; the scheduler or
cron runs it every minute), ``otklik notify poll`` (the alert bot's button presses without a
webhook) and ``otklik notify test CHANNEL TARGET``."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

console = Console()
notify_app = typer.Typer(help="Alerts: escalations, retries, the alert bot.",
                         no_args_is_help=True)


def periodic_tick() -> tuple[int, int]:
    """Escalate unacknowledged alerts and send due retries; (escalated, requeued)."""
    from otklik.db.session import session_scope
    from otklik.notify.alerts import escalate_due
    from otklik.notify.delivery import requeue_due
    from otklik.queue import inline_worker

    with inline_worker():
        with session_scope() as session:
            escalated = escalate_due(session)
        with session_scope() as session:
            requeued = requeue_due(session)
    return escalated, requeued


@notify_app.command("tick")
def tick() -> None:
    """Call the next person for unacknowledged alerts and retry failed deliveries when due."""
    escalated, requeued = periodic_tick()
    console.print(f"{escalated} alerts escalated, {requeued} deliveries retried")


@notify_app.command("poll")
def poll() -> None:
    """Read the alert bot's updates once (acknowledgements by button)."""
    from otklik.channels.connectors.base import ConnectorError
    from otklik.console import fail
    from otklik.db.session import session_scope
    from otklik.notify.telegram_updates import poll as poll_updates
    from otklik.queue import inline_worker

    try:
        with inline_worker(), session_scope() as session:
            updates, acknowledged = poll_updates(session)
    except ConnectorError as exc:
        raise fail(f"Telegram: {exc.message}") from None
    console.print(f"{updates} updates, {acknowledged} alerts acknowledged")


@notify_app.command("test")
def test(channel: Annotated[str, typer.Argument(help="telegram | email | webhook")],
         target: Annotated[str, typer.Argument(help="chat id, address or URL")]) -> None:
    """Send a test message through a channel and print how it went."""
    from otklik.audit.actor import Actor
    from otklik.console import fail
    from otklik.db.session import session_scope
    from otklik.errors import OtklikError
    from otklik.models.notify import Delivery
    from otklik.notify.service import test_send
    from otklik.queue import inline_worker

    try:
        with inline_worker():
            with session_scope() as session:
                delivery_id = test_send(session, Actor.system("cli"), channel, target).id
    except OtklikError as exc:
        raise fail(exc.message) from None
    with session_scope() as session:
        row = session.get(Delivery, delivery_id)
        assert row is not None
        console.print(f"delivery {row.id}: {row.status}"
                      + (f" ({row.last_error})" if row.last_error else ""))


def register(app: typer.Typer) -> None:
    """Add the notifier commands to the root CLI."""
    app.add_typer(notify_app, name="notify")
