"""The learning curve of the weekly loop: how fast operators' corrections teach the model,
in arrival order and least-confidence first (issue 22, part 3).

A labelled stream is replayed as if an operator looked at each case the machine labelled
and corrected every one it got wrong; the model is retrained every 200 corrections. The
stream's latest 20 % (in time) is the test set the curves are measured on; the earlier 80 %
is the stream. Two orders of the same stream:

- **arrival**: the operator takes the cases as they came;
- **least confidence**: the operator takes first the case the current model is least sure
  of (the lowest top probability; the queue's «сначала неуверенные»), the pool re-scored at
  every retraining.

What the model learns from is what the registry's ``--from-db`` learns from: the corrections
and the cases the operator saw and left as they were (confirmed); ``--corrections-only``
learns from the corrections alone. Both
orders start from the same 100 labelled cases (the first 100 of the stream). The full-data
figure is the same recipe trained on the whole stream. "Reached" means within 0.01 of the
full-data weighted-F1.

Data (evaluation only: read at run time from ../shared/data, never copied, never used to
train a shipped model): the Kursk 2022 appeals (label ``category``; no dates, so the file's
order, shuffled with a fixed seed, is the arrival order) and the SPb 2020 city-portal reports
(label ``category``, in the time order of ``dt``).

    .venv/bin/python bench/bench_learning.py            # ~3-5 min: Kursk + SPb (8,000)
    .venv/bin/python bench/bench_learning.py --full     # all 20,000 SPb, the shipped recipe
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from sklearn.metrics import f1_score

from otklik.nlp.training import (
    Prepared,
    TextClassifier,
    TrainOptions,
    prepare_text,
    read_labelled,
)

DATA = Path(__file__).resolve().parents[2] / "shared/data/appeals"
KURSK = DATA / "kursk-2022-train" / "train_dataset_train.csv"
SPB = DATA / "spb-2020-train" / "spb_train.jsonl.gz"
CHECKPOINTS = (200, 500, 1000, 2000, 5000)
RETRAIN_EVERY = 200
SEED_CASES = 100
console = Console(width=150)


@dataclass
class Curve:
    """Figures after each retraining: corrections, reviewed cases, macro-F1, weighted-F1."""

    points: list[tuple[int, int, float, float]]
    exhausted_at: int  # corrections when the stream ran out of cases


def _fast(options: TrainOptions, full: bool) -> TrainOptions:
    if full:
        return options
    # One SVM per retraining (no inner search): C fixed, no offsets, no stacker.
    return TrainOptions(c=0.3, tune_offsets=False, inner_folds=0, stacker=None)


def _fit(prepared: Sequence[Prepared], labels: Sequence[str], options: TrainOptions
         ) -> TextClassifier | None:
    if len(set(labels)) < 2:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return TextClassifier(options).fit_prepared(list(prepared), list(labels))


def _scores(model: TextClassifier, prepared: Sequence[Prepared]) -> tuple[Any, Any]:
    """(predicted label index into model.classes, top probability) per text."""
    proba = model.proba_from_scores(model.decision_prepared(list(prepared)))
    return proba.argmax(axis=1), proba.max(axis=1)


def _figures(model: TextClassifier, test: Sequence[Prepared], truth: Sequence[str],
             labels: list[str]) -> tuple[float, float]:
    best, _ = _scores(model, test)
    predicted = [model.classes[int(i)] for i in best]
    return (float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)),
            float(f1_score(truth, predicted, labels=labels, average="weighted",
                           zero_division=0)))


def replay(pool: Sequence[Prepared], pool_y: Sequence[str], test: Sequence[Prepared],
           test_y: Sequence[str], order: str, options: TrainOptions, max_corrections: int,
           with_confirmed: bool) -> Curve:
    """One replay of the stream (see the module's docstring)."""
    labels = sorted(set(test_y) | set(pool_y))
    seen = list(range(min(SEED_CASES, len(pool))))
    taught = list(seen)  # indices the model learns from
    model = _fit([pool[i] for i in taught], [pool_y[i] for i in taught], options)
    remaining = list(range(len(seen), len(pool)))
    corrections = reviewed = 0
    points: list[tuple[int, int, float, float]] = []
    while remaining and corrections < max_corrections and model is not None:
        # The model labels what is left; in least-confidence order the queue is sorted by it.
        best, top = _scores(model, [pool[i] for i in remaining])
        guesses = {i: model.classes[int(b)] for i, b in zip(remaining, best, strict=True)}
        if order == "confidence":
            queue = [remaining[j] for j in np.argsort(top, kind="stable")]
        else:
            queue = list(remaining)
        batch = 0
        done: set[int] = set()
        for i in queue:
            reviewed += 1
            done.add(i)
            if guesses[i] != pool_y[i]:
                corrections += 1
                batch += 1
                taught.append(i)
            elif with_confirmed:
                taught.append(i)
            if batch >= RETRAIN_EVERY:
                break
        remaining = [i for i in remaining if i not in done]
        model = _fit([pool[i] for i in taught], [pool_y[i] for i in taught], options)
        if model is not None:
            macro, weighted = _figures(model, test, test_y, labels)
            points.append((corrections, reviewed, macro, weighted))
    return Curve(points, corrections)


def _at(curve: Curve, n: int) -> tuple[float, float, int] | None:
    """Figures after the retraining at which ``n`` corrections were reached."""
    for corrections, reviewed, macro, weighted in curve.points:
        if corrections >= n:
            return macro, weighted, reviewed
    return None


def _reached(curve: Curve, target: float) -> int | None:
    for corrections, _reviewed, _macro, weighted in curve.points:
        if weighted >= target - 0.01:
            return corrections
    return None


def _load_kursk(seed: int) -> tuple[list[str], list[str]]:
    pairs = read_labelled(KURSK, "text", "category", ["id", "text", "theme", "executor",
                                                      "category"])
    random.Random(seed).shuffle(pairs)
    return [t for t, _ in pairs], [str(y) for _, y in pairs]


def _load_spb(limit: int | None) -> tuple[list[str], list[str]]:
    with gzip.open(SPB, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    rows.sort(key=lambda r: (r.get("dt") or "", r.get("id") or ""))
    if limit:
        rows = rows[:limit]
    return [r["text"] for r in rows], [r["category"] for r in rows]


def run(name: str, texts: list[str], labels: list[str], options: TrainOptions,
        with_confirmed: bool) -> dict[str, Any]:
    started = time.perf_counter()
    prepared = [prepare_text(t) for t in texts]
    cut = int(len(texts) * 0.8)
    pool, pool_y = prepared[:cut], labels[:cut]
    test, test_y = prepared[cut:], labels[cut:]
    classes = sorted(set(labels))
    full_model = _fit(pool, pool_y, options)
    assert full_model is not None
    full_macro, full_weighted = _figures(full_model, test, test_y, classes)
    curves = {order: replay(pool, pool_y, test, test_y, order, options, max(CHECKPOINTS),
                            with_confirmed)
              for order in ("arrival", "confidence")}
    table = Table(title=f"{name}: stream {len(pool)}, test {len(test)} (latest 20 %), "
                        f"{len(classes)} classes; full stream → macro-F1 {full_macro:.3f}, "
                        f"weighted-F1 {full_weighted:.3f}", title_justify="left")
    table.add_column("corrections", justify="right")
    for order in ("arrival", "least conf."):
        for what in ("macro", "weighted", "seen"):
            table.add_column(f"{order} {what}", justify="right")
    for n in CHECKPOINTS:
        cells = [f"{n:,}"]
        for order in ("arrival", "confidence"):
            got = _at(curves[order], n)
            cells += [f"{got[0]:.3f}", f"{got[1]:.3f}", f"{got[2]:,}"] if got else ["—"] * 3
        table.add_row(*cells)
    table.add_section()
    for order in ("arrival", "confidence"):
        last = curves[order].points[-1] if curves[order].points else None
        if last is None:
            continue
        cells = [f"stream ends: {last[0]:,}"] + ["", "", ""] * (order == "confidence")
        cells += [f"{last[2]:.3f}", f"{last[3]:.3f}", f"{last[1]:,}"]
        cells += ["", "", ""] * (order == "arrival")
        table.add_row(*cells)
    console.print(table)
    reach = {order: _reached(curves[order], full_weighted) for order in curves}
    console.print(
        f"  reaches weighted-F1 {full_weighted - 0.01:.3f} (full − 0.01): arrival after "
        f"{reach['arrival'] or 'never'}, least confidence after {reach['confidence'] or 'never'}"
        f" corrections; {time.perf_counter() - started:.0f} s")
    # Met when least confidence gets there, with at most half the corrections arrival order
    # needed (or arrival order never gets there within the stream).
    half = reach["confidence"] is not None and (
        reach["arrival"] is None or reach["confidence"] * 2 <= reach["arrival"])
    console.print(f"  target (least confidence with half the corrections): "
                  f"{'met' if half else 'not met'}")
    return {"name": name, "full": (full_macro, full_weighted), "reach": reach, "curves": curves}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true",
                        help="all 20,000 SPb reports and the shipped recipe (inner search)")
    parser.add_argument("--corrections-only", action="store_true",
                        help="learn from the corrections alone, not the confirmed cases")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--only", choices=("kursk", "spb"), default=None)
    args = parser.parse_args()
    options = _fast(TrainOptions(), args.full)
    if args.only in (None, "kursk"):
        if KURSK.exists():
            run("Kursk 2022 appeals (category)", *_load_kursk(args.seed), options,
                not args.corrections_only)
        else:
            console.print(f"[yellow]no {KURSK}: Kursk skipped[/yellow]")
    if args.only in (None, "spb"):
        if SPB.exists():
            texts, labels = _load_spb(None if args.full else 8000)
            run(f"SPb 2020 reports in time order, {len(texts):,} (category)", texts, labels,
                options, not args.corrections_only)
        else:
            console.print(f"[yellow]no {SPB}: SPb skipped[/yellow]")


if __name__ == "__main__":
    main()
