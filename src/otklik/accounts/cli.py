"""``otklik apikey``: integrators' API keys (create, list, revoke)."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from otklik.console import fail

console = Console()
apikey_app = typer.Typer(help="API keys of integrators (Open311, REST API, webhooks).",
                         no_args_is_help=True)


@apikey_app.command("create")
def apikey_create(
    scope: Annotated[list[str], typer.Option(
        "--scope", help="open311, read, write, webhooks or intake (repeat for several)")],
    name: Annotated[str, typer.Option(help="Who the key is for, e.g. «Портал Тамбова»")] = "",
    region: Annotated[str | None, typer.Option(
        help="Region code or name (none: every region)")] = None,
) -> None:
    """Make a key. Its secret is printed once, alone on the last line; only a hash is kept."""
    from otklik.accounts import apikeys
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.errors import OtklikError

    try:
        with session_scope() as session:
            row, secret = apikeys.create_key(session, Actor.system("cli"), scopes=scope,
                                             name=name, region=region)
            summary = (f"API key {row.id} «{row.name}»: scopes {', '.join(row.scopes)}, "
                       f"region {row.region_code or 'all'}. Shown once; keep it secret:")
    except OtklikError as exc:
        raise fail(exc.message) from None
    console.print(summary, highlight=False)
    print(secret)


@apikey_app.command("list")
def apikey_list() -> None:
    """Integrators' keys (never their secrets)."""
    from otklik.accounts import apikeys
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope

    table = Table("id", "name", "prefix", "scopes", "region", "created", "last used", "revoked")
    with session_scope() as session:
        for key in apikeys.list_keys(session, Actor.system("cli")):
            table.add_row(str(key.id), key.name, key.prefix, ", ".join(key.scopes),
                          key.region_code or "all",
                          key.created_at.isoformat(timespec="seconds"),
                          key.last_used_at.isoformat(timespec="seconds")
                          if key.last_used_at else "",
                          key.revoked_at.isoformat(timespec="seconds")
                          if key.revoked_at else "")
    console.print(table)


@apikey_app.command("revoke")
def apikey_revoke(key_id: Annotated[int, typer.Argument(help="The key's id (apikey list)")]
                  ) -> None:
    """Revoke a key at once."""
    from otklik.accounts import apikeys
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.errors import OtklikError

    try:
        with session_scope() as session:
            row = apikeys.revoke_key(session, Actor.system("cli"), key_id)
            name = row.name
    except OtklikError as exc:
        raise fail(exc.message) from None
    console.print(f"API key {key_id} «{name}» revoked", highlight=False)


def register(app: typer.Typer) -> None:
    """Add ``otklik apikey`` to the root CLI."""
    app.add_typer(apikey_app, name="apikey")
