"""``otklik signals``: the detector over a file of messages, offline (JSONL of signals out)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from otklik.console import err, fail

SCHEMA_FILE = Path(__file__).with_name("signal_schema.json")


def region_code(value: str) -> str:
    """A region's code from a code ("85") or a name ("Калмыкия", "Республика Калмыкия")."""
    from otklik.nlp.territory_index import get_index

    wanted = value.strip().lower().replace("ё", "е")
    regions = get_index().regions  # the pipeline's gazetteer: in memory anyway
    for region in regions:
        names = {str(region["code"]), region["name"].lower().replace("ё", "е"),
                 (region.get("short_name") or "").lower().replace("ё", "е")}
        if wanted in names:
            return str(region["code"])
    stem = wanted[:-2] if len(wanted) > 5 else wanted  # "калмыкия" in "республика калмыкия"
    found = [r for r in regions if stem and stem in r["name"].lower().replace("ё", "е")]
    if len(found) == 1:
        return str(found[0]["code"])
    raise fail(f"--region: неизвестный регион {value!r}; укажите код (85) или название "
                "(«Республика Калмыкия»)")


def signals_command(
    data: Annotated[Path, typer.Option(
        "--data", help="CSV/JSONL сообщений: id, text, created_at, author (source, channel, "
                       "region — по желанию)")],
    out: Annotated[Path, typer.Option("--out", help="куда писать сигналы (JSONL)")],
    region: Annotated[str | None, typer.Option(
        "--region", help="регион сообщений без своего: «Республика Калмыкия», 85")] = None,
    model: Annotated[Path | None, typer.Option(
        "--model", help="папка модели из otklik train")] = None,
    settings_file: Annotated[Path | None, typer.Option(
        "--settings", help="пороги (JSON, см. docs/incidents.md)")] = None,
    batch_size: Annotated[int, typer.Option("--batch-size", min=1)] = 256,
) -> None:
    """Найти чрезвычайные ситуации в потоке сообщений: всплески, опасности, волны одинаковых
    сообщений (JSONL сигналов на выходе; база не нужна)."""
    from otklik.incidents.replay import StreamError, checked, replay
    from otklik.incidents.settings import DetectorSettings
    from otklik.nlp.pipeline import Pipeline
    from otklik.nlp.records import TrainingDataError, iter_records

    settings = DetectorSettings()
    if settings_file is not None:
        try:
            settings = DetectorSettings.from_dict(
                json.loads(settings_file.read_text(encoding="utf-8")))
        except (OSError, ValueError, TypeError, AttributeError) as exc:
            raise fail(f"--settings {settings_file}: {exc}") from None
    code = region_code(region) if region else None
    try:
        pipeline = Pipeline.default(model_dir=model, region=code)
        records = checked(iter_records(data), str(data))
        out.parent.mkdir(parents=True, exist_ok=True)
        result = replay(records, pipeline, settings, batch_size=batch_size)
    except (TrainingDataError, StreamError) as exc:
        raise fail(str(exc)) from None
    if result.skipped_stages:
        err.print(f"[yellow]стадии недоступны и пропущены:[/yellow] "
                  f"{', '.join(result.skipped_stages)}")
    with open(out, "w", encoding="utf-8") as handle:
        for signal in result.signals:
            handle.write(json.dumps(signal.as_dict(), ensure_ascii=False) + "\n")
    err.print(f"{result.messages} сообщений, без места {result.without_place}, повторов "
              f"{result.duplicates}; детектор: {result.detector_rate:,.0f} сообщений/с")
    typer.echo(f"{len(result.signals)} сигналов → {out}")


def register(app: typer.Typer) -> None:
    """Add ``otklik signals`` to the CLI."""
    app.command("signals")(signals_command)
