"""A finer label that nests inside the one being learnt, used as a second training target.

A labelled file often carries, beside the label, a finer one that lies inside it: the St
Petersburg portal's 123 reasons inside its 15 categories, the Kursk themes inside their
categories, the rubricator's subtopics inside its topics. The texts of one fine class are
alike, while a coarse class mixes unlike ones («Благоустройство» holds leaves on a lawn
and an unlawful sign). So, on a large training set, :class:`TextClassifier` also fits a
linear SVM on the fine label (lemma n-grams only: five times cheaper than on every block,
as good) and gives the stacker, per coarse class, the best score of its fine classes.

The fine label is a *training* target only: predicting needs nothing but the text.

A fine class is the pair (label, fine value), so it nests by construction; which field is
a refinement at all is decided by :func:`nested_field` (a field whose values almost always
fall in one label each).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.svm import LinearSVC

#: A field is a refinement of the label when at least this share of the records fall in
#: the commonest label of their field value.
NEST_AGREEMENT = 0.98
#: ... and it is present on at least this share of the labelled records.
NEST_COVERAGE = 0.95
#: At least this many records per value on average (a field unique per record — an id, a
#: time — refines nothing).
MIN_RECORDS_PER_VALUE = 3
#: Weights smaller than this are dropped from the stored fine SVM (it keeps the model small:
#: most of a fine class's n-gram weights are near zero).
WEIGHT_FLOOR = 1e-3
SEPARATOR = "\x1f"


def fine_key(label: str, fine: str | None) -> str:
    """The fine class of a record: its label and its fine value (nested by construction)."""
    return f"{label}{SEPARATOR}{(fine or '').strip()}"


def nested_field(records: Sequence[dict[str, Any]], labels: Sequence[str],
                 exclude: Sequence[str] = ()) -> tuple[str, int] | None:
    """The field of ``records`` that refines ``labels`` best, with its number of values, or
    None: a field present on most records, with more values than the label has, each value
    falling almost always in one label (see the constants above)."""
    n = len(records)
    n_labels = len(set(labels))
    if n == 0 or n_labels < 2:
        return None
    fields: Counter[str] = Counter()
    for record in records:
        fields.update(k for k, v in record.items() if v not in (None, "") and k not in exclude)
    best: tuple[int, str] | None = None
    for name, present in fields.items():
        if present < NEST_COVERAGE * n:
            continue
        by_value: dict[str, Counter[str]] = defaultdict(Counter)
        for record, label in zip(records, labels, strict=True):
            value = record.get(name)
            if value not in (None, ""):
                by_value[str(value).strip()][label] += 1
        distinct = len(by_value)
        if not n_labels < distinct <= present / MIN_RECORDS_PER_VALUE:
            continue
        agree = sum(c.most_common(1)[0][1] for c in by_value.values())
        if agree >= NEST_AGREEMENT * present and (best is None or distinct > best[0]):
            best = (distinct, name)
    return (best[1], best[0]) if best else None


class FineScores:
    """A linear SVM on the fine classes; :meth:`scores` gives per coarse class the best score
    of its fine classes (a coarse class without one gets the row's lowest score)."""

    def __init__(self, c: float = 0.3) -> None:
        self.c = c
        #: sparse (n_features, n_fine), float32: stored transposed, so a batch's scores are
        #: one sparse product in the fast order (8x faster than against (n_fine, n_features)).
        self.coef_t: Any = None
        self.intercept: Any = None
        self.parent: Any = None  # fine class -> coarse column
        self.n_coarse = 0

    def fit(self, x: Any, fine: Sequence[str], coarse_classes: Sequence[str]) -> FineScores:
        """Fit on ``x`` (rows of one feature block) and fine keys (:func:`fine_key`)."""
        column = {c: i for i, c in enumerate(coarse_classes)}
        svm = LinearSVC(C=self.c).fit(x, np.asarray(fine, dtype=object))
        fitted = [str(c) for c in svm.classes_]
        coef = np.asarray(svm.coef_, dtype=np.float32)
        intercept = np.asarray(svm.intercept_, dtype=np.float32)
        if len(fitted) == 2:  # binary: one row for the second class
            coef = np.vstack([-coef, coef])
            intercept = np.concatenate([-intercept, intercept])
        coef[np.abs(coef) < WEIGHT_FLOOR] = 0.0
        self.coef_t = csr_matrix(coef.T)
        self.intercept = intercept
        self.parent = np.array([column[f.split(SEPARATOR, 1)[0]] for f in fitted])
        self.n_coarse = len(coarse_classes)
        return self

    def scores(self, x: Any) -> Any:
        """(rows, coarse classes): the best fine score under each coarse class."""
        fine = np.asarray((x @ self.coef_t).toarray(), dtype=np.float64) + self.intercept
        out = np.repeat(fine.min(axis=1, keepdims=True), self.n_coarse, axis=1)
        for column in range(self.n_coarse):
            mine = self.parent == column
            if mine.any():
                out[:, column] = fine[:, mine].max(axis=1)
        return out
