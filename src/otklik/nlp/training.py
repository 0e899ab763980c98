"""Train, evaluate, save and load text classifiers for any label (topic, executor, ...).

The recipe is the same for every label field: normalized text → character n-grams of
the text + word n-grams of its lemmas + the rubricator's lexicon scores (our own
knowledge of how residents write about each topic) → a class-balanced linear SVM.

Two choices are made from the training data alone, by an inner cross-validation inside
whatever set the model is fitted on (so an outer evaluation never sees its test fold):
the SVM's C (from a small grid) and one additive offset per class on the SVM scores,
tuned to maximize macro-F1 + weighted-F1 of the inner out-of-fold predictions (small
classes get a fair share of the argmax without giving up the big ones). Probabilities
come from a softmax over the offset scores whose temperature is fitted on out-of-fold
scores of the training data only.

:func:`train` takes ``(text, label)`` pairs, so training from operators' corrections in
the database is a thin wrapper that yields pairs from a query.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from scipy.sparse import csr_matrix, hstack
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.metrics import accuracy_score, f1_score, precision_recall_fscore_support
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC

from otklik.nlp.features import (
    CharWordCache,
    ContextBlock,
    LemmaNgramIndex,
    context_tokens,
    lemma_ngram_tfidf,
    place_of,
)
from otklik.nlp.fine_labels import FineScores, fine_key
from otklik.nlp.morph import lemmatize, tokenize
from otklik.nlp.normalize import normalize_text
from otklik.nlp.records import (  # noqa: F401  (the names importers of training know)
    TEXT_EXTENSIONS,
    TrainingDataError,
    detect_format,
    file_sha256,
    iter_records,
    read_labelled,
    read_labelled_lines,
    single_example_labels,
)
from otklik.nlp.taxonomy import load_taxonomy
from otklik.nlp.topic import LexiconIndex

MODEL_FILE = "model.joblib"
META_FILE = "model.json"
MAX_TEXT_CHARS = 10_000


# --- choices made inside the training set ---------------------------------------------------


def _full_scores(scores: Any, fitted: list[str], index: dict[str, int]) -> Any:
    """Spread an SVM's score columns over all classes; classes it never saw score lowest."""
    s = np.asarray(scores, dtype=np.float64)
    if s.ndim == 1:
        s = np.column_stack([-s, s])
    out = np.full((s.shape[0], len(index)), s.min() - 1.0 if s.size else -1.0)
    out[:, [index[str(c)] for c in fitted]] = s
    return out


def macro_weighted_f1(y: Any, pred: Any, k: int) -> float:
    """macro-F1 + weighted-F1 over the classes present in ``y`` (integer-coded), fast."""
    tp = np.bincount(y[y == pred], minlength=k).astype(np.float64)
    support = np.bincount(y, minlength=k).astype(np.float64)
    predicted = np.bincount(pred, minlength=k).astype(np.float64)
    f1 = np.divide(2 * tp, support + predicted, out=np.zeros(k), where=support + predicted > 0)
    present = support > 0
    return float(f1[present].mean() + (f1 * support).sum() / support.sum())


def tune_offsets(scores: Any, y: Any, span: float = 1.0, rounds: int = 3) -> Any:
    """Per-class additive offsets maximizing macro-F1 + weighted-F1 of ``argmax(scores + b)``.

    Coordinate ascent over a grid; among equally good offsets the one closest to the
    current value is kept, so classes the data says nothing about stay at 0.
    """
    n, k = scores.shape
    grid = np.linspace(-span, span, 41)
    b = np.zeros(k)
    best = macro_weighted_f1(y, scores.argmax(axis=1), k)
    rows = np.arange(n)
    for _ in range(rounds):
        improved = False
        for c in range(k):
            others = scores + b
            others[:, c] = -np.inf
            rival = others.argmax(axis=1)
            margin = others[rows, rival]
            values = np.array([macro_weighted_f1(y, np.where(scores[:, c] + g > margin, c, rival),
                                                 k) for g in grid])
            top = values.max()
            if top > best + 1e-9:
                ties = np.flatnonzero(values >= top - 1e-12)
                b[c] = grid[ties[np.argmin(np.abs(grid[ties] - b[c]))]]
                best, improved = top, True
        if not improved:
            break
    return b


# --- the model -----------------------------------------------------------------------------
def fit_stacker(features: Any, y: Any, seed: int = 42) -> Any:
    """The second stage: a multinomial logistic regression over standardized out-of-fold SVM
    scores + lexicon scores (it learns which rubricator evidence corrects which SVM
    confusion, and calibrated probabilities come with it)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    model = make_pipeline(StandardScaler(),
                          LogisticRegression(C=0.1, max_iter=500, random_state=seed))
    return model.fit(features, y)


def fit_svm(x: Any, y: Any, c: float, class_weight: str | None) -> LinearSVC:
    """A LinearSVC; ``class_weight="both"``: a plain and a class-balanced one fitted on the same
    data, returned as one LinearSVC whose weights and intercepts are their sums (its decision
    function is the sum of theirs, so nothing downstream changes)."""
    if class_weight != "both":
        return LinearSVC(C=c, class_weight=class_weight).fit(x, y)
    plain = LinearSVC(C=c).fit(x, y)
    balanced = LinearSVC(C=c, class_weight="balanced").fit(x, y)
    plain.coef_ = plain.coef_ + balanced.coef_
    plain.intercept_ = plain.intercept_ + balanced.intercept_
    return plain


@dataclass
class Prepared:
    """A text analysed once for every fold: clean text, lemmas and lexicon scores."""

    clean: str
    lemmas: list[str]
    lexicon: Any = None
    #: The normalized text with its capitals (the territory stage needs them).
    raw: str = ""
    #: The territory stage's (region, municipality, settlement), per region hint.
    places: dict[str | None, tuple[str | None, str | None, str | None]] = field(
        default_factory=dict)


_INDEX: LexiconIndex | None = None


def lexicon_index() -> LexiconIndex:
    """The process-wide lexicon index of the shipped taxonomy (built once)."""
    global _INDEX
    if _INDEX is None:
        _INDEX = LexiconIndex(load_taxonomy())
    return _INDEX


def _lexicon_codes() -> list[str]:
    tax = lexicon_index().taxonomy
    return tax.topic_codes + tax.subtopic_codes


def prepare_text(
    text: str, tokens: Sequence[str] | None = None, lemmas: Sequence[str] | None = None
) -> Prepared:
    """Normalize a raw text and analyse it (reusing tokens/lemmas the pipeline computed)."""
    if tokens is None or lemmas is None or len(tokens) != len(lemmas):
        raw = normalize_text(text or "", max_chars=MAX_TEXT_CHARS)[0]
        clean = raw.lower()
        tokens = tokenize(clean)
        lemmas = lemmatize(tokens)
    else:
        raw = (text or "")[:MAX_TEXT_CHARS]
        clean = raw.lower()
    return Prepared(clean, list(lemmas), lexicon_index().feature_vector(lemmas, tokens), raw)


@dataclass
class TrainOptions:
    """Knobs of the recipe; the defaults are what the benchmarks report."""

    folds: int = 5
    seed: int = 42
    c: float | None = None  # None: choose from c_grid by the inner cross-validation
    c_grid: tuple[float, ...] = (0.1, 0.3)
    lexicon_weight: float = 0.2
    char_ngrams: tuple[int, int] = (2, 5)
    word_ngrams: tuple[int, int] = (1, 2)
    #: "balanced", None, or "both": one SVM of each, their weights summed into one linear
    #: model (predicting costs the same as one SVM).
    class_weight: str | None = "balanced"
    #: Also tried by the inner cross-validation: an SVM without class weights at these C.
    #: Off by default: on SPb (20,000) it is picked but gains 0.001, and on Kursk it costs
    #: macro-F1 (docs/nlp-quality.md, Language round 2 — classification).
    unweighted_c_grid: tuple[float, ...] = ()
    #: A second stage over the SVM scores and the rubricator's lexicon scores, fitted on the
    #: inner out-of-fold SVM scores: "logreg" or None. Used only when the training set has at
    #: least ``stacker_min_examples`` texts (small sets keep the offsets).
    stacker: str | None = "logreg"
    stacker_min_examples: int = 5000
    #: C of the SVM on the finer label (fine_labels.py), when one is given with the labels
    #: and the stacker is used.
    fine_c: float = 0.3
    #: The pipeline's place (municipality, settlement) and best rubricator topic as one-hot
    #: features, and their crossing, at this weight (0: off). None: on (1.0) when the label
    #: field is ``executor`` — who answers depends on the place as much as on the subject.
    context_weight: float | None = None
    inner_folds: int = 3  # inner cross-validation for C and the class offsets (0: off)
    tune_offsets: bool = True
    offset_range: float = 1.0  # offsets are searched in [-range, range]


class TextClassifier:
    """A trained text classifier: features + linear SVM + calibrated softmax."""

    def __init__(self, options: TrainOptions | None = None) -> None:
        self.options = options or TrainOptions()
        self.classes: list[str] = []
        self.temperature = 1.0
        self.version = ""
        self.label_field = ""
        self._char: TfidfVectorizer | None = None
        self._word: TfidfVectorizer | None = None
        self._svm: LinearSVC | None = None
        self.lexicon_codes: list[str] = []
        self.c_used = 0.0
        self.class_weight_used: str | None = self.options.class_weight
        self.offsets: Any = None  # per-class additive offsets on the SVM scores
        self._stacker: Any = None  # optional second stage (TrainOptions.stacker)
        self._context: ContextBlock | None = None  # TrainOptions.context_weight
        self.region_hint: str | None = None  # the region most training texts name
        self._fine: FineScores | None = None  # SVM on a finer label (fine_labels.py)
        self.fine_field: str | None = None  # the field it was learnt from (for model.json)

    # Features -------------------------------------------------------------------------
    def _features(self, prepared: Sequence[Prepared], fit: bool) -> Any:
        clean = [p.clean for p in prepared]
        if fit:
            lemma_text = [" ".join(p.lemmas) for p in prepared]
            o = self.options
            self._char = TfidfVectorizer(analyzer="char_wb", ngram_range=o.char_ngrams,
                                         sublinear_tf=True, min_df=2, dtype=np.float32)
            self._word = TfidfVectorizer(ngram_range=o.word_ngrams, sublinear_tf=True,
                                         token_pattern=r"\S+", dtype=np.float32)
            # min_df=2 fails on a tiny corpus with no repeated n-gram; fall back to 1.
            try:
                char = self._char.fit_transform(clean)
            except ValueError:
                self._char.set_params(min_df=1)
                char = self._char.fit_transform(clean)
            word = self._word.fit_transform(lemma_text)
        else:
            assert self._char is not None and self._word is not None
            char = self._char_cache().transform(clean)
            word = lemma_ngram_tfidf(self._word, [p.lemmas for p in prepared],
                                     self._word_index())
        blocks = [char, word]
        weight = self._context_weight()
        if weight > 0:
            rows = [self._context_row(p) for p in prepared]
            if fit:
                self._context = ContextBlock().fit(rows)
            assert self._context is not None
            blocks.append(self._context.transform(rows, weight))
        if self.options.lexicon_weight > 0:
            codes = _lexicon_codes()
            if fit:
                self.lexicon_codes = codes
            lex = np.vstack([p.lexicon for p in prepared])
            if codes != self.lexicon_codes:
                # The rubricator was edited after training: keep the columns the model knows.
                where = {c: i for i, c in enumerate(codes)}
                lex = np.column_stack([
                    lex[:, where[c]] if c in where else np.zeros(len(prepared))
                    for c in self.lexicon_codes
                ])
            blocks.append(csr_matrix(lex * self.options.lexicon_weight))
        return hstack(blocks, format="csr")

    def _context_weight(self) -> float:
        return float(getattr(self.options, "context_weight", None) or 0.0)

    def _context_row(self, p: Prepared) -> list[str]:
        """The context tokens of a prepared text (its place is found once per region hint)."""
        hint = getattr(self, "region_hint", None)
        place = p.places.get(hint)
        if place is None:
            place = p.places[hint] = place_of(p.raw or p.clean, hint)
        topic = None
        if p.lexicon is not None:
            n_topics = len(lexicon_index().taxonomy.topic_codes)
            scores = np.asarray(p.lexicon[:n_topics])
            if scores.size and float(scores.max()) > 0:
                topic = lexicon_index().taxonomy.topic_codes[int(scores.argmax())]
        return context_tokens(place, topic)

    def _dominant_region(self, prepared: Sequence[Prepared]) -> str | None:
        """The region most of the texts that name one name, if at least one text in twenty
        names it (the hint for ambiguous places: appeals rarely name their region)."""
        counts: Counter[str] = Counter()
        for p in prepared:
            place = p.places.get(None)
            if place is None:
                place = p.places[None] = place_of(p.raw or p.clean, None)
            if place[0]:
                counts[place[0]] += 1
        if not counts:
            return None
        region, n = counts.most_common(1)[0]
        return region if n > sum(counts.values()) / 2 and n >= len(prepared) / 20 else None

    def _char_cache(self) -> CharWordCache:
        """Per-word n-gram columns of the fitted character vectorizer (see features.py)."""
        cache: CharWordCache | None = getattr(self, "_char_words", None)
        if cache is None or cache.vectorizer is not self._char:
            assert self._char is not None
            cache = self._char_words = CharWordCache(self._char)
        return cache

    def _word_index(self) -> LemmaNgramIndex | None:
        """Integer ids of the word vectorizer's lemma n-grams (1-2-grams only)."""
        assert self._word is not None
        if self._word.ngram_range not in ((1, 1), (1, 2)):
            return None
        index: LemmaNgramIndex | None = getattr(self, "_word_ids", None)
        if index is None or index.vocabulary is not self._word.vocabulary_:
            index = self._word_ids = LemmaNgramIndex(self._word)
        return index

    # Fit / predict ----------------------------------------------------------------------
    def fit_prepared(
        self, prepared: Sequence[Prepared], labels: Sequence[str],
        fine_labels: Sequence[str | None] | None = None,
    ) -> TextClassifier:
        """Fit on already prepared texts (see :func:`prepare_text`).

        ``fine_labels``: a finer label of each text that nests inside its label (or None per
        text); on a set large enough for the stacker, an SVM learns it and the stacker sees
        its best score per class (:mod:`otklik.nlp.fine_labels`)."""
        y = np.asarray([str(v) for v in labels], dtype=object)
        self.classes = sorted(set(y.tolist()))
        if len(self.classes) < 2:
            raise TrainingDataError("для обучения нужно хотя бы два разных значения метки")
        if self._context_weight() > 0:
            self.region_hint = self._dominant_region(prepared)
        x = self._features(prepared, fit=True)
        self.offsets = None
        self._stacker = None
        self._fine = None
        self.c_used, self.class_weight_used, self.offsets, oof = self._tune(x, y)
        self._svm = fit_svm(x, y, self.c_used, self.class_weight_used)
        self.classes = [str(c) for c in self._svm.classes_]
        if oof is not None and self._stacks(len(y)):
            index = {c: i for i, c in enumerate(self.classes)}
            fine_oof = (self._fit_fine(x, y, fine_labels) if fine_labels is not None
                        else None)
            self._stacker = fit_stacker(self._stack_features(x, oof, fine_oof),
                                        np.array([index[v] for v in y.tolist()]),
                                        self.options.seed)
            self.offsets = None  # the stacker's probabilities replace the offset scores
        return self

    def _stacks(self, n: int) -> bool:
        o = self.options
        return getattr(o, "stacker", None) == "logreg" and n >= o.stacker_min_examples

    def _stack_features(self, x: Any, scores: Any, fine: Any = None) -> Any:
        """The stacker's input: SVM scores (one column per class), the fine SVM's best score
        per class (if one was learnt; ``fine``: its out-of-fold scores at fit time) and the
        lexicon block of x."""
        n_lex = len(self.lexicon_codes) if self.options.lexicon_weight > 0 else 0
        lex = x[:, x.shape[1] - n_lex:].toarray() if n_lex else np.zeros((x.shape[0], 0))
        parts = [np.asarray(scores, dtype=np.float64)]
        fine_model = getattr(self, "_fine", None)  # absent in models saved before it
        if fine is None and fine_model is not None:
            fine = fine_model.scores(self._word_block(x))
        if fine is not None:
            parts.append(np.asarray(fine, dtype=np.float64))
        return np.hstack([*parts, lex])

    def _word_block(self, x: Any) -> Any:
        """The lemma n-gram columns of a feature matrix (the fine SVM's input)."""
        assert self._char is not None and self._word is not None
        start = len(self._char.vocabulary_)
        return x[:, start:start + len(self._word.vocabulary_)]

    def _fit_fine(self, x: Any, y: Any, fine_labels: Sequence[str | None]) -> Any:
        """Fit the fine SVM on the same inner folds as :meth:`_tune` (out-of-fold scores for
        the stacker), then on everything; returns the out-of-fold scores."""
        keys = [fine_key(str(label), fine) for label, fine in zip(y.tolist(), fine_labels,
                                                                  strict=True)]
        words = self._word_block(x)
        oof = np.zeros((len(keys), len(self.classes)))
        fine_y = np.asarray(keys, dtype=object)
        for train_idx, test_idx in getattr(self, "_inner_splits", None) or ():
            if len(set(fine_y[train_idx].tolist())) < 2:
                continue
            part = FineScores(self.options.fine_c).fit(words[train_idx], fine_y[train_idx],
                                                       self.classes)
            oof[test_idx] = part.scores(words[test_idx])
        self._fine = FineScores(self.options.fine_c).fit(words, keys, self.classes)
        return oof

    def _tune(self, x: Any, y: Any) -> tuple[float, str | None, Any, Any]:
        """Pick C, the class weighting and the per-class offsets by an inner cross-validation
        of the training set.

        The vectorizers were fitted on the whole training set (labels are not used there),
        so only the SVM is refitted per inner fold: cheap, and nothing outside ``x`` is seen.
        Also returns the winner's out-of-fold scores (for the stacker; None if not searched).
        """
        o = self.options
        grid: list[tuple[float, str | None]] = (
            [(o.c, o.class_weight)] if o.c is not None
            else [(c, o.class_weight) for c in o.c_grid] or [(0.5, o.class_weight)])
        if o.c is None and o.class_weight is not None:
            grid += [(c, None) for c in getattr(o, "unweighted_c_grid", ())]
        counts = Counter(y.tolist())
        inner = min(o.inner_folds, sorted(counts.values())[-2])
        if inner < 2 or (len(grid) == 1 and not o.tune_offsets) or len(y) < 10 * inner:
            return float(grid[0][0]), grid[0][1], None, None
        index = {c: i for i, c in enumerate(self.classes)}
        yi = np.array([index[v] for v in y.tolist()])
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # classes rarer than inner folds
            splits = list(StratifiedKFold(inner, shuffle=True, random_state=o.seed + 1)
                          .split(np.zeros(len(y)), y))
        self._inner_splits = splits  # the fine SVM's out-of-fold scores use the same folds
        best: tuple[float, float, str | None, Any, Any] = (-math.inf, float(grid[0][0]),
                                                          grid[0][1], None, None)
        for c, weight in grid:
            oof = np.zeros((len(y), len(self.classes)))
            for train_idx, test_idx in splits:
                if len(set(y[train_idx].tolist())) < 2:
                    continue
                svm = fit_svm(x[train_idx], y[train_idx], c, weight)
                oof[test_idx] = _full_scores(svm.decision_function(x[test_idx]),
                                             list(svm.classes_), index)
            offsets = (tune_offsets(oof, yi, o.offset_range) if o.tune_offsets
                       else np.zeros(len(self.classes)))
            value = macro_weighted_f1(yi, (oof + offsets).argmax(axis=1), len(self.classes))
            if value > best[0] + 1e-9:
                best = (value, float(c), weight, offsets, oof)
        offsets = best[3] if o.tune_offsets else None
        return best[1], best[2], offsets, best[4]

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> TextClassifier:
        """Fit on raw texts."""
        return self.fit_prepared([prepare_text(t) for t in texts], labels)

    def decision_prepared(self, prepared: Sequence[Prepared]) -> Any:
        """SVM scores with class offsets, one column per class (binary: two columns)."""
        assert self._svm is not None, "модель не обучена"
        return self._scores(self._features(prepared, fit=False))

    def _scores(self, x: Any) -> Any:
        """SVM scores of a feature matrix plus the tuned class offsets."""
        assert self._svm is not None, "модель не обучена"
        scores = self._svm.decision_function(x)
        if scores.ndim == 1:
            scores = np.column_stack([-scores, scores])
        stacker = getattr(self, "_stacker", None)  # absent in models saved before stacking
        if stacker is not None:
            proba = stacker.predict_proba(self._stack_features(x, scores))
            return np.log(np.clip(proba, 1e-9, 1.0))
        offsets = getattr(self, "offsets", None)  # absent in models saved before offsets
        return scores if offsets is None else scores + offsets

    def proba_from_scores(self, scores: Any) -> Any:
        """Temperature-scaled softmax of SVM scores."""
        z = np.asarray(scores, dtype=np.float64) / max(self.temperature, 1e-6)
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def predict_proba(
        self,
        texts: Sequence[str],
        tokens: Sequence[Sequence[str]] | None = None,
        lemmas: Sequence[Sequence[str]] | None = None,
    ) -> Any:
        """Class probabilities (columns in ``classes`` order).

        Pass the pipeline's ``tokens``/``lemmas`` (of already normalized texts) to skip
        the second analysis.
        """
        if tokens is not None and lemmas is not None:
            prepared = [prepare_text(t, tk, lm) for t, tk, lm in zip(texts, tokens, lemmas,
                                                                     strict=True)]
        else:
            prepared = [prepare_text(t) for t in texts]
        return self.proba_from_scores(self.decision_prepared(prepared))

    def predict(self, texts: Sequence[str]) -> list[str]:
        """Most likely label per text."""
        proba = self.predict_proba(texts)
        return [self.classes[int(i)] for i in np.argmax(proba, axis=1)]

    def top_features(
        self,
        text: str,
        label: str,
        k: int = 5,
        tokens: Sequence[str] | None = None,
        lemmas: Sequence[str] | None = None,
    ) -> list[str]:
        """The features present in ``text`` that push hardest towards ``label``."""
        if self._svm is None or label not in self.classes:
            return []
        x = self._features([prepare_text(text, tokens, lemmas)], fit=False).tocsr()
        return self._row_features(x, 0, label, k)

    def predict_explained(
        self,
        texts: Sequence[str],
        tokens: Sequence[Sequence[str]],
        lemmas: Sequence[Sequence[str]],
        k: int = 5,
    ) -> tuple[Any, list[list[str]]]:
        """Probabilities and, per text, the top features of its best class, in one pass."""
        prepared = [prepare_text(t, tk, lm) for t, tk, lm in zip(texts, tokens, lemmas,
                                                                 strict=True)]
        assert self._svm is not None, "модель не обучена"
        x = self._features(prepared, fit=False).tocsr()
        proba = self.proba_from_scores(self._scores(x))
        return proba, self._top_features(x, np.argmax(proba, axis=1), k)

    def _top_features(self, x: Any, best: Any, k: int) -> list[list[str]]:
        """Per row of ``x``: the (at most ``k``) features pushing hardest towards the class
        ``best[row]``, strongest first (what :meth:`_row_features` gives, for a batch)."""
        assert self._svm is not None
        n = x.shape[0]
        rows = np.repeat(np.arange(n), np.diff(x.indptr))
        coef = self._svm.coef_
        if len(self.classes) > 2:
            contrib = x.data * coef[best[rows], x.indices]
        else:  # one coefficient row, pointing at classes[1]
            contrib = x.data * coef[0, x.indices] * np.where(best[rows] == 1, 1.0, -1.0)
        positive = contrib > 0
        rows, contrib, cols = rows[positive], contrib[positive], x.indices[positive]
        # One sort for the whole batch: by row, then by contribution, strongest first
        # (contributions are scaled into (0, 1] by their row's maximum).
        if not len(contrib):
            return [[] for _ in range(n)]
        firsts = np.minimum(np.searchsorted(rows, np.arange(n)), len(contrib) - 1)
        row_max = np.maximum.reduceat(contrib, firsts)  # rows without entries: unused
        order = np.argsort(rows - contrib / (row_max[rows] * (1 + 1e-9)))
        rows, cols = rows[order], cols[order]
        keep = np.arange(len(rows)) - np.searchsorted(rows, np.arange(n))[rows] < k
        rows, cols = rows[keep], cols[keep].tolist()
        starts = np.searchsorted(rows, np.arange(n + 1)).tolist()
        names = self._feature_names()
        return [[names[j] for j in cols[starts[i] : starts[i + 1]]] for i in range(n)]

    def _row_features(self, x: Any, i: int, label: str, k: int) -> list[str]:
        assert self._svm is not None
        start, end = x.indptr[i], x.indptr[i + 1]
        indices, data = x.indices[start:end], x.data[start:end]
        row = self.classes.index(label) if len(self.classes) > 2 else 0
        coef = self._svm.coef_[row]
        if len(self.classes) == 2 and label == self.classes[0]:
            coef = -coef
        contrib = data * coef[indices]
        names = self._feature_names()
        out: list[str] = []
        for j in np.argsort(-contrib)[: 4 * k]:
            if contrib[j] <= 0 or len(out) >= k:
                break
            name = names[indices[j]]
            if name not in out:
                out.append(name)
        return out

    def _feature_names(self) -> list[str]:
        cached: list[str] | None = getattr(self, "_names", None)
        if cached is None:
            assert self._char is not None and self._word is not None
            cached = [f"«{n}»" for n in self._char.get_feature_names_out()]
            cached += list(self._word.get_feature_names_out())
            context = getattr(self, "_context", None)
            if self._context_weight() > 0 and context is not None:
                cached += context.names()
            if self.options.lexicon_weight > 0:
                cached += [f"рубрикатор:{c}" for c in self.lexicon_codes]
            self._names = cached
        return cached

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state.pop("_names", None)  # caches, rebuilt on demand
        state.pop("_char_words", None)
        state.pop("_word_ids", None)
        state.pop("_inner_splits", None)  # training only
        return state


# --- evaluation --------------------------------------------------------------------------
@dataclass
class ClassReport:
    """Per-class figures of a cross-validated evaluation."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass
class EvalReport:
    """Cross-validated quality of the recipe on a labelled set."""

    n: int
    folds: int
    accuracy: float
    macro_f1: float
    weighted_f1: float
    per_class: list[ClassReport] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form (stored in model.json)."""
        return asdict(self)


def _fit_temperature(scores: Any, y: Sequence[str], classes: list[str]) -> float:
    """Temperature minimizing the log-loss of softmax(scores / T) on out-of-fold scores."""
    index = {c: i for i, c in enumerate(classes)}
    rows = [(i, index[label]) for i, label in enumerate(y) if label in index]
    if not rows:
        return 1.0
    s = np.asarray(scores, dtype=np.float64)
    idx = np.array([r[0] for r in rows])
    col = np.array([r[1] for r in rows])
    best_t, best_loss = 1.0, math.inf
    for t in np.geomspace(0.05, 5.0, 40):
        z = s[idx] / t
        z = z - z.max(axis=1, keepdims=True)
        logp = z[np.arange(len(idx)), col] - np.log(np.exp(z).sum(axis=1))
        loss = -float(logp.mean())
        if loss < best_loss:
            best_t, best_loss = float(t), loss
    return best_t


def cross_validate(
    prepared: Sequence[Prepared],
    labels: Sequence[str],
    options: TrainOptions | None = None,
    progress: Callable[[int, int], None] | None = None,
    fine_labels: Sequence[str | None] | None = None,
) -> tuple[EvalReport, Any, list[str]]:
    """Stratified k-fold evaluation; returns (report, out-of-fold scores, their classes).

    Classes with fewer examples than folds cannot be stratified: folds are capped by the
    second-smallest class count; a class with a single example is always scored as missed
    (it is in no training fold) and noted in the report.
    """
    options = options or TrainOptions()
    started = time.perf_counter()
    y = np.asarray([str(v) for v in labels], dtype=object)
    counts = Counter(y.tolist())
    classes = sorted(counts)
    notes: list[str] = []
    rare = sorted(c for c, n in counts.items() if n < options.folds)
    if rare:
        notes.append(f"классы, где примеров меньше, чем блоков ({options.folds}): "
                     + ", ".join(f"{c} ({counts[c]})" for c in rare))
    folds = _folds(counts, options.folds, len(y))
    if folds != options.folds:
        notes.append(f"число блоков уменьшено до {folds}: мало примеров")
    pred = np.empty(len(y), dtype=object)
    oof_scores = np.zeros((len(y), len(classes)))
    splits = _splits(y, folds, options.seed)
    for k, (train_idx, test_idx) in enumerate(splits):
        model = TextClassifier(options)
        train_y = y[train_idx]
        if len(set(train_y.tolist())) < 2:
            pred[test_idx] = train_y[0]
        else:
            model.fit_prepared([prepared[i] for i in train_idx], train_y.tolist(),
                               None if fine_labels is None
                               else [fine_labels[i] for i in train_idx])
            scores = model.decision_prepared([prepared[i] for i in test_idx])
            cols = [classes.index(c) for c in model.classes]
            oof_scores[np.ix_(test_idx, cols)] = scores
            oof_scores[np.ix_(test_idx, [i for i in range(len(classes)) if i not in cols])] = -9
            pred[test_idx] = [model.classes[int(j)] for j in np.argmax(scores, axis=1)]
        if progress:
            progress(k + 1, folds)
    report = _report(y, pred, classes, folds, notes, started)
    return report, oof_scores, classes


def _folds(counts: Counter[str], wanted: int, n: int) -> int:
    """Folds a stratified split can have: capped by the second-smallest class count."""
    folds = min(wanted, max(2, sorted(counts.values())[-2] if len(counts) > 1 else 2))
    return min(folds, n)


def _splits(y: Any, folds: int, seed: int) -> list[tuple[Any, Any]]:
    """The stratified folds of an evaluation (the same for the recipe and the baseline)."""
    import warnings

    with warnings.catch_warnings():
        # sklearn warns that a class has fewer members than folds: the report notes that.
        warnings.simplefilter("ignore", UserWarning)
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
        return list(splitter.split(np.zeros(len(y)), y))


def _report(y: Any, pred: Any, classes: list[str], folds: int, notes: list[str],
            started: float) -> EvalReport:
    p, r, f, s = precision_recall_fscore_support(y, pred, labels=classes, zero_division=0)
    per_class = [
        ClassReport(c, float(p[i]), float(r[i]), float(f[i]), int(s[i]))
        for i, c in enumerate(classes)
    ]
    return EvalReport(
        n=len(y),
        folds=folds,
        accuracy=float(accuracy_score(y, pred)),
        macro_f1=float(f1_score(y, pred, average="macro", labels=classes, zero_division=0)),
        weighted_f1=float(f1_score(y, pred, average="weighted", labels=classes,
                                   zero_division=0)),
        per_class=per_class,
        notes=notes,
        seconds=time.perf_counter() - started,
    )


def plain_baseline(n_train: int = 50) -> Any:
    """The plain baseline model (unfitted): TF-IDF of char_wb 2-5-grams + word 1-2-grams of
    the raw text, LinearSVC(C=1)."""
    from sklearn.pipeline import make_pipeline, make_union

    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True,
                           min_df=2 if n_train >= 50 else 1, dtype=np.float32)
    word = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, dtype=np.float32)
    return make_pipeline(make_union(char, word), LinearSVC())


def plain_baseline_cv(
    texts: Sequence[str], labels: Sequence[str], folds: int = 5, seed: int = 42
) -> EvalReport:
    """The plain baseline on the same folds as :func:`cross_validate`: raw text, TF-IDF of
    char_wb 2-5-grams + word 1-2-grams, one LinearSVC(C=1) with no tuning.

    Printed beside the recipe's figures: a trained model that is no better than this on a
    large set wastes the operators' corrections.
    """
    started = time.perf_counter()
    y = np.asarray([str(v) for v in labels], dtype=object)
    classes = sorted(set(y.tolist()))
    folds = _folds(Counter(y.tolist()), folds, len(y))
    pred = np.empty(len(y), dtype=object)
    for train_idx, test_idx in _splits(y, folds, seed):
        if len(set(y[train_idx].tolist())) < 2:
            pred[test_idx] = y[train_idx][0]
            continue
        model = plain_baseline(len(train_idx))
        model.fit([texts[i] for i in train_idx], y[train_idx])
        pred[test_idx] = model.predict([texts[i] for i in test_idx])
    return _report(y, pred, classes, folds, [], started)


@dataclass
class TrainResult:
    """A fitted model and its cross-validated report."""

    model: TextClassifier
    report: EvalReport | None
    baseline: EvalReport | None = None  # the plain baseline on the same folds, if asked


def train(
    pairs: Iterable[tuple[str, str]],
    options: TrainOptions | None = None,
    evaluate: bool = True,
    label_field: str = "label",
    progress: Callable[[int, int], None] | None = None,
    baseline: bool = False,
    fine_labels: Sequence[str | None] | None = None,
    fine_field: str | None = None,
) -> TrainResult:
    """Cross-validate the recipe on ``(text, label)`` pairs, then fit on all of them.

    ``baseline``: also cross-validate :func:`plain_baseline_cv` on the same folds.
    ``fine_labels``: a finer label per pair that nests inside its label (``fine_field`` is
    its name, kept in model.json); see :mod:`otklik.nlp.fine_labels`.
    """
    options = options or TrainOptions()
    if options.context_weight is None:
        options = replace(options, context_weight=1.0 if label_field == "executor" else 0.0)
    texts: list[str] = []
    labels: list[str] = []
    for text, label in pairs:
        texts.append(text)
        labels.append(str(label))
    if len(set(labels)) < 2:
        raise TrainingDataError("для обучения нужно хотя бы два разных значения метки")
    prepared = [prepare_text(t) for t in texts]
    report = None
    model = TextClassifier(options)
    if evaluate and len(texts) >= 4:
        report, oof, classes = cross_validate(prepared, labels, options, progress,
                                              fine_labels)
        model.temperature = _fit_temperature(oof, labels, classes)
    plain = (plain_baseline_cv(texts, labels, options.folds, options.seed)
             if baseline and report is not None else None)
    model.fit_prepared(prepared, labels, fine_labels)
    model.label_field = label_field
    model.fine_field = fine_field if model._fine is not None else None
    digest = hashlib.sha256("\x1f".join(f"{t}\x1e{lab}" for t, lab in zip(texts, labels,
                                                                         strict=True)).encode())
    stamp = datetime.now(UTC).strftime("%Y%m%d%H%M%S")
    model.version = f"{label_field}-{stamp}-{digest.hexdigest()[:8]}"
    return TrainResult(model, report, plain)


# --- persistence -------------------------------------------------------------------------
def save_model(
    model: TextClassifier,
    out_dir: str | Path,
    report: EvalReport | None = None,
    data_sha256: str | None = None,
    extra: dict[str, Any] | None = None,
) -> Path:
    """Write ``model.joblib`` and ``model.json`` (metadata) into ``out_dir``; returns the dir."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    tmp = out / f".{MODEL_FILE}.{uuid.uuid4().hex}"
    joblib.dump(model, tmp, compress=3)
    os.replace(tmp, out / MODEL_FILE)  # atomic: a reader never sees half a model
    meta = {
        "version": model.version,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "label_field": model.label_field,
        "classes": model.classes,
        "metrics": report.to_dict() if report else None,
        "data_sha256": data_sha256,
        "sklearn_version": sklearn.__version__,
        "taxonomy_version": load_taxonomy().version,
        "options": asdict(model.options),
        "temperature": model.temperature,
        "region_hint": getattr(model, "region_hint", None),
        "c": model.c_used,
        "class_weight": getattr(model, "class_weight_used", model.options.class_weight),
        "stacker": (model.options.stacker if getattr(model, "_stacker", None) is not None
                    else None),
        "fine_label_field": getattr(model, "fine_field", None),
        "fine_classes": (len(fine.parent) if (fine := getattr(model, "_fine", None)) is not None
                         else None),
        "class_offsets": (dict(zip(model.classes, map(float, model.offsets), strict=True))
                          if getattr(model, "offsets", None) is not None else None),
    }
    meta.update(extra or {})
    (out / META_FILE).write_text(json.dumps(meta, ensure_ascii=False, indent=2), encoding="utf-8")
    return out


def load_model(model_dir: str | Path) -> TextClassifier:
    """Load a model saved by :func:`save_model`, with a clear error when it is unusable."""
    path = Path(model_dir) / MODEL_FILE
    if not path.exists():
        raise TrainingDataError(f"{model_dir}: нет файла {MODEL_FILE} — это не папка модели")
    meta_path = Path(model_dir) / META_FILE
    if meta_path.exists():
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("sklearn_version") not in (None, sklearn.__version__):
            # Different sklearn versions may unpickle wrongly; say so instead of guessing.
            raise TrainingDataError(
                f"{model_dir}: модель обучена на scikit-learn {meta['sklearn_version']}, "
                f"установлен {sklearn.__version__}; переобучите модель (otklik train)"
            )
    model = joblib.load(path)
    if not isinstance(model, TextClassifier):
        raise TrainingDataError(f"{model_dir}: {MODEL_FILE} не содержит модель Otklik")
    return model
