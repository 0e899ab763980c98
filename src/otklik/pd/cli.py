"""``otklik pd retention | export | erase``: personal data (docs/security.md)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from otklik.console import fail
from otklik.errors import OtklikError

if TYPE_CHECKING:
    from otklik.pd.service import Resident

console = Console()
pd_app = typer.Typer(help="Personal data: retention, a resident's export and erasure.",
                     no_args_is_help=True)


@pd_app.command("retention")
def retention_command(
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Count what is due, change "
                                                            "nothing")] = False,
    days: Annotated[int | None, typer.Option(help="Keep this many days instead of "
                                                  "OTKLIK_PD_RETENTION_DAYS", min=1)] = None,
) -> None:
    """Anonymise the messages past retention (received, or their case closed, longer ago
    than the retention period), keeping every count."""
    from otklik.audit.actor import Actor
    from otklik.db.session import check_database, session_scope
    from otklik.pd.service import run_retention

    check_database()
    with session_scope() as session:
        run = run_retention(session, Actor.system("cli"), days=days, dry_run=dry_run)
    verb = "due (dry run, nothing changed)" if dry_run else "anonymised"
    count = run.due if dry_run else run.anonymized
    console.print(f"before {run.cutoff:%Y-%m-%d}: {count} message(s) {verb}")
    if not dry_run:
        console.print(f"{run.rows} other row(s) anonymised (questions, proposals, supports, "
                      "suspects, page comments, contest applications)")


def _resident(author: str | None, source: str | None, author_id: str | None,
              message: int | None, contact: str | None = None) -> Resident:
    from otklik.pd.pseudonyms import author_key
    from otklik.pd.service import Resident

    if author_id is not None or source is not None:
        if not (author_id and source):
            raise fail("--source and --author-id go together (the author's id on that "
                       "platform)")
        return Resident(author_key=author_key(source, author_id))
    if author:
        return Resident(author_key=author.strip())
    if message is not None:
        return Resident(message_id=message)
    if contact and contact.strip():
        return Resident(contact=contact.strip())
    raise fail("name the resident: --author KEY, --source S --author-id ID, --message ID, or "
               "--contact (a contest application's)")


Author = Annotated[str | None, typer.Option("--author", help="The author key (author_key "
                                                              "of their messages)")]
Source = Annotated[str | None, typer.Option(help="The source (vk, telegram, ok, email …)")]
AuthorId = Annotated[str | None, typer.Option("--author-id", help="The author's id there")]
MessageId = Annotated[int | None, typer.Option("--message", help="A message of theirs")]
Contact = Annotated[str | None, typer.Option("--contact", help="The e-mail or phone their "
                                                               "contest application gave")]


@pd_app.command("export")
def export_command(
    out: Annotated[Path, typer.Option("--out", help="The JSON file to write")],
    author: Author = None, source: Source = None, author_id: AuthorId = None,
    message: MessageId = None, contact: Contact = None,
) -> None:
    """Write everything stored about one resident to a JSON file (audited)."""
    from otklik.audit.actor import Actor
    from otklik.db.session import check_database, session_scope
    from otklik.pd.service import export

    resident = _resident(author, source, author_id, message, contact)
    check_database()
    try:
        with session_scope() as session:
            data = export(session, Actor.system("cli"), resident)
    except OtklikError as exc:
        raise fail(exc.message) from None
    out.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    console.print(f"{len(data['messages'])} message(s), {len(data['cases'])} case(s), "
                  f"{len(data['answers'])} answer(s), {len(data['consents'])} consent(s) "
                  f"→ {out}")


@pd_app.command("erase")
def erase_command(
    author: Author = None, source: Source = None, author_id: AuthorId = None,
    message: MessageId = None, contact: Contact = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask")] = False,
) -> None:
    """Anonymise everything stored about one resident now, as retention would (audited;
    counts stay, the person's data does not)."""
    from otklik.audit.actor import Actor
    from otklik.db.session import check_database, session_scope
    from otklik.pd.service import erase

    resident = _resident(author, source, author_id, message, contact)
    if not yes and not typer.confirm("Erase this resident's personal data? It cannot be "
                                     "undone"):
        raise typer.Exit(1)
    check_database()
    try:
        with session_scope() as session:
            done = erase(session, Actor.system("cli"), resident)
    except OtklikError as exc:
        raise fail(exc.message) from None
    console.print(f"{done.messages} message(s) anonymised, {done.rows} other row(s) "
                  "(questions, proposals, supports, suspects, comments, applications)")


def register(app: typer.Typer) -> None:
    """Add the personal-data commands to the root CLI."""
    app.add_typer(pd_app, name="pd")
