"""The learning curve of the weekly loop: how fast operators' corrections teach the model,
in arrival order and least-confidence first (issue 22, part 3).

A labelled stream is replayed as if an operator looked at each case the machine labelled
and corrected every one it got wrong; the model is retrained every 200 corrections. The
stream's latest 20 % (in time) is the test set the curves are measured on; the earlier 80 %
is the stream. Orders of the same stream (``--orders``; the pool re-scored by the current
model at every retraining):

- **arrival**: the operator takes the cases as they came;
- **confidence** (least confidence): first the case the current model is least sure of (the
  lowest top probability);
- **queue**: the product queue's «сначала неуверенные» (``otklik.workspace.confidence``):
  least confidence from the ``HARDEST_LAST`` (15 %) quantile of the confidence up, the
  least sure 15 % last;
- **margin**: first the smallest gap between the two likeliest labels;
- **entropy**: first the highest entropy of the label distribution;
- **outliers-last**: least confidence that starts at the 15th percentile of the confidence
  and works outwards (|rank − 0.15|), so the hardest cases — outliers and noise, which
  uncertainty sampling is known to waste its labels on — come later;
- **random**: a fixed random order (seed).

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

    .venv/bin/python bench/bench_learning.py            # ~5 min: Kursk + SPb (8,000)
    .venv/bin/python bench/bench_learning.py --full     # all 20,000 SPb, the shipped recipe
    .venv/bin/python bench/bench_learning.py --spb 20000 --only spb   # all SPb, one SVM each
    .venv/bin/python bench/bench_learning.py --orders arrival,confidence,random --only spb
    .venv/bin/python bench/bench_learning.py --data /path/to/appeals   # another data folder
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from shared_data import SHARED_DATA
from sklearn.metrics import f1_score

from otklik.nlp.training import (
    Prepared,
    TextClassifier,
    TrainOptions,
    prepare_text,
    read_labelled,
)
from otklik.workspace.confidence import HARDEST_LAST

DATA = SHARED_DATA / "appeals"
KURSK = "kursk-2022-train/train_dataset_train.csv"
SPB = "spb-2020-train/spb_train.jsonl.gz"
CHECKPOINTS = (200, 500, 1000, 2000, 5000)
RETRAIN_EVERY = 200
SEED_CASES = 100
#: outliers-last starts at this quantile of the confidence.
OUTLIER_SHARE = 0.15
console = Console(width=160)


def _by_arrival(proba: Any, rng: random.Random) -> list[int]:
    return list(range(len(proba)))


def _by_confidence(proba: Any, rng: random.Random) -> list[int]:
    return [int(j) for j in np.argsort(proba.max(axis=1), kind="stable")]


def _by_margin(proba: Any, rng: random.Random) -> list[int]:
    two = np.sort(proba, axis=1)[:, -2:]
    return [int(j) for j in np.argsort(two[:, 1] - two[:, 0], kind="stable")]


def _by_entropy(proba: Any, rng: random.Random) -> list[int]:
    entropy = -(proba * np.log(np.clip(proba, 1e-12, 1.0))).sum(axis=1)
    return [int(j) for j in np.argsort(-entropy, kind="stable")]


def _hardest_last(proba: Any, rng: random.Random) -> list[int]:
    """The product queue's order: least confidence, the least sure HARDEST_LAST share last."""
    order = _by_confidence(proba, rng)
    held = len(order) * round(HARDEST_LAST * 100) // 100  # the SQL's integer arithmetic
    return order[held:] + order[:held]


def _outliers_last(proba: Any, rng: random.Random) -> list[int]:
    top = proba.max(axis=1)
    rank = np.empty(len(top))
    rank[np.argsort(top, kind="stable")] = np.arange(len(top)) / max(len(top), 1)
    return [int(j) for j in np.argsort(np.abs(rank - OUTLIER_SHARE), kind="stable")]


def _by_chance(proba: Any, rng: random.Random) -> list[int]:
    order = list(range(len(proba)))
    rng.shuffle(order)
    return order


#: Order name → (the queue of the remaining cases by their probabilities, shown name).
ORDERS: dict[str, tuple[Callable[[Any, random.Random], list[int]], str]] = {
    "arrival": (_by_arrival, "arrival"),
    "confidence": (_by_confidence, "least confidence"),
    "queue": (_hardest_last, "queue (hardest last)"),
    "margin": (_by_margin, "margin"),
    "entropy": (_by_entropy, "entropy"),
    "outliers-last": (_outliers_last, "outliers last"),
    "random": (_by_chance, "random"),
}


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


def _proba(model: TextClassifier, prepared: Sequence[Prepared]) -> Any:
    return model.proba_from_scores(model.decision_prepared(list(prepared)))


def _figures(model: TextClassifier, test: Sequence[Prepared], truth: Sequence[str],
             labels: list[str]) -> tuple[float, float]:
    predicted = [model.classes[int(i)] for i in _proba(model, test).argmax(axis=1)]
    return (float(f1_score(truth, predicted, labels=labels, average="macro", zero_division=0)),
            float(f1_score(truth, predicted, labels=labels, average="weighted",
                           zero_division=0)))


def replay(pool: Sequence[Prepared], pool_y: Sequence[str], test: Sequence[Prepared],
           test_y: Sequence[str], order: str, options: TrainOptions, max_corrections: int,
           with_confirmed: bool, seed: int = 42) -> Curve:
    """One replay of the stream (see the module's docstring)."""
    labels = sorted(set(test_y) | set(pool_y))
    rank, _name = ORDERS[order]
    rng = random.Random(seed)
    seen = list(range(min(SEED_CASES, len(pool))))
    taught = list(seen)  # indices the model learns from
    model = _fit([pool[i] for i in taught], [pool_y[i] for i in taught], options)
    remaining = list(range(len(seen), len(pool)))
    corrections = reviewed = 0
    points: list[tuple[int, int, float, float]] = []
    while remaining and corrections < max_corrections and model is not None:
        # The model labels what is left; the order puts its queue in front of the operator.
        proba = _proba(model, [pool[i] for i in remaining])
        guesses = {i: model.classes[int(b)]
                   for i, b in zip(remaining, proba.argmax(axis=1), strict=True)}
        queue = [remaining[j] for j in rank(proba, rng)]
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


def _reached(curve: Curve, target: float) -> tuple[int, int] | None:
    """(corrections, cases reviewed) at the first retraining within 0.01 of ``target``."""
    for corrections, reviewed, _macro, weighted in curve.points:
        if weighted >= target - 0.01:
            return corrections, reviewed
    return None


def _load_kursk(data: Path, seed: int) -> tuple[list[str], list[str]]:
    pairs = read_labelled(data / KURSK, "text", "category",
                          ["id", "text", "theme", "executor", "category"])
    random.Random(seed).shuffle(pairs)
    return [t for t, _ in pairs], [str(y) for _, y in pairs]


def _load_spb(data: Path, limit: int | None) -> tuple[list[str], list[str]]:
    with gzip.open(data / SPB, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for line in handle if line.strip()]
    rows.sort(key=lambda r: (r.get("dt") or "", r.get("id") or ""))
    if limit:
        rows = rows[:limit]
    return [r["text"] for r in rows], [r["category"] for r in rows]


def _cell(got: tuple[float, float, int] | None) -> str:
    return f"{got[0]:.3f} / {got[1]:.3f} ({got[2]:,})" if got else "—"


def run(name: str, texts: list[str], labels: list[str], options: TrainOptions,
        with_confirmed: bool, orders: Sequence[str], seed: int = 42) -> dict[str, Any]:
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
                            with_confirmed, seed)
              for order in orders}
    table = Table(title=f"{name}: stream {len(pool)}, test {len(test)} (latest 20 %), "
                        f"{len(classes)} classes; full stream → macro-F1 {full_macro:.3f}, "
                        f"weighted-F1 {full_weighted:.3f}; macro / weighted (cases reviewed)",
                  title_justify="left")
    table.add_column("corrections", justify="right")
    for order in orders:
        table.add_column(ORDERS[order][1], justify="right")
    for n in CHECKPOINTS:
        table.add_row(f"{n:,}", *[_cell(_at(curves[o], n)) for o in orders])
    table.add_section()
    ends = []
    for order in orders:
        last = curves[order].points[-1] if curves[order].points else None
        ends.append(f"{last[0]:,}: {last[2]:.3f} / {last[3]:.3f}" if last else "—")
    table.add_row("stream ends", *ends)
    reach = {order: _reached(curves[order], full_weighted) for order in orders}
    table.add_row(f"reaches {full_weighted - 0.01:.3f}",
                  *[f"{r[0]:,} corr. ({r[1]:,} cases)" if r else "never" for r in
                    (reach[o] for o in orders)])
    console.print(table)
    console.print(f"  reached = weighted-F1 within 0.01 of the full stream's; "
                  f"{time.perf_counter() - started:.0f} s")
    # Met when an uncertainty order gets there with at most half the corrections arrival
    # order needed (or arrival order never gets there within the stream).
    arrival = reach.get("arrival")
    for order in orders:
        got = reach[order]
        if order == "arrival" or arrival is None and got is None:
            continue
        half = got is not None and (arrival is None or got[0] * 2 <= arrival[0])
        console.print(f"  target ({ORDERS[order][1]} with half the corrections of arrival "
                      f"order): {'met' if half else 'not met'}")
    return {"name": name, "full": (full_macro, full_weighted), "reach": reach, "curves": curves}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--full", action="store_true",
                        help="all 20,000 SPb reports and the shipped recipe (inner search)")
    parser.add_argument("--corrections-only", action="store_true",
                        help="learn from the corrections alone, not the confirmed cases")
    parser.add_argument("--orders", default="arrival,confidence,queue,outliers-last",
                        help=f"comma-separated, of: {', '.join(ORDERS)}")
    parser.add_argument("--data", type=Path, default=DATA,
                        help="the folder that holds kursk-2022-train/ and spb-2020-train/")
    parser.add_argument("--spb", type=int, default=8000,
                        help="the first N SPb reports in time order (default 8,000; --full: all)")
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--only", choices=("kursk", "spb"), default=None)
    args = parser.parse_args()
    orders = [o.strip() for o in args.orders.split(",") if o.strip()]
    unknown = [o for o in orders if o not in ORDERS]
    if unknown:
        parser.error(f"unknown order {', '.join(unknown)}; known: {', '.join(ORDERS)}")
    options = _fast(TrainOptions(), args.full)
    learn = not args.corrections_only
    if args.only in (None, "kursk"):
        if (args.data / KURSK).exists():
            run("Kursk 2022 appeals (category)", *_load_kursk(args.data, args.seed), options,
                learn, orders, args.seed)
        else:
            console.print(f"[yellow]no {args.data / KURSK}: Kursk skipped[/yellow]")
    if args.only in (None, "spb"):
        if (args.data / SPB).exists():
            texts, labels = _load_spb(args.data, None if args.full else args.spb)
            run(f"SPb 2020 reports in time order, {len(texts):,} (category)", texts, labels,
                options, learn, orders, args.seed)
        else:
            console.print(f"[yellow]no {args.data / SPB}: SPb skipped[/yellow]")


if __name__ == "__main__":
    main()
