"""Kursk 2022 appeals: plain baseline vs `otklik train`, and the lexicon out of the box.

Reads ../shared/data/appeals/kursk-2022-train at run time (evaluation only: the data is
never copied into the project and no shipped model is trained on it).

    .venv/bin/python bench/bench_kursk.py [--data PATH] [--label category] [--seeds 42,1,2]

With several seeds (different fold splits) it also prints mean ± sd: macro-F1 moves by
several points between splits here, because 9 of the 17 categories have under 20 examples.
Then: how much of macro-F1 the tiny classes decide, and the trained model's predict cost.
"""

from __future__ import annotations

import argparse
import statistics
import time
import warnings
from collections import Counter
from pathlib import Path

import numpy as np
from rich.console import Console
from rich.table import Table
from shared_data import SHARED_DATA
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import FeatureUnion, make_pipeline, make_union
from sklearn.svm import LinearSVC

from otklik.nlp.base import Doc
from otklik.nlp.morph import lemmatize, tokenize
from otklik.nlp.normalize import normalize_text
from otklik.nlp.topic import LexiconTopicStage
from otklik.nlp.training import EvalReport, TextClassifier, TrainOptions, read_labelled, train

DEFAULT_DATA = SHARED_DATA / "appeals/kursk-2022-train/train_dataset_train.csv"
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


def plain_features() -> FeatureUnion:
    """The issue's plain baseline features: TF-IDF of char_wb 2-5-grams and word 1-2-grams
    (the benchmarks that compare with a bare classifier all use these)."""
    return make_union(TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5),
                                      sublinear_tf=True, min_df=2),
                      TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True))


def baseline_cv(texts: list[str], labels: list[str], folds: int, seed: int) -> dict[str, float]:
    """The plain recipe the issue quotes: TF-IDF char 2-5 + word 1-2, LinearSVC, raw text."""
    y = np.asarray(labels, dtype=object)
    pred = np.empty(len(y), dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        splits = list(StratifiedKFold(folds, shuffle=True, random_state=seed).split(texts, y))
    for tr, te in splits:
        model = make_pipeline(plain_features(), LinearSVC())
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


def tiny_class_bounds(report: EvalReport, tiny: int = 20) -> Table:
    """What macro-F1 would be if the classes with < ``tiny`` examples were all right / all wrong.

    A class with one example is never in the training folds when it is tested, so its F1 is
    0 under any cross-validation; the "perfect" row keeps that.
    """
    per = report.per_class
    big = [c.f1 for c in per if c.support >= tiny]
    small = [c for c in per if c.support < tiny]
    n = len(per)
    reachable = [c for c in small if c.support > 1]
    table = Table(title=f"How much the {len(small)} classes with < {tiny} examples weigh in "
                        f"macro-F1 ({n} classes)", title_justify="left")
    table.add_column("scenario")
    table.add_column("macro-F1", justify="right")
    table.add_row("as measured", f"{report.macro_f1:.3f}")
    table.add_row("big classes as measured, tiny classes all 0", f"{sum(big) / n:.3f}")
    table.add_row("big classes perfect, tiny classes all 0", f"{len(big) / n:.3f}")
    table.add_row("big classes as measured, tiny classes perfect (1-example class stays 0)",
                  f"{(sum(big) + len(reachable)) / n:.3f}")
    need = 0.60 * n - sum(big)
    table.add_row(f"mean F1 the {len(reachable)} learnable tiny classes need for 0.60",
                  f"{need / max(len(reachable), 1):.3f}")
    table.add_row("their mean F1 now",
                  f"{sum(c.f1 for c in reachable) / max(len(reachable), 1):.3f}")
    return table


def predict_cost(model: TextClassifier, texts: list[str]) -> tuple[float, float]:
    """Milliseconds per message of ``predict_proba``: from raw text, and from pipeline lemmas."""
    started = time.perf_counter()
    model.predict_proba(texts)
    raw = (time.perf_counter() - started) * 1000 / len(texts)
    cleaned = [normalize_text(t)[0].lower() for t in texts]
    tokens = [tokenize(t) for t in cleaned]
    lemmas = [lemmatize(t) for t in tokens]
    started = time.perf_counter()
    for i in range(0, len(texts), 256):  # the pipeline's batch size
        model.predict_proba(cleaned[i:i + 256], tokens[i:i + 256], lemmas[i:i + 256])
    analysed = (time.perf_counter() - started) * 1000 / len(texts)
    return raw, analysed


def _cell(values: list[float]) -> str:
    if len(values) == 1:
        return f"{values[0]:.3f}"
    return f"{statistics.mean(values):.3f} ± {statistics.stdev(values):.3f}"


def oracle_bound(path: Path, label: str) -> Table:
    """How far a model that knew the operator's own theme (161 values, finer than the
    category) and the place the pipeline finds could go: each appeal gets the commonest
    label of the other appeals with the same key (leave-one-out; no other appeal with that
    key: the commonest label overall)."""
    from otklik.nlp.features import place_of

    records = [(line, text, theme, lab) for line, text, theme, lab in (
        (i, r[1], r[2], r[COLUMNS.index(label)]) for i, r in enumerate(
            _csv_rows(path)))]
    places = [place_of(normalize_text(text)[0], "38")[1] for _i, text, _t, _l in records]
    gold = [lab for *_rest, lab in records]
    commonest = Counter(gold).most_common(1)[0][0]
    table = Table(title=f"Kursk, {label}: leave-one-out majority by key (an oracle's bound)",
                  title_justify="left")
    for col in ("key", "distinct keys", "accuracy", "weighted-F1"):
        table.add_column(col, justify="left" if col == "key" else "right")
    keys = {
        "operator's theme": [theme for _i, _t, theme, _l in records],
        "operator's theme + pipeline's municipality":
            [(theme, place) for (_i, _t, theme, _l), place in zip(records, places, strict=True)],
        "pipeline's municipality": places,
    }
    for name, key in keys.items():
        by_key: dict[object, Counter[str]] = {}
        for k, lab in zip(key, gold, strict=True):
            by_key.setdefault(k, Counter())[lab] += 1
        pred = []
        for k, lab in zip(key, gold, strict=True):
            others = by_key[k].copy()
            others[lab] -= 1
            others = +others
            pred.append(others.most_common(1)[0][0] if others else commonest)
        table.add_row(name, f"{len(by_key):,}", f"{accuracy_score(gold, pred):.3f}",
                      f"{f1_score(gold, pred, average='weighted', zero_division=0):.3f}")
    return table


def _csv_rows(path: Path) -> list[list[str]]:
    import csv

    with path.open(encoding="utf-8", newline="") as handle:
        return [row for row in csv.reader(handle) if len(row) >= len(COLUMNS)]


def main() -> None:
    """Print the comparison table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--label", default="category")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--bound", action="store_true",
                        help="only print what the operator's theme (and the pipeline's place) "
                             "tell about the label: leave-one-out majority")
    parser.add_argument("--seeds", default=str(TrainOptions().seed),
                        help="comma-separated CV seeds; several give mean ± sd")
    args = parser.parse_args()
    console = Console()
    if args.bound:
        console.print(oracle_bound(args.data, args.label))
        return
    pairs = read_labelled(args.data, "text", args.label, COLUMNS)
    texts = [t for t, _ in pairs]
    labels = [lab for _, lab in pairs]
    seeds = [int(v) for v in args.seeds.split(",") if v.strip()]

    rows: dict[str, dict[str, list[float]]] = {"base": {}, "ours": {}}
    table = Table(title=f"Kursk 2022, {len(pairs)} appeals, label={args.label}, "
                        f"{args.folds}-fold stratified CV", title_justify="left",
                  caption="baseline: raw text, TF-IDF char_wb 2-5 + word 1-2, LinearSVC(C=1); "
                          "otklik train: the recipe of src/otklik/nlp/training.py",
                  caption_justify="left")
    for col in ("recipe", "seed", "accuracy", "macro-F1", "weighted-F1", "seconds"):
        table.add_column(col, justify="left" if col == "recipe" else "right")
    result = None
    for seed in seeds:
        started = time.perf_counter()
        base = baseline_cv(texts, labels, args.folds, seed)
        base_s = time.perf_counter() - started
        started = time.perf_counter()
        result = train(pairs, TrainOptions(folds=args.folds, seed=seed), label_field=args.label)
        ours_s = time.perf_counter() - started
        ours = result.report
        assert ours is not None
        mine = {"accuracy": ours.accuracy, "macro_f1": ours.macro_f1,
                "weighted_f1": ours.weighted_f1}
        for key, figures, seconds, name in (
            ("base", base, base_s, "baseline"),
            ("ours", mine, ours_s, "otklik train"),
        ):
            for metric, value in figures.items():
                rows[key].setdefault(metric, []).append(float(value))
            table.add_row(name, str(seed), f"{figures['accuracy']:.3f}",
                          f"{figures['macro_f1']:.3f}", f"{figures['weighted_f1']:.3f}",
                          f"{seconds:.1f}")
    if len(seeds) > 1:
        table.add_section()
        for key, name in (("base", "baseline mean ± sd"), ("ours", "otklik train mean ± sd")):
            table.add_row(name, "", _cell(rows[key]["accuracy"]), _cell(rows[key]["macro_f1"]),
                          _cell(rows[key]["weighted_f1"]), "")
    table.add_row("target", "", "", "≥ 0.600", "≥ 0.860", "")
    console.print(table)
    assert result is not None and result.report is not None
    for note in result.report.notes:
        console.print(f"note: {note}")
    console.print(tiny_class_bounds(result.report))
    raw_ms, analysed_ms = predict_cost(result.model, texts)
    console.print(f"Model predict_proba cost: {raw_ms:.2f} ms/message from raw text, "
                  f"{analysed_ms:.2f} ms/message from the pipeline's tokens and lemmas "
                  f"(C={result.model.c_used}, {len(result.model.classes)} classes)")

    if args.label == "category":
        acc, confusions = lexicon_accuracy(pairs)
        console.print(f"Lexicon out of the box (no training), mapped to Kursk categories: "
                      f"accuracy {acc:.3f} (target ≥ 0.70)")
        top = ", ".join(f"{g}→{p}: {n}" for (g, p), n in confusions.most_common(6))
        console.print(f"  most frequent confusions (gold→guess): {top}")

if __name__ == "__main__":
    main()
