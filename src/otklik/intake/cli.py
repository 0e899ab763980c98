"""Intake commands: ``otklik import``, ``otklik enrich``, ``otklik connectors list|add|run``,
``otklik worker``."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()
err = Console(stderr=True)
connectors_app = typer.Typer(help="Channel connectors (VK, Telegram, OK, e-mail).",
                             no_args_is_help=True)


def import_file(
    file: Annotated[Path, typer.Argument(help="CSV, JSONL, XLSX or a Telegram result.json")],
    source: Annotated[str, typer.Option(help="vk, ok, telegram, email, web, api, import, "
                                             "or a channel name (stored as source import)")
                      ] = "import",
    map_: Annotated[list[str] | None, typer.Option(
        "--map", help="field=Column, e.g. --map text=Текст --map created_at=Дата")] = None,
    region: Annotated[str | None, typer.Option(help="Region code or name of the stream")
                      ] = None,
    channel: Annotated[str | None, typer.Option(help="Channel label stored on messages")
                       ] = None,
    format_: Annotated[str | None, typer.Option("--format", help="csv|jsonl|xlsx|json")] = None,
    defer: Annotated[bool, typer.Option("--defer", help="Queue enrichment, do not wait for it")
                     ] = False,
) -> None:
    """Import a file of messages: stored once each, broken rows reported with reasons."""
    import os

    import otklik.intake.tasks  # noqa: F401  (declares the enrichment job)
    from otklik.console import progress_bar
    from otklik.intake.importer import import_rows, parse_mapping, rows_of
    from otklik.queue import inline_worker
    from otklik.territories.service import resolve_region_code

    region_code = resolve_region_code(region) if region else None
    rows = rows_of(file, source=source, mapping=parse_mapping(map_ or []), region=region_code,
                   channel=channel, format=format_)
    size = os.path.getsize(file)
    with progress_bar() as bar:
        task = bar.add_task(f"import {file.name}", total=None)
        with nullcontext() if defer else inline_worker():
            summary = import_rows(rows, progress=lambda n: bar.advance(task, n))
        bar.update(task, total=summary.read, completed=summary.read)
    table = Table("read", "stored", "duplicates", "updated", "rejected",
                  title=f"{file.name} ({size:,} bytes)")
    table.add_row(*(str(v) for v in (summary.read, summary.stored, summary.duplicates,
                                     summary.updated, summary.rejected)))
    console.print(table)
    for number, reason in summary.rejects[:50]:
        err.print(f"row {number}: {reason}")
    if summary.rejected > 50:
        err.print(f"… and {summary.rejected - 50} more rejected rows")


@connectors_app.command("list")
def connectors_list() -> None:
    """Configured connectors with their state (secrets never shown)."""
    from otklik.audit.actor import Actor
    from otklik.channels import service as connectors_service
    from otklik.db.session import session_scope

    with session_scope() as session:
        rows = connectors_service.list_connectors(session, Actor.system("cli"))
        table = Table("id", "name", "kind", "region", "enabled", "status", "messages",
                      "last run", "last error")
        for c in rows:
            table.add_row(str(c.id), c.name, c.kind, c.region_code or "", str(c.enabled),
                          c.status, str(c.messages_total),
                          c.last_run_at.isoformat(timespec="seconds") if c.last_run_at else "",
                          (c.last_error or "")[:60])
    console.print(table)


@connectors_app.command("add")
def connectors_add(
    kind: Annotated[str, typer.Argument(help="vk, telegram, telegram_export, ok, email")],
    name: Annotated[str, typer.Option(help="A unique name, e.g. «ВК Мичуринск»")],
    config: Annotated[str, typer.Option(help="JSON object or @file.json with the settings")],
    region: Annotated[str | None, typer.Option(help="Region code or name")] = None,
) -> None:
    """Configure a connector."""
    from otklik.audit.actor import Actor
    from otklik.channels import service as connectors_service
    from otklik.db.session import session_scope
    from otklik.errors import InvalidInput
    from otklik.territories.service import resolve_region_code

    text = Path(config[1:]).read_text(encoding="utf-8") if config.startswith("@") else config
    try:
        settings = json.loads(text)
    except json.JSONDecodeError as exc:
        raise InvalidInput(f"--config is not valid JSON: {exc.msg} at position {exc.pos}"
                           ) from exc
    with session_scope() as session:
        row = connectors_service.add_connector(
            session, Actor.system("cli"), kind=kind, name=name, config=settings,
            region_code=resolve_region_code(region) if region else None)
        console.print(f"[green]connector {row.name} (id {row.id}, {row.kind}) added")


@connectors_app.command("run")
def connectors_run(
    name: Annotated[str | None, typer.Argument(help="Connector name; all enabled if omitted")
                    ] = None,
) -> None:
    """Fetch from connectors now (each from its saved cursor)."""
    import otklik.intake.tasks  # noqa: F401
    from otklik.intake import receiving
    from otklik.queue import inline_worker

    with inline_worker():
        results = receiving.run_connectors(name)
    table = Table("connector", "fetched", "stored", "duplicates", "errors")
    for result in results:
        table.add_row(result.name, str(result.fetched), str(result.stored),
                      str(result.duplicates), "; ".join(result.errors)[:120])
    console.print(table)


channels_app = typer.Typer(help="Channels that speak for one town (place hints).",
                           no_args_is_help=True)


@channels_app.command("list")
def channels_list() -> None:
    """Channels with a place, and the busiest channels seen on messages."""
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.intake import channel_places
    from otklik.intake.repository import ChannelPlaceRepository

    with session_scope() as session:
        places = {v.channel: v for v in channel_places.list_places(session, Actor.system("cli"))}
        seen = ChannelPlaceRepository(session).known_channels(None, limit=50)
    table = Table("channel", "messages", "place", "OKTMO", title="channels")
    for channel, count in seen:
        view = places.pop(channel, None)
        table.add_row(channel, str(count), view.territory_name if view else "",
                      view.territory_key if view else "")
    for view in places.values():
        table.add_row(view.channel, "0", view.territory_name, view.territory_key)
    console.print(table)


@channels_app.command("set")
def channels_set(
    channel: Annotated[str, typer.Argument(help="Channel name as shown on its messages")],
    territory: Annotated[str, typer.Argument(help="OKTMO key of a municipality or settlement")],
) -> None:
    """Say which town a channel speaks for (applies to messages enriched from now on)."""
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.intake import channel_places

    with session_scope() as session:
        view = channel_places.set_place(session, Actor.system("cli"), channel, territory)
    console.print(f"[green]{view.channel} → {view.territory_name} ({view.territory_key})")


@channels_app.command("remove")
def channels_remove(
    channel: Annotated[str, typer.Argument(help="Channel name")],
) -> None:
    """Forget a channel's place."""
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.intake import channel_places

    with session_scope() as session:
        channel_places.remove_place(session, Actor.system("cli"), channel)
    console.print(f"[green]{channel}: place removed")


def register(app: typer.Typer) -> None:
    """Add intake's commands to the root CLI."""
    from otklik.intake.enrich_cli import enrich_command

    app.command("enrich")(enrich_command)
    app.command("import")(import_file)
    app.add_typer(connectors_app, name="connectors")
    app.add_typer(channels_app, name="channels")
