"""``otklik taxonomy export|import|versions|activate``: the rubricator's versions from the CLI.

Registered by :func:`otklik.language.cli.register`. Each command is one unit of work (the
session commits when the command succeeds); the actor is the CLI system actor.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from otklik.console import fail

console = Console()
err = Console(stderr=True)

taxonomy_app = typer.Typer(help="Рубрикатор: выгрузка, загрузка новой версии, версии, "
                                "активация и откат.", no_args_is_help=True)


@taxonomy_app.command("export")
def export_command(
    out: Annotated[Path | None, typer.Option("--out", help="файл JSON (по умолчанию — вывод)")
                   ] = None,
    version: Annotated[int | None, typer.Option("--version", help="номер сохранённой версии")
                       ] = None,
    packaged: Annotated[bool, typer.Option("--packaged", help="рубрикатор из пакета")] = False,
) -> None:
    """Выгрузить действующий рубрикатор (или указанную версию) в JSON."""
    from otklik.db.session import session_scope
    from otklik.language.taxonomy_repository import TaxonomyRepository
    from otklik.language.taxonomy_service import current_document
    from otklik.nlp.taxonomy import load_taxonomy

    document: dict[str, Any]
    if packaged:
        document = load_taxonomy().to_dict()
    else:
        with session_scope() as session:
            if version is None:
                document = current_document(session)
            else:
                row = TaxonomyRepository(session).by_number(version)
                if row is None:
                    raise fail(f"нет версии {version}: см. otklik taxonomy versions")
                document = dict(row.document)
    text = json.dumps(document, ensure_ascii=False, indent=1) + "\n"
    if out is None:
        typer.echo(text, nl=False)
    else:
        out.write_text(text, encoding="utf-8")
        err.print(f"рубрикатор {document.get('version')} → {out}")


@taxonomy_app.command("import")
def import_command(
    path: Annotated[Path, typer.Argument(help="JSON рубрикатора (как из export)")],
    comment: Annotated[str, typer.Option("--comment", help="что изменено")] = "",
    activate: Annotated[bool, typer.Option("--activate", help="сразу сделать действующим")
                        ] = False,
) -> None:
    """Проверить и сохранить рубрикатор как новую версию."""
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.errors import OtklikError
    from otklik.language.taxonomy_service import save_version

    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise fail(f"{path}: не удаётся прочитать ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise fail(f"{path}: не JSON ({exc.msg}, строка {exc.lineno})") from None
    try:
        with session_scope() as session:
            row = save_version(session, Actor.system("cli"), document, comment,
                               activate=activate)
            number, active = row.number, row.active
    except OtklikError as exc:
        raise fail(exc.message) from None
    state = "действует" if active else f"сохранена (otklik taxonomy activate {number})"
    console.print(f"версия {number} рубрикатора {state}")
    if active:
        _stored_results_hint()


@taxonomy_app.command("versions")
def versions_command() -> None:
    """Сохранённые версии рубрикатора, новые сверху."""
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.language.taxonomy_service import versions
    from otklik.nlp.taxonomy import load_taxonomy

    table = Table("версия", "действует", "автор", "создана", "тем и подтем", "комментарий")
    with session_scope() as session:
        rows = versions(session, Actor.system("cli"))
        for row in rows:
            nodes = sum(1 + len(t.get("subtopics") or []) for t in row.document["topics"])
            table.add_row(str(row.number), "да" if row.active else "", row.author,
                          row.created_at.isoformat(timespec="minutes"), str(nodes), row.comment)
        packaged_in_use = not any(r.active for r in rows)
    console.print(table)
    note = "действует рубрикатор из пакета" if packaged_in_use else "рубрикатор из пакета"
    console.print(f"{note}: {load_taxonomy().version}")


@taxonomy_app.command("activate")
def activate_command(
    number: Annotated[int | None, typer.Argument(help="номер версии (старый номер — откат)")
                      ] = None,
    packaged: Annotated[bool, typer.Option("--packaged", help="вернуть рубрикатор из пакета")
                        ] = False,
) -> None:
    """Сделать версию действующей или вернуть рубрикатор из пакета."""
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.errors import OtklikError
    from otklik.language.taxonomy_service import activate_version, use_packaged

    if (number is None) == (not packaged):
        raise fail("укажите номер версии или --packaged")
    try:
        with session_scope() as session:
            if packaged:
                use_packaged(session, Actor.system("cli"))
            else:
                assert number is not None
                activate_version(session, Actor.system("cli"), number)
    except OtklikError as exc:
        raise fail(exc.message) from None
    console.print("действует рубрикатор из пакета" if packaged else f"действует версия {number}")
    _stored_results_hint()


def _stored_results_hint() -> None:
    from otklik.language.cli import STORED_RESULTS_HINT

    console.print(f"[yellow]{STORED_RESULTS_HINT}[/yellow]", highlight=False)
