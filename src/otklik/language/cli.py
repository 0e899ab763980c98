"""``otklik train``, ``otklik models`` and ``otklik taxonomy``: the language commands of the CLI.

The root CLI (``otklik.cli``) calls :func:`register` to add them.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from otklik.console import fail

if TYPE_CHECKING:  # training imports scikit-learn: only the commands that train load it
    from otklik.nlp.training import EvalReport

console = Console()
err = Console(stderr=True)


def _columns(value: str | None) -> list[str] | None:
    if not value:
        return None
    names = [c.strip() for c in value.split(",")]
    if not all(names) or len(set(names)) != len(names):
        raise fail(f"--columns: имена колонок через запятую без пустых и повторов: {value!r}")
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


def baseline_table(report: EvalReport, plain: EvalReport) -> Table:
    """The recipe's averages beside the plain baseline's, on the same folds."""
    table = Table(title="Сравнение с простой базой на тех же блоках", title_justify="left")
    table.add_column("модель")
    for name in ("accuracy", "macro-F1", "weighted-F1", "секунд"):
        table.add_column(name, justify="right")
    for name, r in (("otklik train", report), ("простая база: TF-IDF + LinearSVC", plain)):
        table.add_row(name, f"{r.accuracy:.3f}", f"{r.macro_f1:.3f}", f"{r.weighted_f1:.3f}",
                      f"{r.seconds:.0f}")
    table.add_row("разница", f"{report.accuracy - plain.accuracy:+.3f}",
                  f"{report.macro_f1 - plain.macro_f1:+.3f}",
                  f"{report.weighted_f1 - plain.weighted_f1:+.3f}", "")
    return table


def train_command(
    label_field: Annotated[str, typer.Option("--label-field", help="поле с меткой")],
    data: Annotated[Path | None, typer.Option(
        "--data", help="CSV/TSV/JSONL (можно сжатые gzip: .jsonl.gz, .csv.gz) с текстами "
                       "и метками")] = None,
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
    baseline: Annotated[bool, typer.Option(
        "--baseline/--no-baseline",
        help="рядом — простая база (TF-IDF + LinearSVC) на тех же блоках")] = True,
    fine_label_field: Annotated[str, typer.Option(
        "--fine-label-field",
        help="поле с более дробной меткой внутри основной (подкатегория внутри категории): "
             "вторая цель обучения; auto — найти в файле, none — не использовать")] = "auto",
) -> None:
    """Обучить классификатор на размеченном файле, показать кросс-валидацию и сохранить модель."""
    from otklik.nlp.records import (
        TrainingDataError,
        file_sha256,
        read_labelled_lines,
        single_example_labels,
    )
    from otklik.nlp.training import TrainOptions, save_model, train

    if from_db == (data is not None):
        raise fail("укажите ровно одно: --data ФАЙЛ или --from-db")
    if from_db:
        pairs = _pairs_from_db(label_field)
        source = "база (исправления операторов)"
        fine_field, fine = None, None
    else:
        assert data is not None
        try:
            triples = read_labelled_lines(data, text_field, label_field, _columns(columns))
        except TrainingDataError as exc:
            raise fail(str(exc)) from None
        single = single_example_labels(triples)
        if single:
            named = ", ".join(f"«{label}» (строка {line})" for label, line in
                              sorted(single.items(), key=lambda item: item[1])[:20])
            more = f" … всего {len(single)}" if len(single) > 20 else ""
            err.print(f"[yellow]метки с единственным примером не участвуют в обучении[/yellow] "
                      f"(их нельзя ни выучить, ни проверить): {named}{more}", highlight=False)
            triples = [t for t in triples if t[2] not in single]
        pairs = [(text, label) for _line, text, label in triples]
        source = str(data)
        fine_field, fine = _fine_labels(data, triples, text_field, label_field,
                                        _columns(columns), fine_label_field)
    if out is None:
        if not from_db:
            raise fail("укажите --out ПАПКА для модели")
        out = Path("var") / "models" / f"{label_field}-{len(pairs)}"
    labels = {label for _text, label in pairs}
    err.print(f"{source}: {len(pairs)} записей, {len(labels)} классов ({label_field})")
    if len(labels) < 2:
        raise fail("для обучения нужно хотя бы два класса меток, у каждого не меньше двух "
                    "примеров")
    progress = Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                        MofNCompleteColumn(), TimeElapsedColumn(), console=err)
    options = TrainOptions(folds=folds)
    with progress:
        task = progress.add_task("кросс-валидация", total=folds if evaluate else 0)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        try:
            result = train(pairs, options, evaluate=evaluate, label_field=label_field,
                           progress=advance, baseline=baseline, fine_labels=fine,
                           fine_field=fine_field)
        except TrainingDataError as exc:
            raise fail(str(exc)) from None
    if result.report is not None:
        console.print(report_table(result.report, f"Кросс-валидация, {result.report.folds} "
                                                  f"блоков, {label_field}"))
        for note in result.report.notes:
            console.print(f"[yellow]примечание:[/yellow] {note}")
        if result.baseline is not None:
            console.print(baseline_table(result.report, result.baseline))
    save_model(result.model, out, result.report,
               data_sha256=file_sha256(data) if data is not None else None,
               extra={"data": source, "text_field": text_field})
    console.print(f"[green]модель {result.model.version} сохранена в {out}[/green]")
    if from_db or activate:
        _register(out, activate)


def _fine_labels(path: Path, triples: list[tuple[int, str, str]], text_field: str,
                 label_field: str, columns: list[str] | None, wanted: str,
                 ) -> tuple[str | None, list[str | None] | None]:
    """The finer label of each training line (``--fine-label-field``): a named field, or with
    ``auto`` the field that nests inside the label (:func:`otklik.nlp.fine_labels.
    nested_field`); (None, None) when there is none."""
    from otklik.nlp.fine_labels import nested_field
    from otklik.nlp.records import TrainingDataError, iter_records
    from otklik.nlp.training import TrainOptions

    if wanted.strip().lower() in ("none", "no", "нет", ""):
        return None, None
    wanted_lines = {line for line, _text, _label in triples}
    records: dict[int, dict[str, object]] = {}
    try:
        for line, record in iter_records(path, columns):
            if line in wanted_lines:
                records[line] = record
    except TrainingDataError as exc:
        raise fail(str(exc)) from None
    rows = [records.get(line, {}) for line, _text, _label in triples]
    labels = [label for _line, _text, label in triples]
    if wanted.strip().lower() == "auto":
        found = nested_field(rows, labels, exclude=(text_field, label_field))
        if found is None:
            return None, None
        field, n_values = found
        if len(triples) < TrainOptions().stacker_min_examples:
            err.print(f"уточняющая метка {field} ({n_values} значений внутри {label_field}) "
                      f"не используется: она помогает на наборах от "
                      f"{TrainOptions().stacker_min_examples} записей")
            return None, None
        err.print(f"уточняющая метка: {field} ({n_values} значений внутри {label_field}) — "
                  "вторая цель обучения (--fine-label-field none — без неё)")
    else:
        field = wanted.strip()
        if not any(field in r for r in rows):
            raise fail(f"--fine-label-field: в файле нет поля {field}")
    values = [r.get(field) for r in rows]
    return field, [None if v in (None, "") else str(v) for v in values]


def _pairs_from_db(label_field: str) -> list[tuple[str, str]]:
    """Training pairs from the corrected history; a label with a single example is named
    with its message and left out (it can be neither learnt nor checked)."""
    from collections import Counter

    from otklik.db.session import session_scope
    from otklik.language.registry import history

    with session_scope() as session:
        examples = history(session, label_field)
    counts = Counter(e.label for e in examples)
    single = [e for e in examples if counts[e.label] == 1]
    if single:
        named = ", ".join(f"«{e.label}» (сообщение {e.message_id})" for e in single[:20])
        more = f" … всего {len(single)}" if len(single) > 20 else ""
        err.print(f"[yellow]метки с единственным примером не участвуют в обучении[/yellow] "
                  f"(их нельзя ни выучить, ни проверить): {named}{more}", highlight=False)
    return [(e.text, e.label) for e in examples if counts[e.label] > 1]


def _register(directory: Path, activate: bool) -> None:
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.language.registry import register

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
    from otklik.language.registry import TOPIC_MODEL_FIELDS

    if label_field is None or label_field in TOPIC_MODEL_FIELDS:
        console.print(f"[yellow]{STORED_RESULTS_HINT}[/yellow]", highlight=False)


models_app = typer.Typer(help="Реестр моделей: список, активация, откат.", no_args_is_help=True)


@models_app.command("list")
def models_list(label_field: Annotated[str | None, typer.Option("--label-field")] = None
                ) -> None:
    """Зарегистрированные модели с метриками."""
    from otklik.db.session import session_scope
    from otklik.language.registry import versions

    table = Table("версия", "поле", "активна", "accuracy", "macro-F1", "создана",
                  "переобучение")
    with session_scope() as session:
        for row in versions(session, label_field):
            metrics = row.metrics or {}
            table.add_row(row.version, row.label_field, "да" if row.active else "",
                          f"{metrics.get('accuracy') or 0:.3f}",
                          f"{metrics.get('macro_f1') or 0:.3f}",
                          row.created_at.isoformat(timespec="minutes"),
                          row.decision or "")
    console.print(table)


@models_app.command("activate")
def models_activate(version: str) -> None:
    """Сделать модель активной."""
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.language.registry import activate_version

    with session_scope() as session:
        row = activate_version(session, Actor.system("cli"), version)
        console.print(f"активна модель {row.version} ({row.label_field})")
        _stored_results_hint(row.label_field)


@models_app.command("rollback")
def models_rollback(label_field: Annotated[str, typer.Option("--label-field")]) -> None:
    """Вернуть предыдущую активную модель."""
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.language.registry import rollback

    with session_scope() as session:
        row = rollback(session, Actor.system("cli"), label_field)
        console.print(f"активна модель {row.version} ({row.label_field})")
        _stored_results_hint(row.label_field)


@models_app.command("retrain")
def models_retrain(
    label_fields: Annotated[list[str] | None, typer.Option(
        "--label-field", help="поле (можно несколько раз); по умолчанию — все поля, "
                              "которые операторы исправляли")] = None,
    force: Annotated[bool, typer.Option(
        "--force", help="переобучить, даже если срок не подошёл")] = False,
) -> None:
    """Переобучить на исправлениях операторов: претендент против активной модели.

    Запускайте из cron каждую ночь: переобучение идёт, только когда накопилось
    OTKLIK_RETRAIN_MIN_CORRECTIONS новых исправлений или прошло OTKLIK_RETRAIN_EVERY_DAYS дней.
    """
    from otklik.audit.actor import Actor
    from otklik.db.session import session_scope
    from otklik.language.registry import DB_FIELDS
    from otklik.language.retraining import RetrainSettings, corrected_fields, retrain

    settings = RetrainSettings.from_settings()
    with session_scope() as session:
        fields = label_fields or corrected_fields(session)
    unknown = [f for f in fields if f not in DB_FIELDS]
    if unknown:
        raise fail(f"--label-field: {', '.join(unknown)}; можно: {', '.join(DB_FIELDS)}")
    if not fields:
        console.print("исправлений операторов нет: переобучать не на чем")
    for label_field in fields:
        with session_scope() as session:
            outcome = retrain(session, Actor.system("retrain"), label_field,
                              settings=settings, force=force)
            if outcome.row is None:
                console.print(f"{label_field}: не нужно — {outcome.why}", highlight=False)
                continue
            row = outcome.row
            colour = {"activated": "green", "kept": "yellow"}.get(row.decision or "", "red")
            console.print(f"{label_field}: [{colour}]{row.decision}[/{colour}] {row.version} "
                          f"({outcome.why})", highlight=False)
            console.print(f"  {row.reason}", highlight=False)
            if row.decision == "activated":
                _stored_results_hint(label_field)


def register(app: typer.Typer) -> None:
    """Add ``train``, ``models`` and ``taxonomy`` to the root CLI (``enrich`` is intake's:
    :mod:`otklik.intake.enrich_cli`)."""
    app.command("train")(train_command)
    app.add_typer(models_app, name="models")
    from otklik.language.taxonomy_cli import taxonomy_app

    app.add_typer(taxonomy_app, name="taxonomy")
