"""The one CLI: ``otklik db upgrade | demo | serve | user create|deactivate|activate|password |
territories load | stats``.

Domain commands (train, enrich, import, connectors …) register themselves through
``register(app)`` functions listed in :data:`COMMAND_MODULES`.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import Progress, TaskID
from rich.table import Table

from otklik.config import Environment, Settings, get_settings
from otklik.console import err, progress_bar
from otklik.errors import OtklikError

if TYPE_CHECKING:
    from otklik.demo.loader import DemoLogin

app = typer.Typer(help="Otklik: residents' messages in, answered cases out.",
                  no_args_is_help=True, pretty_exceptions_enable=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
user_app = typer.Typer(help="Users.", no_args_is_help=True)
territories_app = typer.Typer(help="The territory reference.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(territories_app, name="territories")

console = Console()

#: Modules whose ``register(app)`` adds their commands.
COMMAND_MODULES = ("otklik.language.cli", "otklik.intake.cli", "otklik.cases.cli",
                   "otklik.reports.cli", "otklik.incidents.cli", "otklik.fakes.cli",
                   "otklik.upkeep.cli", "otklik.audit.cli", "otklik.accounts.cli",
                   "otklik.contests.cli", "otklik.publics.cli", "otklik.notify.cli",
                   "otklik.pd.cli", "otklik.demo.incidents")


def settings() -> Settings:
    """Validated settings (errors become one clear line in main())."""
    return get_settings()


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Bring the database schema up to date (Alembic)."""
    from otklik.db.migrate import upgrade
    from otklik.db.session import check_database

    check_database()
    upgrade(settings().database_url, revision)
    console.print(f"[green]database is at {revision}[/green]")


@db_app.command("current")
def db_current() -> None:
    """Print the schema revision of the database."""
    from otklik.db.migrate import current_revision

    console.print(current_revision(settings().database_url) or "empty")


@territories_app.command("load")
def territories_load(
    region: Annotated[list[str] | None, typer.Option(
        "--region", help="Region code or name; repeat for several; all of Russia by default")
    ] = None,
) -> None:
    """Load (or refresh) regions, municipalities and settlements from the shipped reference."""
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.territories.service import (
        load_territories,
        resolve_region_code,
        territory_row_count,
    )

    codes = [resolve_region_code(r) for r in region] if region else None
    with progress_bar() as bar, session_scope() as session:
        task = bar.add_task("territories", total=territory_row_count(codes))
        summary = load_territories(session, Actor.system("cli"), codes,
                                   progress=lambda n: bar.advance(task, n))
    console.print(f"regions {summary.regions}, inserted {summary.inserted}, "
                  f"updated {summary.updated} (reference {summary.version})")


@user_app.command("create")
def user_create(
    username: str,
    role: Annotated[str, typer.Option(
        help="admin|operator|curator|executor|analyst|head|deputy|owner")],
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True)],
    region: Annotated[list[str] | None, typer.Option(help="Region code or name; repeat")] = None,
    all_regions: Annotated[bool, typer.Option("--all-regions", help="Federal scope")] = False,
    organization: Annotated[int | None, typer.Option(
        help="Organization id (executors, page owners)")] = None,
    full_name: str = "",
    email: str | None = None,
) -> None:
    """Create a user."""
    from otklik.accounts.schemas import UserCreate
    from otklik.accounts.service import create_user
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.models.account import Role
    from otklik.territories.service import resolve_region_code

    try:
        role_value = Role(role)
    except ValueError as exc:
        raise OtklikError(f"unknown role {role!r}: use one of "
                          f"{', '.join(r.value for r in Role)}") from exc
    data = UserCreate(username=username, password=password, role=role_value,
                      full_name=full_name, email=email, all_regions=all_regions,
                      region_codes=[resolve_region_code(r) for r in region or []],
                      organization_id=organization)
    with session_scope() as session:
        user = create_user(session, Actor.system("cli"), data)
        console.print(f"[green]created user {user.username} (id {user.id}, {user.role.value})")


@user_app.command("deactivate")
def user_deactivate(username: str) -> None:
    """Deactivate a user: their sessions end at once and their API tokens stop working."""
    _set_user_active(username, active=False)


@user_app.command("activate")
def user_activate(username: str) -> None:
    """Let a deactivated user log in again (their old sessions stay ended)."""
    _set_user_active(username, active=True)


def _set_user_active(username: str, *, active: bool) -> None:
    from otklik.accounts.service import find_user, set_user_active
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope

    with session_scope() as session:
        user = set_user_active(session, Actor.system("cli"), find_user(session, username).id,
                               active)
        state = "active" if user.is_active else "deactivated, its sessions ended"
        console.print(f"[green]user {user.username}: {state}")


@user_app.command("password")
def user_password(
    username: str,
    password: Annotated[str, typer.Option(prompt=True, hide_input=True,
                                          confirmation_prompt=True)],
) -> None:
    """Set a user's password; every session of theirs ends."""
    from otklik.accounts.service import find_user, reset_password
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope

    with session_scope() as session:
        user = reset_password(session, Actor.system("cli"), find_user(session, username).id,
                              password)
        console.print(f"[green]password of {user.username} set; their sessions ended")


@app.command("stats")
def stats(as_json: Annotated[bool, typer.Option("--json", help="One JSON object")] = False
          ) -> None:
    """Counts of everything the system holds."""
    from otklik.db.session import session_scope
    from otklik.ops import stats as ops_stats

    _import_domains()
    with session_scope() as session:
        counts = ops_stats.collect(session)
    if as_json:
        sys.stdout.write(json.dumps(counts, ensure_ascii=False, sort_keys=True) + "\n")
        return
    table = Table("what", "count")
    for key, value in sorted(counts.items()):
        table.add_row(key, json.dumps(value, ensure_ascii=False) if isinstance(value, dict)
                      else str(value))
    console.print(table)


@app.command("serve")
def serve(host: str | None = None, port: int | None = None) -> None:
    """Serve the web UI and the API."""
    settings()
    from otklik.db.session import check_database

    check_database()
    _start_worker()
    _run_server(host, port)


@app.command("worker")
def worker(
    processes: Annotated[int, typer.Option(help="Worker processes")] = 1,
    threads: Annotated[int, typer.Option(help="Threads per process")] = 2,
    queues: Annotated[list[str] | None, typer.Option(
        "--queues", "-Q", help="Take jobs only from these queues (repeat, or comma-separated; "
        "'path' = enrich,cases,analytics); default: every queue")] = None,
) -> None:
    """Run background workers (needs OTKLIK_BROKER_URL=amqp://… or redis://…)."""
    import subprocess
    import sys

    from otklik.errors import ConfigurationError
    from otklik.queue import is_in_memory

    if is_in_memory():
        raise ConfigurationError("OTKLIK_BROKER_URL: set amqp://… (RabbitMQ) or redis://… to run "
                                 "separate workers; the embedded default runs jobs in-process")
    command = [sys.executable, "-m", "dramatiq", "otklik.worker", "--processes", str(processes),
               "--threads", str(threads)]
    if queues:
        from otklik.worker import chosen_queues

        command += ["--queues", *chosen_queues(queues)]
    raise SystemExit(subprocess.call(command))


def _start_worker() -> None:
    """The in-process worker of the embedded default, and the messages left pending."""
    from otklik.intake.service import queue_pending
    from otklik.queue import start_inline_worker

    if start_inline_worker(threads=2):
        from otklik.db.session import session_scope

        with session_scope() as session:
            queue_pending(session)


def _run_server(host: str | None, port: int | None) -> None:
    import uvicorn

    from otklik.app import create_app

    current = settings()
    uvicorn.run(create_app(current), host=host or current.host, port=port or current.port,
                log_level=current.log_level.lower(), proxy_headers=True)


@app.command("demo")
def demo(
    reset: Annotated[bool, typer.Option("--reset", help="Start over from an empty database")
                     ] = False,
    load_only: Annotated[bool, typer.Option("--load-only", help="Load, do not serve")] = False,
    export: Annotated[Path | None, typer.Option(
        "--export", help="Only write the demo message stream to this JSONL file")] = None,
    seed: Annotated[int, typer.Option(help="Seed of the generated stream")] = 42,
    messages: Annotated[int, typer.Option(help="Messages in the generated stream")] = 20_000,
    host: str | None = None,
    port: int | None = None,
) -> None:
    """Set up the demo (migrations, five regions, organizations, users, 90 days of messages,
    Karelia's archive of the year before them) and serve it: the first page as soon as the
    users and the reference data are in, the rest loading behind it (a progress bar here
    and on the pages)."""
    if export is not None:
        from otklik.demo.stream import export_jsonl

        count = export_jsonl(export, seed=seed, total=messages)
        console.print(f"wrote {count} messages to {export}")
        return
    from otklik.audit.actor import Actor
    from otklik.db.migrate import upgrade
    from otklik.db.session import check_database, session_scope
    from otklik.demo import full, loader
    from otklik.territories.service import load_territories, territory_row_count

    current = settings()
    if current.env == Environment.production:
        raise OtklikError("OTKLIK_ENV: the demo refuses to run in production")
    if reset:
        _reset_database(current)
    if current.env != Environment.demo:  # the demo's alerts are recorded, never sent
        os.environ.setdefault("OTKLIK_NOTIFY_DRY_RUN", "true")
        from otklik.notify.settings import get_notify_settings

        get_notify_settings.cache_clear()
    check_database()
    upgrade(current.database_url)
    if not reset and full.stopped_half_way():
        err.print("[yellow]the demo's previous load was stopped half-way (the server closed "
                  "while it loaded): starting over from an empty database[/yellow]")
        _reset_database(current)
        upgrade(current.database_url)
    actor = Actor.system("demo")
    with session_scope() as session:
        regions_ready = loader.demo_regions_loaded(session)
    if not regions_ready:
        with progress_bar() as bar, session_scope() as session:
            task = bar.add_task("territories", total=territory_row_count())
            load_territories(session, actor, progress=lambda n: bar.advance(task, n))
    with session_scope() as session:
        reused = loader.demo_is_loaded(session)
        created = loader.load_organizations(session, actor)
        logins = loader.load_users(session, actor, current.demo_password)
    fresh = full.load_reference()
    if load_only:
        logins += _load_rest(seed, messages, fresh)
    err.print(("reused the existing demo" if reused else "demo loaded")
              + f" ({created} organizations added)")
    _print_logins(logins, current.demo_password)
    if load_only:
        return
    console.print(f"serving at http://{host or current.host}:{port or current.port}")
    _load_behind_the_pages(seed, messages, fresh)
    _run_server(host, port)


def _print_logins(logins: list[DemoLogin], password: str) -> None:
    table = Table("login", "password", "role", "scope", title="Demo logins")
    for login in logins:
        table.add_row(login.username, password, login.role.value, login.scope)
    console.print(table)


def _load_rest(seed: int, total: int, fresh: bool) -> list[DemoLogin]:
    """The stream with its work (when ``fresh``) and the official pages, reported to the
    process's tracker and to a bar here; the owner's login."""
    from otklik.demo import full
    from otklik.demo.progress import LABELS, tracker

    tracker.begin(full.expected_totals(total if fresh else 0))

    class Both:
        def __init__(self, bar: Progress) -> None:
            self.bar = bar
            self.tasks: dict[str, TaskID] = {}
            self.overall = bar.add_task("demo", total=100)

        def advance(self, stage: str, n: int = 1) -> None:
            tracker.advance(stage, n)
            if stage not in self.tasks:
                self.tasks[stage] = self.bar.add_task(
                    LABELS[stage][1], total=tracker.stages[stage].total or None)
            self.bar.advance(self.tasks[stage], n)
            self.bar.update(self.overall, completed=tracker.percent())

        def resize(self, stage: str, total: int) -> None:
            tracker.resize(stage, total)
            if stage in self.tasks:
                self.bar.update(self.tasks[stage], total=total)

    try:
        with progress_bar() as bar:
            report = Both(bar)
            if fresh:
                full.load_stream(seed, total, report)
            logins = full.load_publics(seed, settings().demo_password, report)
            tracker.finish()
            bar.update(report.overall, completed=100)
    except BaseException as exc:
        tracker.fail(str(exc) or type(exc).__name__)
        raise
    return logins


def _load_behind_the_pages(seed: int, total: int, fresh: bool) -> None:
    """Load the rest in a thread while the server answers; then start the in-process worker
    (jobs queued meanwhile wait for it, as they waited for the server before)."""
    import threading

    from otklik.demo.progress import tracker

    def run() -> None:
        try:
            logins = _load_rest(seed, total, fresh)
        except Exception as exc:  # shown on the page and here; the server keeps serving
            err.print(f"[red]error:[/red] the demo's load stopped: {exc}")
            return
        err.print("the demo is fully loaded")
        _print_logins(logins, settings().demo_password)
        _start_worker()

    tracker.begin({})
    threading.Thread(target=run, name="otklik-demo-load", daemon=True).start()


def _reset_database(current: Settings) -> None:
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    from otklik.db.base import Base
    from otklik.db.session import get_engine, reset_engine_cache

    url = make_url(current.sqlalchemy_url)
    if url.get_backend_name() == "sqlite":
        reset_engine_cache()
        from pathlib import Path

        for suffix in ("", "-wal", "-shm"):
            Path(f"{url.database}{suffix}").unlink(missing_ok=True)
        return
    import otklik.models  # noqa: F401

    engine = get_engine()
    with engine.begin() as connection:
        Base.metadata.drop_all(connection)
        connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


def _import_domains() -> None:
    """Import optional domain modules so their stat providers register."""
    for name in ("otklik.intake.stats", "otklik.cases.stats", "otklik.decisions.stats",
                 "otklik.open311.stats", "otklik.media.stats", "otklik.contests.stats",
                 "otklik.participation.stats", "otklik.fakes.stats", "otklik.publics.stats",
                 "otklik.notify.stats", "otklik.webhooks.stats", "otklik.pd.stats",
                 "otklik.incidents.stats"):
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if not (exc.name and name.startswith(exc.name)):
                raise


def _register_domain_commands() -> None:
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and name.startswith(exc.name):
                continue  # that domain is not installed in this build
            raise
        module.register(app, **_wiring(name))


def _store_messages(session: object, items: object, *, connector_id: int | None = None
                    ) -> object:
    from otklik.intake.service import store_messages

    return store_messages(session, items, connector_id=connector_id)  # type: ignore[arg-type]


def _wiring(name: str) -> dict[str, object]:
    """What a domain's commands need from a domain they may not import, given here (the
    composition root): official pages store the comments they collect through intake."""
    if name == "otklik.publics.cli":
        return {"sink": _store_messages}
    return {}


_register_domain_commands()


def main() -> None:
    """Entry point: expected errors become one line and a non-zero exit, never a traceback."""
    try:
        app()
    except OtklikError as exc:
        err.print(f"[red]error:[/red] {exc.message}")
        sys.exit(1)
    except ValidationError as exc:
        if exc.title != Settings.__name__:
            errors = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            err.print(f"[red]error:[/red] invalid input: {errors}")
            sys.exit(1)
        err.print(f"[red]error:[/red] {describe_settings_error(exc)}")
        sys.exit(2)


def describe_settings_error(exc: ValidationError) -> str:
    """One line per wrong setting, naming its environment variable."""
    lines = []
    for error in exc.errors():
        field = ".".join(str(p) for p in error["loc"])
        message = error["msg"].removeprefix("Value error, ")
        if field:
            lines.append(f"OTKLIK_{field.upper()}: {message}")
        else:
            lines.append(message)
    return "; ".join(lines)


if __name__ == "__main__":
    main()
