"""SPb 2020 city-portal reports: variants of the `otklik train` recipe on one split.

Reads ../shared/data/appeals/spb-2020-train/spb_train.jsonl.gz at run time (evaluation only:
the data is never copied into the project and no shipped model is trained on it). The 5-fold
figure with the plain baseline beside it is `otklik train` itself (see docs/nlp-quality.md,
"Language round 2 — classification"); this bench is for exploring: it fits each variant on
fold 1 of the same 5-fold split (16,000 / 4,000) and prints macro-F1 / weighted-F1.
Like `otklik train`, every variant also learns the finer label the file carries (`reason`,
found by `nested_field`; before the third pass the bench left it out, so its `shipped` row
was the recipe without the reason SVM).

    .venv/bin/python bench/bench_spb_train.py [--variants shipped,unweighted,both] [--fold 0]
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.table import Table
from shared_data import SHARED_DATA
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold

from otklik.nlp.fine_labels import nested_field
from otklik.nlp.training import (
    TextClassifier,
    TrainOptions,
    iter_records,
    plain_baseline,
    prepare_text,
)

DEFAULT_DATA = SHARED_DATA / "appeals/spb-2020-train/spb_train.jsonl.gz"

VARIANTS: dict[str, dict[str, Any]] = {
    "shipped": {},
    "no-stacker": {"stacker": None},
    "unweighted": {"class_weight": None},
    "inner-picks-unweighted": {"unweighted_c_grid": (0.3,)},
    "both": {"class_weight": "both", "c": 0.3},
    "c-0.3-1.0": {"c_grid": (0.3, 1.0)},
    "lexicon-0.5": {"lexicon_weight": 0.5},
    "unweighted-char-1-6": {"class_weight": None, "c": 0.3, "char_ngrams": (1, 6)},
    "unweighted-word-1-3": {"class_weight": None, "c": 0.3, "word_ngrams": (1, 3)},
}


def main() -> None:
    """Print one row per variant."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--label", default="category")
    parser.add_argument("--variants", default="baseline,shipped,unweighted")
    parser.add_argument("--fold", type=int, default=0, help="which of the 5 folds is the test")
    args = parser.parse_args()
    records = [r for _line, r in iter_records(args.data)]
    texts = [str(r["text"]) for r in records]
    y = np.asarray([str(r[args.label]) for r in records], dtype=object)
    found = nested_field(records, list(y), exclude=("text", args.label))
    fine = [r.get(found[0]) for r in records] if found else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        tr, te = list(StratifiedKFold(5, shuffle=True, random_state=42).split(texts, y))[args.fold]
    prepared = [prepare_text(t) for t in texts]
    table = Table(title=f"SPb 2020, {len(records)} reports, {args.label}, fold {args.fold + 1} "
                        "of 5 as the test", title_justify="left")
    for col in ("variant", "macro-F1", "weighted-F1", "seconds"):
        table.add_column(col, justify="left" if col == "variant" else "right")
    for name in [v.strip() for v in args.variants.split(",") if v.strip()]:
        started = time.perf_counter()
        if name == "baseline":  # the plain baseline, fitted on the same training part
            plain = plain_baseline(len(tr)).fit([texts[i] for i in tr], y[tr])
            pred = plain.predict([texts[i] for i in te])
            table.add_row(name, f"{f1_score(y[te], pred, average='macro'):.3f}",
                          f"{f1_score(y[te], pred, average='weighted'):.3f}",
                          f"{time.perf_counter() - started:.0f}")
            continue
        model = TextClassifier(TrainOptions(**VARIANTS[name]))
        model.fit_prepared([prepared[i] for i in tr], list(y[tr]),
                           [fine[i] for i in tr] if fine else None)
        scores = model.decision_prepared([prepared[i] for i in te])
        pred = np.asarray(model.classes, dtype=object)[scores.argmax(axis=1)]
        table.add_row(name, f"{f1_score(y[te], pred, average='macro'):.3f}",
                      f"{f1_score(y[te], pred, average='weighted'):.3f}",
                      f"{time.perf_counter() - started:.0f}")
    Console().print(table)


if __name__ == "__main__":
    main()
