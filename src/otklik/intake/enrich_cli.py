"""``otklik enrich``: the language stages over a file of messages (JSONL out), or again over
the stored messages (``--from-db``, see :mod:`otklik.intake.reenrich`)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
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

from otklik.console import fail
from otklik.language.cli import _columns, console, err
from otklik.nlp.records import TrainingDataError, detect_format, iter_records


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
            raise fail(f"{', '.join(file_only)} не сочетается с --from-db: --from-db "
                        "переразмечает сообщения в базе действующими моделью и рубрикатором "
                        "(модель делают действующей: otklik models activate ВЕРСИЯ)")
        _enrich_from_db(since, until, region, source, open_cases, outdated, limit, dry_run,
                        queue, batch_size)
        return
    given = [name for name, value in db_only.items() if value not in (None, False)]
    if given:
        raise fail(f"{', '.join(given)} — только вместе с --from-db")
    if data is None or out is None:
        raise fail("укажите --data ФАЙЛ и --out ФАЙЛ.jsonl (обработать файл) или --from-db "
                    "(переразметить сообщения в базе)")
    region_code = resolve_region(region) if region else None
    try:
        pipeline = Pipeline.default(model_dir=model, region=region_code)
        records = iter_records(data, _columns(columns))
        first = next(records, None)
    except TrainingDataError as exc:
        raise fail(str(exc)) from None
    if first is not None and "text" not in first[1]:
        hint = " Если у файла нет заголовка, укажите --columns id,text,..." if (
            detect_format(data) != "jsonl") else ""
        raise fail(f"{data}, строка {first[0]}: нет поля text; есть: "
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
        raise fail(f"{exc} (записано {written} строк в {out})") from None
    console.print(f"[green]{written} записей → {out}[/green]")


def _day(option: str, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise fail(f"{option}: дата в виде ГГГГ-ММ-ДД, например 2026-11-01 (дано {value!r})"
                    ) from None


def _enrich_from_db(since: str | None, until: str | None, region: str | None,
                    source: str | None, open_cases: bool, outdated: bool, limit: int | None,
                    dry_run: bool, queue: bool, batch_size: int) -> None:
    """``otklik enrich --from-db``: see :mod:`otklik.intake.reenrich`."""
    import uuid

    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.intake.reenrich import (
        ReenrichFilter,
        Stamp,
        cases_followed,
        queue_run,
        run_inline,
    )
    from otklik.queue import drain, inline_worker, is_in_memory

    if dry_run and queue:
        raise fail("--dry-run и --queue не сочетаются: пробный прогон идёт в этом процессе")
    first, last = _day("--since", since), _day("--until", until)
    if first and last and first > last:
        raise fail(f"--since {first} позже --until {last}")
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

    with inline_worker(), progress:  # cases and rollups follow before the command ends
        task = progress.add_task("переразметка", total=None)
        summary = run_inline(flt, actor, batch_size=batch_size, dry_run=dry_run, run_id=run_id,
                             started=started, progress=lambda n: progress.advance(task, n))
    cases: dict[str, Any] | None = None
    if not dry_run and is_in_memory():
        drain()  # what the cases did after each batch (their own jobs) is in by now
        with session_scope() as session:
            cases = cases_followed(session, run_id)
    console.print(_summary_table(summary, cases, dry_run))
    _summary_notes(summary, cases, dry_run, run_id)


def _versions(stamp: Any) -> str:
    model = f"модель {stamp.model_version}" if stamp.model_version else "без обученной модели"
    return f"{model}, рубрикатор {stamp.taxonomy_version}"


def _summary_table(summary: Any, cases: dict[str, Any] | None, dry_run: bool) -> Table:
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
    if cases is None:  # a dry run, or the cases follow in workers of the queue
        return table
    table.add_section()
    for label, name in (
        ("обращений обновлено (тема, место)", "cases_updated"),
        ("  направлены заново по правилам маршрутизации", "rerouted_count"),
        ("  исполнитель оставлен: его выбрал человек", "reroute_kept_person"),
        ("  исполнитель оставлен: уже в работе", "reroute_kept_in_work"),
        ("  нет подходящего правила — проверить", "reroute_check_count"),
        ("оставлено решение оператора", "cases_kept"),
        ("отправлено на создание обращений", "sent_to_cases_count"),
        ("обращения сохранены, хотя сообщение больше не значимо", "kept_irrelevant"),
    ):
        table.add_row(label, str(cases.get(name, 0)))
    return table


def _summary_notes(summary: Any, cases: dict[str, Any] | None, dry_run: bool, run_id: str
                   ) -> None:
    from otklik.days import CASE_WINDOW, reporting_day
    from otklik.db.base import utcnow
    from otklik.db.session import session_scope
    from otklik.intake.repository import MessageRepository

    if dry_run:
        console.print("обращения следуют за переразметкой после записи: пробный прогон их не "
                      "меняет и не считает")
        return
    if cases is None:
        console.print("обращения следуют за переразметкой в обработчиках очереди; их итоги — в "
                      f"журнале аудита: message.reenrich.cases, запуск {run_id}")
        cases = {}
    kept = cases.get("kept_irrelevant_cases") or []
    if kept:
        shown = ", ".join(map(str, kept[:20])) + (" …" if len(kept) > 20 else "")
        console.print(f"обращения, чьё сообщение больше не значимо (проверьте): {shown}")
    sent = cases.get("sent_to_cases") or []
    if sent:
        with session_scope() as session:
            built = len(MessageRepository(session).in_cases(sent))
        shown = "" if cases.get("sent_to_cases_count", len(sent)) == len(sent) else " первых"
        console.print(f"сообщений, попавших в обращения: {built} из{shown} {len(sent)}")
    check = cases.get("reroute_check") or []
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
        raise fail(f"--region: {exc}") from None
