"""Topic and subtopic: a lexicon classifier, a trained-model wrapper and their combination.

The lexicon classifier needs no training data: every phrase of the rubricator is
lemmatized once and put into one Aho-Corasick automaton over lemma sequences, so a
message is scanned once whatever the size of the lexicon. Scores are turned into a
confidence by a softmax against a "nothing matched" floor: one weak word gives a low
confidence, several strong phrases of one topic give a high one.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from operator import itemgetter
from typing import Any, ClassVar, NamedTuple

import ahocorasick
import numpy as np

from otklik.nlp.base import Doc, Stage, StageResult
from otklik.nlp.morph import analyzer, ensure_prepared, lemmatize, tokenize
from otklik.nlp.taxonomy import OTHER_CODE, Taxonomy, load_taxonomy

# Score of the implicit "none of the topics" competitor in the softmax; a single
# ordinary term (weight ~2) must not give a confident answer on its own.
DEFAULT_FLOOR = 3.0
DEFAULT_TEMPERATURE = 1.6
# Repeating a term adds evidence, but with diminishing returns.
_REPEAT_BONUS = 0.25
_SEASON_BONUS = 1.15
# The share of the other (non-best) subtopics of a topic that counts towards the topic.
_OTHER_SUBTOPICS_SHARE = 0.35


@dataclass
class LexiconMatch:
    """Per-document lexicon evidence: raw scores per code and matched terms per code."""

    scores: dict[str, float]
    terms: dict[str, list[str]]


_UNKNOWN = "\x00"  # "not looked up yet" (no normal form is this string)
_ALTERNATIVES_CACHE = 100_000


@lru_cache(maxsize=100_000)
def _normal_forms(token: str) -> tuple[str, ...]:
    """All normal forms pymorphy proposes for a token (its first guess is sometimes wrong:
    "ямы" → "ям", "люков" → "люковый")."""
    if not token or not ("а" <= token[0] <= "я"):
        return ()
    forms = {p.normal_form.replace("ё", "е") for p in analyzer().parse(token)}
    return tuple(sorted(forms))


# Scans of the documents of the batch being classified, for the trained model's lexicon
# features: the model analyses the same lemma lists again and finds their scans here instead
# of re-running them. Keyed by the identity of the lemma list and checked against it, set
# only for the duration of one batch: nothing is kept from one batch to the next.
_BATCH_SCANS: ContextVar[dict[int, tuple[Any, Any, Taxonomy, dict[Any, int]]] | None] = (
    ContextVar("otklik_topic_batch_scans", default=None)
)


# The trained model's lexicon features of the batch being classified, computed from the
# lexicon stage's own match (same life and keying rules as _BATCH_SCANS).
_BATCH_VECTORS: ContextVar[dict[int, tuple[Any, Taxonomy, np.ndarray]] | None] = (
    ContextVar("otklik_topic_batch_vectors", default=None)
)


@contextmanager
def _shared_vectors(vectors: dict[int, tuple[Any, Taxonomy, np.ndarray]]) -> Iterator[None]:
    token = _BATCH_VECTORS.set(vectors)
    try:
        yield
    finally:
        _BATCH_VECTORS.reset(token)


@contextmanager
def _shared_scans(
    scans: dict[int, tuple[Any, Any, Taxonomy, dict[Any, int]]],
) -> Iterator[None]:
    token = _BATCH_SCANS.set(scans)
    try:
        yield
    finally:
        _BATCH_SCANS.reset(token)


class _Analysis(NamedTuple):
    """A lexicon answer and what it was computed from, for the blend with a model."""

    result: StageResult
    plain: dict[str, float]  # the topic distribution without the seasonal bonus
    counts: dict[tuple[str, float, str], int]  # the lexicon scan
    plain_match: LexiconMatch  # node scores without the seasonal bonus
    plain_scores: dict[str, float]  # their topic scores


def _subject(taxonomy: Taxonomy, code: str, confidence: float) -> dict[str, Any]:
    return {"code": code, "name": taxonomy.name(code), "confidence": round(confidence, 4)}


class LexiconIndex:
    """An Aho-Corasick automaton over the lemmatized phrases of a taxonomy."""

    def __init__(self, taxonomy: Taxonomy) -> None:
        self.taxonomy = taxonomy
        self._automaton = ahocorasick.Automaton()
        entries: dict[str, list[tuple[str, float, str]]] = {}
        for node in taxonomy:
            # Spellings of one phrase («не чистят», «не чистит»; «ёлка», «елка») are one
            # entry of their node, at the larger weight: each would otherwise score the same
            # words again (one «не чистит» outweighed a «контейнерная площадка»).
            own: dict[str, tuple[str, float, str]] = {}
            for phrase, weight in node.lexicon.items():
                key = " ".join(lemmatize(tokenize(phrase)))
                if key and (key not in own or weight > own[key][1]):
                    own[key] = (node.code, weight, phrase)
            for key, target in own.items():
                entries.setdefault(key, []).append(target)
        for key, targets in entries.items():
            # Spaces on both sides make the automaton match whole lemmas only.
            self._automaton.add_word(f" {key} ", tuple(targets))
        self._automaton.make_automaton()
        self.size = len(entries)
        self._vocab = frozenset(w for key in entries for w in key.split())
        # Word form -> its first normal form the lexicon knows (None: none), see canonical.
        self._alternatives: dict[str, str | None] = {}
        # Layout of the taxonomy, precomputed so that scoring touches matched codes only.
        topic_codes = taxonomy.topic_codes
        self._topic_order = {code: i for i, code in enumerate(topic_codes)}
        self._parent = {node.code: node.code.split(".", 1)[0] for node in taxonomy}
        self._n_subtopics = {t.code: len(t.subtopics) for t in taxonomy.topics}
        n_topics = len(topic_codes)
        self._column = {code: i for i, code in enumerate(topic_codes)}
        self._column.update(
            {code: n_topics + j for j, code in enumerate(taxonomy.subtopic_codes)}
        )
        self._width = n_topics + len(taxonomy.subtopic_codes)

    def canonical(self, tokens: Sequence[str], lemmas: Sequence[str]) -> list[str]:
        """Lemmas with wrong first guesses replaced by a normal form the lexicon knows."""
        if len(tokens) != len(lemmas):
            return list(lemmas)
        vocab = self._vocab
        alternatives = self._alternatives
        out = list(lemmas)
        for i, lem in enumerate(lemmas):
            if lem not in vocab:
                token = tokens[i]
                alt = alternatives.get(token, _UNKNOWN)
                if alt is _UNKNOWN:
                    # Per word form, never per text (like the lemma cache); bounded.
                    if len(alternatives) >= _ALTERNATIVES_CACHE:
                        alternatives.clear()
                    alt = alternatives[token] = next(
                        (a for a in _normal_forms(token) if a in vocab), None)
                if alt is not None:
                    out[i] = alt
        return out

    def scan(
        self, lemmas: Sequence[str], tokens: Sequence[str] | None = None
    ) -> dict[tuple[str, float, str], int]:
        """How often each lexicon entry (code, weight, phrase) occurs: one automaton pass."""
        if not lemmas:
            return {}
        shared = _BATCH_SCANS.get()
        if shared is not None:
            hit = shared.get(id(lemmas))
            if hit is not None and hit[0] is lemmas and hit[1] is tokens and (
                hit[2] is self.taxonomy
            ):
                return hit[3]
        if tokens is not None:
            lemmas = self.canonical(tokens, lemmas)
        hay = " " + " ".join(lemmas) + " "
        counts: dict[tuple[str, float, str], int] = {}
        for _end, targets in self._automaton.iter(hay):
            for target in targets:
                counts[target] = counts.get(target, 0) + 1
        return counts

    def score(
        self, counts: dict[tuple[str, float, str], int], month: int | None = None
    ) -> LexiconMatch:
        """Turn the entry counts of :meth:`scan` into per-code scores and matched terms."""
        scores: dict[str, float] = {}
        terms: dict[str, list[str]] = {}
        taxonomy = self.taxonomy
        for (code, weight, phrase), n in counts.items():
            score = weight * (1.0 + _REPEAT_BONUS * math.log(n))
            if month is not None and taxonomy[code].in_season(month):
                score *= _SEASON_BONUS
            scores[code] = scores.get(code, 0.0) + score
            terms.setdefault(code, []).append(phrase)
        return LexiconMatch(scores, terms)

    def match(
        self,
        lemmas: Sequence[str],
        month: int | None = None,
        tokens: Sequence[str] | None = None,
    ) -> LexiconMatch:
        """Score every taxonomy node on a lemma sequence (tokens help fix lemma guesses)."""
        return self.score(self.scan(lemmas, tokens), month)

    def topic_scores(self, match: LexiconMatch) -> dict[str, float]:
        """Aggregate node scores into topic scores (own terms + best subtopic + a share).

        Topics come out in taxonomy order (ties are broken by that order downstream).
        """
        if not match.scores:
            return {}
        parent = self._parent
        own: dict[str, float] = {}
        subs: dict[str, list[float]] = {}
        for code, score in match.scores.items():
            topic = parent.get(code) or code.split(".", 1)[0]
            if topic == code:
                own[topic] = score
            else:
                subs.setdefault(topic, []).append(score)
        out: dict[str, float] = {}
        order = self._topic_order
        for topic in sorted(own.keys() | subs.keys(), key=lambda c: order.get(c, len(order))):
            values = subs.get(topic, [])
            if len(values) < self._n_subtopics.get(topic, 0):
                values.append(0.0)  # an unmatched subtopic scores 0 and competes for "best"
            values.sort(reverse=True)
            best = values[0] if values else 0.0
            total = own.get(topic, 0.0) + best + _OTHER_SUBTOPICS_SHARE * sum(values[1:])
            if total > 0:
                out[topic] = total
        return out

    def feature_vector(
        self, lemmas: Sequence[str], tokens: Sequence[str] | None = None
    ) -> np.ndarray:
        """Dense features for a trained model: log-scaled topic and subtopic scores."""
        shared = _BATCH_VECTORS.get()
        if shared is not None:
            hit = shared.get(id(lemmas))
            if hit is not None and hit[0] is lemmas and hit[1] is self.taxonomy:
                return hit[2]
        match = self.match(lemmas, tokens=tokens)
        return self.vector(match, self.topic_scores(match))

    def vector(self, match: LexiconMatch, topic_scores: dict[str, float]) -> np.ndarray:
        """:meth:`feature_vector` from a match (without the seasonal bonus) and its
        :meth:`topic_scores`."""
        vec = np.zeros(self._width, dtype=np.float64)
        column = self._column
        for code, score in topic_scores.items():
            vec[column[code]] = math.log1p(score)
        for code, score in match.scores.items():
            j = column.get(code)
            if j is not None and "." in code:
                vec[j] = math.log1p(score)
        return vec


def _month_of(doc: Doc) -> int | None:
    month = doc.meta.get("month")
    if isinstance(month, int) and 1 <= month <= 12:
        return month
    created = doc.meta.get("created_at") or doc.meta.get("published_at")
    if isinstance(created, str) and len(created) >= 7 and created[5:7].isdigit():
        value = int(created[5:7])
        return value if 1 <= value <= 12 else None
    return None


class LexiconTopicStage(Stage):
    """Topic and subtopic from the rubricator's lexicons; works with no training data."""

    name: ClassVar[str] = "topic"

    def __init__(
        self,
        taxonomy: Taxonomy | None = None,
        floor: float = DEFAULT_FLOOR,
        temperature: float = DEFAULT_TEMPERATURE,
    ) -> None:
        self.taxonomy = taxonomy or load_taxonomy()
        self.index = LexiconIndex(self.taxonomy)
        self.floor = floor
        self.temperature = temperature

    def distribution(
        self, lemmas: Sequence[str], month: int | None = None, tokens: Sequence[str] | None = None
    ) -> dict[str, float]:
        """Probabilities per topic code (they sum to < 1: the rest is "no evidence")."""
        match = self.index.match(lemmas, month, tokens)
        return self._distribution(self.index.topic_scores(match))

    def _distribution(self, topic_scores: dict[str, float]) -> dict[str, float]:
        if not topic_scores:
            return {}
        t = self.temperature
        top = max(max(topic_scores.values()), self.floor)
        exps = {c: math.exp((s - top) / t) for c, s in topic_scores.items()}
        denom = sum(exps.values()) + math.exp((self.floor - top) / t)
        return {c: e / denom for c, e in exps.items()}

    def classify(self, doc: Doc) -> StageResult:
        """Classify one document."""
        return self._classify(doc)[0]

    def _classify(self, doc: Doc) -> _Analysis:
        """The result with what it was computed from (for the blend and the model)."""
        tokens, lemmas = ensure_prepared(doc)
        counts = self.index.scan(lemmas, tokens)
        month = _month_of(doc)
        match = self.index.score(counts, month)
        topic_scores = self.index.topic_scores(match)
        probs = self._distribution(topic_scores)
        if month is None:
            plain, plain_match, plain_scores = probs, match, topic_scores
        else:
            plain_match = self.index.score(counts)
            plain_scores = self.index.topic_scores(plain_match)
            plain = self._distribution(plain_scores)
        if not probs:
            return _Analysis(StageResult(
                value={"topic": _subject(self.taxonomy, OTHER_CODE, 0.0), "subtopic": None},
                confidence=0.0,
                explain={"source": "lexicon", "matched": {}},
            ), plain, counts, plain_match, plain_scores)
        best = max(probs, key=probs.__getitem__)
        confidence = probs[best]
        topic = self.taxonomy.topic(best)
        sub_scores = {
            s.code: match.scores[s.code] for s in topic.subtopics if s.code in match.scores
        }
        subtopic = None
        if sub_scores:
            sub_probs = self._distribution(sub_scores)
            sub_best = max(sub_probs, key=lambda c: sub_probs[c])
            subtopic = _subject(self.taxonomy, sub_best, confidence * sub_probs[sub_best])
        matched = sorted({t for code, ts in match.terms.items() if code.split(".")[0] == best
                          for t in ts})
        ranked = sorted(topic_scores.items(), key=itemgetter(1), reverse=True)[:3]
        return _Analysis(StageResult(
            value={"topic": _subject(self.taxonomy, best, confidence), "subtopic": subtopic},
            confidence=round(confidence, 4),
            explain={
                "source": "lexicon",
                "matched": {best: matched},
                "scores": {c: round(s, 2) for c, s in ranked},
            },
        ), plain, counts, plain_match, plain_scores)

    def process(self, docs: Sequence[Doc]) -> list[StageResult]:
        """Classify a batch."""
        return [self._classify(doc).result for doc in docs]


class ModelTopicStage(Stage):
    """A trained classifier's answer: label, probability and the features that drove it."""

    name: ClassVar[str] = "label"

    def __init__(self, model: Any, taxonomy: Taxonomy | None = None, top_features: int = 5):
        self.model = model
        self.taxonomy = taxonomy or load_taxonomy()
        self.top_features = top_features

    @property
    def predicts_topics(self) -> bool:
        """True when the model's classes are rubricator codes (it can vote on the topic)."""
        classes = list(self.model.classes)
        return bool(classes) and sum(c in self.taxonomy for c in classes) >= 0.8 * len(classes)

    def _topic_layout(self, classes: list[str]) -> tuple[list[str], np.ndarray]:
        """Rubricator topics of the model's classes, in first-seen order, and the 0/1 matrix
        that sums class probabilities into them (classes outside the rubricator: none)."""
        key = (tuple(classes), id(self.taxonomy))
        cached = getattr(self, "_layout", None)
        if cached is None or cached[0] != key:
            codes: list[str] = []
            for label in classes:
                if label in self.taxonomy and label.split(".", 1)[0] not in codes:
                    codes.append(label.split(".", 1)[0])
            layout = np.zeros((len(classes), len(codes)))
            for i, label in enumerate(classes):
                if label in self.taxonomy:
                    layout[i, codes.index(label.split(".", 1)[0])] = 1.0
            cached = self._layout = (key, codes, layout)
        return cached[1], cached[2]

    def process(self, docs: Sequence[Doc]) -> list[StageResult]:
        """Predict a batch; ``value["topics"]`` sums the class probabilities per topic."""
        if not docs:
            return []
        texts = [doc.clean or doc.text or "" for doc in docs]
        analysed = [ensure_prepared(doc) for doc in docs]
        tokens = [a[0] for a in analysed]
        lemmas = [a[1] for a in analysed]
        proba, top = self.model.predict_explained(texts, tokens, lemmas, self.top_features)
        classes = list(self.model.classes)
        codes, layout = self._topic_layout(classes)
        topic_proba = (proba @ layout).tolist()
        best = np.argmax(proba, axis=1).tolist()
        out: list[StageResult] = []
        for i, row in enumerate(proba.tolist()):  # plain floats: cheaper than numpy rows
            k = best[i]
            label = classes[k]
            empty = not lemmas[i]
            confidence = 0.0 if empty else row[k]
            features = [] if empty else top[i]
            out.append(
                StageResult(
                    value={"value": label, "confidence": round(confidence, 4),
                           "topics": dict(zip(codes, topic_proba[i], strict=True))},
                    confidence=round(confidence, 4),
                    explain={"source": "model", "model": self.model.version,
                             "top_features": features},
                )
            )
        return out


class CombinedTopicStage(Stage):
    """Lexicon and model together: the model wins when confident, otherwise a blend.

    When the model's classes are not rubricator codes (it predicts an executor, say),
    the topic stays the lexicon's and the model's answer is only reported as ``label``.
    """

    name: ClassVar[str] = "topic"

    def __init__(
        self,
        lexicon: LexiconTopicStage,
        model: ModelTopicStage | None = None,
        model_weight: float = 0.6,
        confident: float = 0.7,
    ) -> None:
        self.lexicon = lexicon
        self.model = model
        self.model_weight = model_weight
        self.confident = confident
        self.last_labels: list[StageResult] = []

    def process(self, docs: Sequence[Doc]) -> list[StageResult]:
        """Classify a batch; the model's own answers are kept in ``last_labels``."""
        # One lexicon scan per document serves both the lexicon answer and the blend.
        analysed = [self.lexicon._classify(doc) for doc in docs]
        lex = [a.result for a in analysed]
        if self.model is None:
            self.last_labels = []
            return lex
        # The model's lexicon features come from the same scans: lend them for this batch.
        index = self.lexicon.index
        taxonomy = index.taxonomy
        scans = {}
        vectors = {}
        for doc, a in zip(docs, analysed, strict=True):
            if doc.lemmas and len(doc.tokens) == len(doc.lemmas):
                scans[id(doc.lemmas)] = (doc.lemmas, doc.tokens, taxonomy, a.counts)
                vectors[id(doc.lemmas)] = (doc.lemmas, taxonomy,
                                           index.vector(a.plain_match, a.plain_scores))
        with _shared_scans(scans), _shared_vectors(vectors):
            labels = self.model.process(docs)
        self.last_labels = labels
        if not self.model.predicts_topics:
            return lex
        return [self._combine(a.result, a.plain, mr)
                for a, mr in zip(analysed, labels, strict=True)]

    def _combine(
        self, lex: StageResult, lex_probs: dict[str, float], model: StageResult
    ) -> StageResult:
        taxonomy = self.lexicon.taxonomy
        model_probs: dict[str, float] = model.value["topics"]
        w = self.model_weight
        if model.confidence >= self.confident:
            w = max(w, 0.85)
        # A fixed order (lexicon topics in taxonomy order, then the model's) makes ties
        # resolve the same way on every run; a set's order changes with the hash seed.
        codes = list(lex_probs) + [c for c in model_probs if c not in lex_probs]
        blend = {c: w * model_probs.get(c, 0.0) + (1 - w) * lex_probs.get(c, 0.0) for c in codes}
        if not blend or max(blend.values()) <= 0:
            return lex
        best = max(blend, key=lambda c: blend[c])
        confidence = blend[best]
        subtopic = lex.value.get("subtopic")
        model_label = model.value["value"]
        if "." in model_label and model_label.startswith(best + "."):
            subtopic = _subject(taxonomy, model_label, confidence * model.confidence)
        elif subtopic is not None and not subtopic["code"].startswith(best + "."):
            subtopic = None
        explain = {
            "source": "combined",
            "matched": lex.explain.get("matched", {}),
            "top_features": model.explain.get("top_features", []),
            "lexicon": lex.value["topic"]["code"],
            "model": model_label,
        }
        return StageResult(
            value={"topic": _subject(taxonomy, best, confidence), "subtopic": subtopic},
            confidence=round(confidence, 4),
            explain=explain,
        )
