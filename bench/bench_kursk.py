"""Kursk 2022 appeals: plain baseline vs `otklik train`, and the lexicon out of the box.

Reads ../shared/data/appeals/kursk-2022-train at run time (evaluation only: the data is
never copied into the project and no shipped model is trained on it).

    .venv/bin/python bench/bench_kursk.py [--data PATH] [--label category]
"""

from __future__ import annotations

import argparse
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import make_pipeline, make_union
from sklearn.svm import LinearSVC

from otklik.nlp.base import Doc
from otklik.nlp.normalize import normalize_text
from otklik.nlp.topic import LexiconTopicStage
from otklik.nlp.training import TrainOptions, read_labelled, train

DEFAULT_DATA = (Path(__file__).resolve().parents[2] / "shared/data/appeals/kursk-2022-train"
                / "train_dataset_train.csv")
COLUMNS = ["id", "text", "theme", "executor", "category"]

# Our rubricator → Kursk categories (0 roads, 1 stray animals, 2 state services,
# 3 housing/utilities/public spaces, 4 health, 5 culture, 6 support measures/COVID,
# 7 education, 8 transport, 9 communications, 10 social protection, 11 construction,
# 13 trade, 14 employment, 15 sport, 16 ecology/waste). A subtopic entry wins over its topic.
TOPIC_TO_KURSK = {
    "roads": "0", "housing": "3", "utilities": "3", "improvement": "3", "waste": "3",
    "health": "4", "education": "7", "transport": "8", "social": "10", "ecology": "16",
    "safety": "3", "communications": "9", "culture_sport": "5", "trade": "13",
    "employment": "14", "construction": "11", "agriculture": "16", "government": "2",
    "other": "3",
}
SUBTOPIC_TO_KURSK = {
    "ecology.stray_animals": "1", "ecology.noise": "3",
    "waste.illegal_dumps": "16",
    "culture_sport.sport_facilities": "15", "culture_sport.sport_events": "15",
    "roads.sidewalks": "3", "safety.dangerous_objects": "3",
    "government.covid_restrictions": "6", "social.low_income": "6",
}


def baseline_cv(texts: list[str], labels: list[str], folds: int, seed: int) -> dict[str, float]:
    """The plain recipe the issue quotes: TF-IDF char 2-5 + word 1-2, LinearSVC, raw text."""
    y = np.asarray(labels, dtype=object)
    pred = np.empty(len(y), dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, y))
    for tr, te in splits:
        model = make_pipeline(
            make_union(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5),
                                       sublinear_tf=True, min_df=2),
                       TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            LinearSVC(),
        )
        model.fit([texts[i] for i in tr], y[tr])
        pred[te] = model.predict([texts[i] for i in te])
    return {"accuracy": accuracy_score(y, pred),
            "macro_f1": f1_score(y, pred, average="macro"),
            "weighted_f1": f1_score(y, pred, average="weighted")}


def lexicon_accuracy(pairs: list[tuple[str, str]]) -> tuple[float, Counter[tuple[str, str]]]:
    """Accuracy of the untrained lexicon classifier through the mapping table above."""
    stage = LexiconTopicStage()
    docs = [Doc(id=str(i), text=t, clean=normalize_text(t)[0]) for i, (t, _l) in enumerate(pairs)]
    results = stage.process(docs)
    confusions: Counter[tuple[str, str]] = Counter()
    hits = 0
    for (_text, gold), res in zip(pairs, results, strict=True):
        sub = (res.value["subtopic"] or {}).get("code")
        guess = SUBTOPIC_TO_KURSK.get(sub or "") or TOPIC_TO_KURSK[res.value["topic"]["code"]]
        hits += guess == gold
        if guess != gold:
            confusions[(gold, guess)] += 1
    return hits / len(pairs), confusions


def main() -> None:
    """Print the comparison table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--label", default="category")
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()
    console = Console()
    pairs = read_labelled(args.data, "text", args.label, COLUMNS)
    texts = [t for t, _ in pairs]
    labels = [lab for _, lab in pairs]

    started = time.perf_counter()
    base = baseline_cv(texts, labels, args.folds, TrainOptions().seed)
    base_s = time.perf_counter() - started
    started = time.perf_counter()
    ours = train(pairs, TrainOptions(folds=args.folds), label_field=args.label).report
    ours_s = time.perf_counter() - started
    assert ours is not None

    table = Table(title=f"Kursk 2022, {len(pairs)} appeals, label={args.label}, "
                        f"{args.folds}-fold stratified CV", title_justify="left")
    for col in ("recipe", "accuracy", "macro-F1", "weighted-F1", "seconds"):
        table.add_column(col, justify="left" if col == "recipe" else "right")
    table.add_row("baseline TF-IDF char2-5+word1-2 + LinearSVC", f"{base['accuracy']:.3f}",
                  f"{base['macro_f1']:.3f}", f"{base['weighted_f1']:.3f}", f"{base_s:.1f}")
    table.add_row("otklik train (same code path)", f"{ours.accuracy:.3f}",
                  f"{ours.macro_f1:.3f}", f"{ours.weighted_f1:.3f}", f"{ours_s:.1f}")
    table.add_row("target", "", "≥ 0.600", "≥ 0.860", "")
    console.print(table)
    for note in ours.notes:
        console.print(f"note: {note}")

    if args.label == "category":
        acc, confusions = lexicon_accuracy(pairs)
        console.print(f"Lexicon out of the box (no training), mapped to Kursk categories: "
                      f"accuracy {acc:.3f} (target ≥ 0.70)")
        top = ", ".join(f"{g}→{p}: {n}" for (g, p), n in confusions.most_common(6))
        console.print(f"  most frequent confusions (gold→guess): {top}")


if __name__ == "__main__":
    main()
