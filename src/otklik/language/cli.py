"""``otklik train`` and ``otklik enrich``: the language commands of the CLI.

The root CLI (``otklik.cli``) calls :func:`register` to add them.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from otklik.nlp.training import (
    EvalReport,
    TrainingDataError,
    file_sha256,
    iter_records,
    read_labelled,
    save_model,
    train,
)

console = Console()
err = Console(stderr=True)


def _fail(message: str, code: int = 2) -> typer.Exit:
    err.print(f"[red]Ошибка:[/red] {message}", highlight=False)
    return typer.Exit(code)


def _columns(value: str | None) -> list[str] | None:
    if not value:
        return None
    names = [c.strip() for c in value.split(",")]
    if not all(names) or len(set(names)) != len(names):
        raise _fail(f"--columns: имена колонок через запятую без пустых и повторов: {value!r}")
    return names


def report_table(report: EvalReport, title: str) -> Table:
    """A Rich table of a cross-validated report: per class, then the averages."""
    table = Table(title=title, title_justify="left")
    table.add_column("класс")
    for name in ("precision", "recall", "F1", "примеров"):
        table.add_column(name, justify="right")
    for c in sorted(report.per_class, key=lambda c: -c.support):
        table.add_row(c.label, f"{c.precision:.3f}", f"{c.recall:.3f}", f"{c.f1:.3f}",
                      str(c.support))
    table.add_section()
    table.add_row("accuracy", "", "", f"{report.accuracy:.3f}", str(report.n))
    table.add_row("macro-F1", "", "", f"{report.macro_f1:.3f}", "")
    table.add_row("weighted-F1", "", "", f"{report.weighted_f1:.3f}", "")
    return table


def train_command(
    label_field: Annotated[str, typer.Option("--label-field", help="поле с меткой")],
    data: Annotated[Path | None, typer.Option(
        "--data", help="CSV/TSV/JSONL с текстами и метками")] = None,
    out: Annotated[Path | None, typer.Option(
        "--out", help="папка, куда сохранить модель (для --from-db: var/models/…)")] = None,
    from_db: Annotated[bool, typer.Option(
        "--from-db", help="обучить на исправлениях операторов и истории обращений")] = False,
    activate: Annotated[bool, typer.Option(
        "--activate", help="зарегистрировать модель и сделать её активной")] = False,
    text_field: Annotated[str, typer.Option("--text-field", help="поле с текстом")] = "text",
    columns: Annotated[
        str | None,
        typer.Option("--columns", help="имена колонок CSV без заголовка: id,text,theme,..."),
    ] = None,
    folds: Annotated[int, typer.Option("--folds", min=2, help="блоков кросс-валидации")] = 5,
    evaluate: Annotated[bool, typer.Option("--eval/--no-eval", help="кросс-валидация")] = True,
) -> None:
    """Обучить классификатор на размеченном файле, показать кросс-валидацию и сохранить модель."""
    from otklik.nlp.training import TrainOptions

    if from_db == (data is not None):
        raise _fail("укажите ровно одно: --data ФАЙЛ или --from-db")
    if from_db:
        pairs = _pairs_from_db(label_field)
        source = "база (исправления операторов)"
    else:
        assert data is not None
        try:
            pairs = read_labelled(data, text_field, label_field, _columns(columns))
        except TrainingDataError as exc:
            raise _fail(str(exc)) from None
        source = str(data)
    if out is None:
        if not from_db:
            raise _fail("укажите --out ПАПКА для модели")
        out = Path("var") / "models" / f"{label_field}-{len(pairs)}"
    labels = {label for _text, label in pairs}
    err.print(f"{source}: {len(pairs)} записей, {len(labels)} классов ({label_field})")
    if len(labels) < 2:
        raise _fail("для обучения нужно хотя бы два класса меток")
    progress = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(), console=err)
    options = TrainOptions(folds=folds)
    with progress:
        task = progress.add_task("кросс-валидация", total=folds if evaluate else 0)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            result = train(pairs, options, evaluate=evaluate, label_field=label_field,
                           progress=advance)
        except TrainingDataError as exc:
            raise _fail(str(exc)) from None
    if result.report is not None:
        console.print(report_table(result.report, f"Кросс-валидация, {result.report.folds} "
                                                  f"блоков, {label_field}"))
        for note in result.report.notes:
            console.print(f"[yellow]примечание:[/yellow] {note}")
    save_model(result.model, out, result.report,
               data_sha256=file_sha256(data) if data is not None else None,
               extra={"data": source, "text_field": text_field})
    console.print(f"[green]модель {result.model.version} сохранена в {out}[/green]")
    if from_db or activate:
        _register(out, activate)


def _pairs_from_db(label_field: str) -> list[tuple[str, str]]:
    from otklik.db.session import session_scope
    from otklik.nlp.registry import training_pairs

    with session_scope() as session:
        return training_pairs(session, label_field)


def _register(directory: Path, activate: bool) -> None:
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.nlp.registry import register

    with session_scope() as session:
        row = register(session, Actor.system("cli"), directory, activate=activate)
        state = "активна" if activate else "зарегистрирована (otklik models activate …)"
        console.print(f"модель {row.version} ({row.label_field}) {state}")
        if activate:
            _stored_results_hint(row.label_field)


#: One line after an activation that changes what enrichment decides.
STORED_RESULTS_HINT = ("сообщения в базе сохраняют прежнюю разметку, пока не выполнен "
                       "otklik enrich --from-db")


def _stored_results_hint(label_field: str | None = None) -> None:
    """Say that stored messages keep the old results (models that classify topics only: an
    executor model changes routing suggestions of new cases, not the enrichment)."""
    from otklik.intake.tasks import TOPIC_MODEL_FIELDS

    if label_field is None or label_field in TOPIC_MODEL_FIELDS:
        console.print(f"[yellow]{STORED_RESULTS_HINT}[/yellow]", highlight=False)


models_app = typer.Typer(help="Реестр моделей: список, активация, откат.", no_args_is_help=True)


@models_app.command("list")
def models_list(label_field: Annotated[str | None, typer.Option("--label-field")] = None
                ) -> None:
    """Зарегистрированные модели с метриками."""
    from otklik.db.session import session_scope
    from otklik.nlp.registry import versions

    table = Table("версия", "поле", "активна", "accuracy", "macro-F1", "создана")
    with session_scope() as session:
        for row in versions(session, label_field):
            metrics = row.metrics or {}
            table.add_row(row.version, row.label_field, "да" if row.active else "",
                          f"{metrics.get('accuracy', 0):.3f}",
                          f"{metrics.get('macro_f1', 0):.3f}",
                          row.created_at.isoformat(timespec="minutes"))
    console.print(table)


@models_app.command("activate")
def models_activate(version: str) -> None:
    """Сделать модель активной."""
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.nlp.registry import activate_version

    with session_scope() as session:
        row = activate_version(session, Actor.system("cli"), version)
        console.print(f"активна модель {row.version} ({row.label_field})")
        _stored_results_hint(row.label_field)


@models_app.command("rollback")
def models_rollback(label_field: Annotated[str, typer.Option("--label-field")]) -> None:
    """Вернуть предыдущую активную модель."""
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.nlp.registry import rollback

    with session_scope() as session:
        row = rollback(session, Actor.system("cli"), label_field)
        console.print(f"активна модель {row.version} ({row.label_field})")
        _stored_results_hint(row.label_field)


def enrich_command(
    data: Annotated[Path | None, typer.Option(
        "--data", help="CSV/JSONL сообщений (поля id, text)")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="куда писать JSONL")] = None,
    model: Annotated[
        Path | None, typer.Option("--model", help="папка модели из otklik train")
    ] = None,
    region: Annotated[
        str | None, typer.Option("--region", help="регион источника: «Тамбовская область», 68 "
                                                  "(с --from-db — только сообщения региона)")
    ] = None,
    columns: Annotated[
        str | None, typer.Option("--columns", help="имена колонок CSV без заголовка")
    ] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 256,
    from_db: Annotated[bool, typer.Option(
        "--from-db", help="переразметить сообщения в базе действующими моделью и рубрикатором"
    )] = False,
    since: Annotated[str | None, typer.Option(
        "--since", help="с --from-db: сообщения с этого дня, ГГГГ-ММ-ДД")] = None,
    until: Annotated[str | None, typer.Option(
        "--until", help="с --from-db: по этот день включительно, ГГГГ-ММ-ДД")] = None,
    source: Annotated[str | None, typer.Option(
        "--source", help="с --from-db: только этот источник (vk, telegram, email, …)")] = None,
    open_cases: Annotated[bool, typer.Option(
        "--open-cases", help="с --from-db: только сообщения открытых обращений")] = False,
    outdated: Annotated[bool, typer.Option(
        "--outdated", help="с --from-db: только размеченные другой моделью или рубрикатором")
    ] = False,
    limit: Annotated[int | None, typer.Option(
        "--limit", min=1, help="с --from-db: не больше N сообщений")] = None,
    dry_run: Annotated[bool, typer.Option(
        "--dry-run", help="с --from-db: посчитать изменения, ничего не сохраняя")] = False,
    queue: Annotated[bool, typer.Option(
        "--queue", help="с --from-db: раздать пачки обработчикам очереди (otklik worker)")
    ] = False,
) -> None:
    """Прогнать все языковые стадии по файлу сообщений (JSONL на выходе) или заново по
    сообщениям в базе (--from-db)."""
    from otklik.nlp.pipeline import Pipeline

    db_only = {"--since": since, "--until": until, "--source": source,
               "--open-cases": open_cases, "--outdated": outdated, "--limit": limit,
               "--dry-run": dry_run, "--queue": queue}
    if from_db:
        file_only = [name for name, value in (("--data", data), ("--out", out),
                                              ("--model", model), ("--columns", columns))
                     if value is not None]
        if file_only:
            raise _fail(f"{', '.join(file_only)} не сочетается с --from-db: --from-db "
                        "переразмечает сообщения в базе действующими моделью и рубрикатором "
                        "(модель делают действующей: otklik models activate ВЕРСИЯ)")
        _enrich_from_db(since, until, region, source, open_cases, outdated, limit, dry_run,
                        queue, batch_size)
        return
    given = [name for name, value in db_only.items() if value not in (None, False)]
    if given:
        raise _fail(f"{', '.join(given)} — только вместе с --from-db")
    if data is None or out is None:
        raise _fail("укажите --data ФАЙЛ и --out ФАЙЛ.jsonl (обработать файл) или --from-db "
                    "(переразметить сообщения в базе)")
    region_code = resolve_region(region) if region else None
    try:
        pipeline = Pipeline.default(model_dir=model, region=region_code)
        records = iter_records(data, _columns(columns))
        first = next(records, None)
    except TrainingDataError as exc:
        raise _fail(str(exc)) from None
    if first is not None and "text" not in first[1]:
        hint = " Если у файла нет заголовка, укажите --columns id,text,..." if (
            data.suffix.lower() != ".jsonl") else ""
        raise _fail(f"{data}, строка {first[0]}: нет поля text; есть: "
                    f"{', '.join(map(str, first[1]))}.{hint}")
    if pipeline.skipped:
        err.print(f"[yellow]стадии недоступны и пропущены:[/yellow] {', '.join(pipeline.skipped)}")

    def stream():  # type: ignore[no-untyped-def]
        if first is not None:
            yield first[1]
        for _line, rec in records:
            yield rec

    written = 0
    progress = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"),
                        TextColumn("{task.completed} сообщений"), TimeElapsedColumn(),
                        console=err)
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        with progress, open(out, "w", encoding="utf-8") as handle:
            task = progress.add_task("обогащение", total=None)
            for rec in pipeline.iter_process(stream(), batch_size=batch_size):
                handle.write(json.dumps(rec, ensure_ascii=False) + "\n")
                written += 1
                if written % 64 == 0:
                    progress.update(task, completed=written)
            progress.update(task, completed=written)
    except TrainingDataError as exc:
        raise _fail(f"{exc} (записано {written} строк в {out})") from None
    console.print(f"[green]{written} записей → {out}[/green]")


def _day(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise _fail(f"{option}: дата в виде ГГГГ-ММ-ДД, например 2026-11-01 (дано {value!r})"
                    ) from None


def _enrich_from_db(since: str | None, until: str | None, region: str | None,
                    source: str | None, open_cases: bool, outdated: bool, limit: int | None,
                    dry_run: bool, queue: bool, batch_size: int) -> None:
    """``otklik enrich --from-db``: see :mod:`otklik.intake.reenrich`."""
    import uuid

    from otklik.audit.actor import Actor
    from otklik.intake.reenrich import ReenrichFilter, Stamp, queue_run, run_inline
    from otklik.queue import inline_worker

    if dry_run and queue:
        raise _fail("--dry-run и --queue не сочетаются: пробный прогон идёт в этом процессе")
    first, last = _day("--since", since), _day("--until", until)
    if first and last and first > last:
        raise _fail(f"--since {first} позже --until {last}")
    flt = ReenrichFilter(since=first, until=last,
                         region_code=resolve_region(region) if region else None,
                         source=source, open_cases=open_cases, outdated=outdated, limit=limit)
    actor = Actor.system("reenrich")
    run_id = uuid.uuid4().hex[:12]
    progress = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(), TimeRemainingColumn(),
                        console=err)
    if queue:
        with progress:
            task = progress.add_task("в очередь", total=None)
            messages, batches, stamp = queue_run(
                flt, actor, batch_size=batch_size, run_id=run_id,
                progress=lambda n: progress.advance(task, n))
        console.print(f"{messages} сообщений отправлено пачками ({batches}) в очередь enrich; "
                      f"{_versions(stamp)}. Итоги пачек — в журнале аудита: "
                      f"message.reenrich.batch, запуск {run_id}")
        return

    def started(total: int, stamp: Stamp) -> None:
        err.print(f"переразметка {total} сообщений: {_versions(stamp)}"
                  + (" (пробный прогон, ничего не сохраняется)" if dry_run else ""))
        progress.update(task, total=total)

    with inline_worker(), progress:  # case building and rollups run before the command ends
        task = progress.add_task("переразметка", total=None)
        summary = run_inline(flt, actor, batch_size=batch_size, dry_run=dry_run, run_id=run_id,
                             started=started, progress=lambda n: progress.advance(task, n))
    console.print(_summary_table(summary, dry_run))
    _summary_notes(summary, dry_run, run_id)


def _versions(stamp: Any) -> str:
    model = f"модель {stamp.model_version}" if stamp.model_version else "без обученной модели"
    return f"{model}, рубрикатор {stamp.taxonomy_version}"


def _summary_table(summary: Any, dry_run: bool) -> Table:
    title = "Что изменилось бы (пробный прогон)" if dry_run else "Что изменилось"
    table = Table("", "сообщений", title=title, title_justify="left")
    for label, value in (
        ("просмотрено", summary.seen),
        ("без изменений", summary.seen - summary.rewritten - summary.failed),
        ("  из них отмечена новая версия модели/рубрикатора", summary.restamped),
        ("результат переписан", summary.rewritten),
        ("  сменили тему или подтему", summary.topic_changed),
        ("  стали значимыми", summary.became_relevant),
        ("  перестали быть значимыми", summary.stopped_relevant),
        ("  сменили территорию", summary.territory_changed),
        ("ошибка стадий (прежний результат оставлен)", summary.failed),
    ):
        table.add_row(label, str(value))
    table.add_section()
    table.add_row("обращений обновлено (тема, место)", str(summary.cases_updated))
    table.add_row("  направлены заново по правилам маршрутизации", str(len(summary.rerouted)))
    table.add_row("  исполнитель оставлен: его выбрал человек", str(summary.reroute_kept_person))
    table.add_row("  исполнитель оставлен: уже в работе", str(summary.reroute_kept_in_work))
    table.add_row("  нет подходящего правила — проверить", str(len(summary.reroute_check)))
    table.add_row("оставлено решение оператора", str(summary.cases_kept))
    table.add_row("отправлено на создание обращений", str(len(summary.sent_to_cases)))
    table.add_row("обращения сохранены, хотя сообщение больше не значимо",
                  str(len(summary.kept_irrelevant_cases)))
    return table


def _summary_notes(summary: Any, dry_run: bool, run_id: str) -> None:
    from otklik.analytics.rollup import CASE_WINDOW
    from otklik.analytics.schemas import reporting_day
    from otklik.cases.repository import CaseRepository
    from otklik.config import get_settings
    from otklik.db.base import utcnow
    from otklik.db.session import session_scope

    kept = summary.kept_irrelevant_cases
    if kept:
        shown = ", ".join(map(str, kept[:20])) + (" …" if len(kept) > 20 else "")
        console.print(f"обращения, чьё сообщение больше не значимо (проверьте): {shown}")
    if dry_run:
        return
    if summary.sent_to_cases and get_settings().broker_url == "inline":  # built by now
        with session_scope() as session:
            built = len(CaseRepository(session).message_ids_with_case(summary.sent_to_cases))
        console.print(f"сообщений, попавших в обращения: {built} из "
                      f"{len(summary.sent_to_cases)}")
    check = summary.reroute_check
    if check:
        shown = ", ".join(map(str, check[:20])) + (" …" if len(check) > 20 else "")
        console.print("обращения с новой темой или местом, для которых нет правила "
                      f"маршрутизации (исполнитель прежний, проверьте): {shown}")
    oldest = summary.oldest_day
    if oldest is not None and oldest < reporting_day(utcnow() - CASE_WINDOW):
        console.print(f"изменены дни с {oldest}: сводка по проблемам за дни старше "
                      f"{CASE_WINDOW.days} дней обновится ночным otklik report rollup --full")
    console.print(f"запуск {run_id} записан в журнал аудита (message.reenrich)")


def resolve_region(value: str) -> str:
    """Region code from a name in any common form ("Тамбовская область", "Тамбовская") or code."""
    from otklik.errors import OtklikError
    from otklik.territories.service import resolve_region_code

    try:
        return resolve_region_code(value)
    except OtklikError as exc:
        raise _fail(f"--region: {exc}") from None


def register(app: typer.Typer) -> None:
    """Add ``train``, ``enrich``, ``models`` and ``taxonomy`` to the root CLI."""
    app.command("train")(train_command)
    app.command("enrich")(enrich_command)
    app.add_typer(models_app, name="models")
    from otklik.nlp.taxonomy_cli import taxonomy_app

    app.add_typer(taxonomy_app, name="taxonomy")
