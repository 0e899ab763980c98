"""``otklik audit verify | seal``: the tamper-evident audit log (otklik/audit/chain.py)."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.console import Console

from otklik.console import fail

console = Console()
audit_app = typer.Typer(help="The audit log: seal and verify its chain.", no_args_is_help=True)


def _head(value: str | None) -> tuple[int, str] | None:
    if not value:
        return None
    seq, sep, digest = value.partition(":")
    if not sep or not seq.isdigit() or len(digest) != 64:
        fail(f"--head {value!r}: write it as SEQ:HASH, as `otklik audit verify` printed it")
    return int(seq), digest


@audit_app.command("verify")
def verify_command(
    head: Annotated[str | None, typer.Option(
        help="The head kept outside the database (SEQ:HASH from an earlier verify or the "
             "logs): a cut tail is caught")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdict as JSON")] = False,
) -> None:
    """Seal what is waiting, then check every entry and the chain; exit 1 and name the first
    broken entry when the log was edited, cut or added to."""
    from otklik.audit.chain import seal, verify
    from otklik.db.session import check_database, session_scope

    expected = _head(head)
    check_database()
    with session_scope() as session:
        seal(session)
    with session_scope() as session:
        verdict = verify(session, head=expected)
    if as_json:
        typer.echo(json.dumps({"ok": verdict.ok, "entries": verdict.entries,
                               "sealed": verdict.sealed, "unsealed": verdict.unsealed,
                               "head": f"{verdict.head_seq}:{verdict.head_hash}",
                               "first_broken_entry": verdict.first_broken_entry,
                               "problems": verdict.problems}, ensure_ascii=False))
    else:
        for problem in verdict.problems[:50]:
            console.print(f"[red]{problem}[/red]")
        if len(verdict.problems) > 50:
            console.print(f"… and {len(verdict.problems) - 50} more")
        if verdict.ok:
            console.print(f"[green]the audit log is whole[/green]: {verdict.entries} entries, "
                          f"{verdict.sealed} sealed")
        else:
            console.print(f"first broken entry: {verdict.first_broken_entry}")
        console.print(f"head {verdict.head_seq}:{verdict.head_hash} (keep it outside the "
                      "database; pass it as --head next time)")
    if not verdict.ok:
        raise typer.Exit(1)


@audit_app.command("seal")
def seal_command() -> None:
    """Seal the entries written since the last sealing (the queue does it after each
    commit; this is for a catch-up)."""
    from otklik.audit.chain import SEAL_BATCH, seal
    from otklik.db.session import check_database, session_scope

    check_database()
    total = 0
    while True:
        with session_scope() as session:
            n = seal(session)
        total += n
        if n < SEAL_BATCH:
            break
    console.print(f"{total} entries sealed")


def register(app: typer.Typer) -> None:
    """Add the audit commands to the root CLI."""
    app.add_typer(audit_app, name="audit")
