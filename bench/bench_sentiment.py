"""Sentiment benchmark on RuSentiment random posts (evaluation only: nothing is saved).

Labels: negative / neutral / positive; "skip" rows are dropped; "speech" (formulaic greetings,
thanks, congratulations) is mapped to neutral (the main table) and, for reference, dropped.
Reports macro-F1 of the lexicon out of the box and 5-fold CV of TF-IDF + LogisticRegression
alone and combined with the lexicon features. Run: .venv/bin/python bench/bench_sentiment.py
[--folds K] (K of the 5 folds are trained and scored, 5 by default; `make bench` runs 1 to keep
its whole run short — the training sets are the same size either way).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time

import numpy as np
from scipy.sparse import csr_matrix, hstack
from shared_data import SHARED_DATA
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import StandardScaler

from otklik.nlp.base import Doc
from otklik.nlp.normalize import NormalizeStage
from otklik.nlp.sentiment import LABELS, SentimentLexicon, SentimentStage

DATA = SHARED_DATA / "sentiment/rusentiment-dev/rusentiment_random_posts.csv"


def load(speech: str) -> tuple[list[str], list[str]]:
    """Read the CSV; speech is 'neutral' (mapped) or 'drop'."""
    texts, labels = [], []
    with DATA.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            label = row["label"]
            if label == "skip" or (label == "speech" and speech == "drop"):
                continue
            texts.append(row["text"])
            labels.append("neutral" if label == "speech" else label)
    return texts, labels


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", type=int, default=5, choices=range(1, 6),
                        help="how many of the 5 folds to train and score (default 5)")
    folds = parser.parse_args().folds
    if not DATA.exists():
        print(f"data not found: {DATA}")
        sys.exit(0)
    rows: list[tuple[str, str, float, str]] = []
    lexicon = SentimentLexicon()
    for speech in ("neutral", "drop"):
        texts, labels = load(speech)
        docs = [Doc(id=str(i), text=t) for i, t in enumerate(texts)]
        t0 = time.perf_counter()
        NormalizeStage().process(docs)
        preds = [r.value for r in SentimentStage(lexicon=lexicon).process(docs)]
        dt = time.perf_counter() - t0
        f1 = f1_score(labels, preds, average="macro", labels=list(LABELS))
        rows.append((f"speech->{speech}", "lexicon (out of the box)", f1,
                     f"{len(texts) / dt:,.0f} msg/s incl. normalize+lemmas"))
        if speech != "neutral":
            continue
        y = np.array(labels)
        feats = np.asarray([lexicon.features(d.text, d.lemmas) for d in docs])
        cleans = [d.clean for d in docs]
        skf = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
        for name in ("TF-IDF + LogReg (5-fold CV)", "TF-IDF + lexicon feats + LogReg (5-fold CV)"):
            f1s = []
            for tr, te in list(skf.split(cleans, y))[:folds]:
                word = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
                char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=3,
                                       sublinear_tf=True, max_features=200_000)
                xtr = hstack([word.fit_transform([cleans[i] for i in tr]),
                              char.fit_transform([cleans[i] for i in tr])])
                xte = hstack([word.transform([cleans[i] for i in te]),
                              char.transform([cleans[i] for i in te])])
                if "lexicon" in name:
                    sc = StandardScaler().fit(feats[tr])
                    xtr = hstack([xtr, csr_matrix(sc.transform(feats[tr]))])
                    xte = hstack([xte, csr_matrix(sc.transform(feats[te]))])
                clf = LogisticRegression(max_iter=2000, C=4.0, class_weight="balanced")
                clf.fit(xtr.tocsr(), y[tr])
                f1s.append(f1_score(y[te], clf.predict(xte.tocsr()), average="macro"))
            spread = f"±{np.std(f1s):.3f} over folds" if folds > 1 else "one fold of 5"
            rows.append((f"speech->{speech}", name, float(np.mean(f1s)), spread))
    print(f"RuSentiment random posts, skip dropped ({DATA.name})\n")
    print(f"| {'labels':<16} | {'method':<44} | macro-F1 | note")
    print(f"|{'-' * 18}|{'-' * 46}|----------|------")
    for lab, name, f1, note in rows:
        print(f"| {lab:<16} | {name:<44} | {f1:8.3f} | {note}")


if __name__ == "__main__":
    main()
