"""Sentiment: negative / neutral / positive from a Russian polarity lexicon, or a model.

Out of the box the stage scores lemmas against ``lexicons/sentiment_ru.txt`` (phrases such
as "не работает", "огромное спасибо"), flips or softens scores after a negation ("не плохо"),
boosts them after intensifiers ("очень", "совсем"), and adds emoji and punctuation signals
(😡, "(((", ")))", "!!!") taken from the raw text, because normalization removes them.

With ``SentimentStage(model=...)`` any sklearn-like pipeline with ``predict_proba`` and
``classes_`` (trained on clean texts) decides, blended with the lexicon by ``lexicon_weight``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from otklik.nlp.base import Doc, Stage, StageResult
from otklik.nlp.morph import (
    LEXICON_DIR,
    PhraseMatcher,
    ensure_prepared,
    lemmatize,
    load_weighted_lexicon,
    tokenize,
)
from otklik.nlp.normalize import normalize_text

LABELS: tuple[str, str, str] = ("negative", "neutral", "positive")

_CONTRAST = frozenset({"но", "однако", "зато"})
_NEGATIONS = frozenset({"не", "ни", "нисколько", "отнюдь"})
_INTENSIFIERS: dict[str, float] = {
    "очень": 1.5, "крайне": 1.6, "совсем": 1.4, "совершенно": 1.5, "абсолютно": 1.5,
    "вообще": 1.3, "просто": 1.2, "слишком": 1.4, "сильно": 1.4, "невероятно": 1.6,
    "жутко": 1.5, "максимально": 1.4, "полностью": 1.3, "реально": 1.3, "дико": 1.5,
    "безумно": 1.5, "огромный": 1.4, "большой": 1.2, "самый": 1.3, "весьма": 1.2,
    "чрезвычайно": 1.6, "настолько": 1.3, "так": 1.2, "такой": 1.2, "особенно": 1.2,
}

_POS_EMOJI = frozenset(
    "😀😃😄😁😆😊☺🙂😉😍🥰😘😻👍👏🙏❤💖💕💗💓💞💝💛💚💙💜🧡🎉🎊💐🌹🌷🌸✨💪😇🤗🥳👌🤩😋😂🤣"
)
_NEG_EMOJI = frozenset("😡😠🤬😤😢😭😞😔😟😕🙁☹😣😖😫😩👎💩😱😨😰🤮🤢😒🙄💔😿😾🤦")
_POS_EMOJI_RE = re.compile("[" + "".join(sorted(_POS_EMOJI)) + "]")
_NEG_EMOJI_RE = re.compile("[" + "".join(sorted(_NEG_EMOJI)) + "]")
_SMILE_RE = re.compile(r"(?<![\w(])\){2,}|[:;=]-?\)+|[:;=]-?D\b|\bxD\b")
_FROWN_RE = re.compile(r"(?<!\))\({2,}|[:;=]-?\(+|[:;=]'\(")
_EXCLAIM_RE = re.compile(r"!{2,}")
# "\b[А-ЯЁ]{4,}\b", written to begin with a character class: the scan then skips the
# positions that cannot start a match instead of trying each (the same matches).
_CAPS_WORD_RE = re.compile(r"[А-ЯЁ](?<!\w[А-ЯЁ])[А-ЯЁ]{3,}\b")
_LONE_SMILE_RE = re.compile(r"[^\W\d]\s*\)(?:\s|$)")
# No emoji of either list is below this code point: a text whose largest character is
# smaller has none, and the two emoji scans are skipped.
_MIN_EMOJI = min(_POS_EMOJI | _NEG_EMOJI)
_FROM_MIN_EMOJI_RE = re.compile(f"[{_MIN_EMOJI}-\U0010ffff]")  # faster than max(text)


@dataclass
class LexiconScore:
    """What the lexicon found in one text."""

    positive: float = 0.0
    negative: float = 0.0
    matches: list[tuple[str, float]] = field(default_factory=list)
    signals: dict[str, int] = field(default_factory=dict)

    @property
    def net(self) -> float:
        """Positive minus negative evidence."""
        return self.positive - self.negative


class SentimentLexicon:
    """A weighted phrase lexicon with negation, intensifiers and emoji/emoticon signals."""

    def __init__(self, path: str | Path | None = None, neutral_margin: float = 0.9) -> None:
        self.path = Path(path) if path else LEXICON_DIR / "sentiment_ru.txt"
        self.terms = load_weighted_lexicon(self.path)
        self.matcher = PhraseMatcher(self.terms)
        self.neutral_margin = neutral_margin

    def score(self, raw_text: str, lemmas: Sequence[str]) -> LexiconScore:
        """Score lemmas (of the clean text) plus emoji/punctuation of the raw text."""
        res = LexiconScore()
        # "Спасибо, но ..." - what follows the last contrast word is what the author means.
        contrast = max((i for i, lm in enumerate(lemmas) if lm in _CONTRAST), default=-1)
        for start, _end, weight, phrase in self.matcher.find(lemmas):
            if weight == 0.0:
                continue
            w = weight
            if w < 0 and lemmas[max(start - 2, 0) : start] == ["так", "и"]:
                w *= 1.5  # "так и не починили": the disappointment of a broken promise
            prev = lemmas[start - 1] if start >= 1 else ""
            prev2 = lemmas[start - 2] if start >= 2 else ""
            if prev in _INTENSIFIERS:
                w *= _INTENSIFIERS[prev]
                prev, prev2 = prev2, lemmas[start - 3] if start >= 3 else ""
            # "не плохо" is mildly positive, "не хорошо" clearly negative.
            if prev in _NEGATIONS or (prev2 in _NEGATIONS and prev in _INTENSIFIERS):
                w = -0.8 * w if w > 0 else -0.4 * w
                phrase = "не " + phrase
            if start < contrast:
                w *= 0.5
            res.matches.append((phrase, round(w, 2)))
            if w > 0:
                res.positive += w
            else:
                res.negative -= w
        if raw_text:
            sample = raw_text[:5000]
            # Cheap pre-checks skip the scans that cannot match (same counts, less work).
            emoji = _FROM_MIN_EMOJI_RE.search(sample) is not None
            pos_e = len(_POS_EMOJI_RE.findall(sample)) if emoji else 0
            neg_e = len(_NEG_EMOJI_RE.findall(sample)) if emoji else 0
            smiles = len(_SMILE_RE.findall(sample)) if ")" in sample or "D" in sample else 0
            frowns = len(_FROWN_RE.findall(sample)) if "(" in sample else 0
            # A lone ")" closing a sentence is the commonest Russian smiley.
            if not smiles and "(" not in sample and ")" in sample and _LONE_SMILE_RE.search(
                sample
            ):
                smiles = 1
            for key, n in (("emoji_pos", pos_e), ("emoji_neg", neg_e),
                           ("smiles", smiles), ("frowns", frowns)):
                if n:
                    res.signals[key] = n
            res.positive += min(pos_e, 3) * 1.0 + min(smiles, 2) * 0.9
            res.negative += min(neg_e, 3) * 1.0 + min(frowns, 2) * 0.9
            exclaims = len(_EXCLAIM_RE.findall(sample)) if "!!" in sample else 0
            caps = len(_CAPS_WORD_RE.findall(sample))
            if exclaims:
                res.signals["exclaims"] = exclaims
            if caps:
                res.signals["caps_words"] = caps
            if exclaims or caps >= 2:
                # Shouting amplifies whatever dominates; it carries no polarity itself.
                boost = 1.25
                if res.negative >= res.positive:
                    res.negative *= boost
                else:
                    res.positive *= boost
        return res

    def proba(self, score: LexiconScore) -> np.ndarray:
        """Pseudo-probabilities over (negative, neutral, positive) from a score."""
        net = score.net
        logits = np.array([max(-net, 0.0), self.neutral_margin, max(net, 0.0)]) * 1.5
        exp = np.exp(logits - logits.max())
        return exp / exp.sum()

    def probas(self, scores: Sequence[LexiconScore]) -> np.ndarray:
        """:meth:`proba` of many scores at once (one row each, the same values)."""
        if not scores:
            return np.zeros((0, 3))
        margin = self.neutral_margin
        logits = np.array([[max(-s.net, 0.0), margin, max(s.net, 0.0)] for s in scores]) * 1.5
        exp = np.exp(logits - logits.max(axis=1, keepdims=True))
        return exp / exp.sum(axis=1, keepdims=True)

    def features(self, raw_text: str, lemmas: Sequence[str]) -> list[float]:
        """Numeric features for a trained model: scores, counts, signals."""
        s = self.score(raw_text, lemmas)
        n_pos = sum(1 for _, w in s.matches if w > 0)
        n_neg = sum(1 for _, w in s.matches if w < 0)
        return [
            s.positive, s.negative, s.net, float(n_pos), float(n_neg),
            float(s.signals.get("emoji_pos", 0)), float(s.signals.get("emoji_neg", 0)),
            float(s.signals.get("smiles", 0)), float(s.signals.get("frowns", 0)),
            float(s.signals.get("exclaims", 0)), math.log1p(len(lemmas)),
        ]


class LexiconFeatures:
    """sklearn transformer: raw texts -> lexicon feature matrix (for FeatureUnion with TF-IDF)."""

    def __init__(self, lexicon_path: str | None = None) -> None:
        self.lexicon_path = lexicon_path
        self._lexicon: SentimentLexicon | None = None

    def _lex(self) -> SentimentLexicon:
        if self._lexicon is None:
            self._lexicon = SentimentLexicon(self.lexicon_path)
        return self._lexicon

    def fit(self, texts: Iterable[str], y: Any = None) -> LexiconFeatures:
        """Nothing to learn."""
        return self

    def transform(self, texts: Iterable[str]) -> np.ndarray:
        """Normalize, lemmatize and score each text."""
        lex = self._lex()
        rows = []
        for text in texts:
            clean, _ = normalize_text(str(text or ""))
            rows.append(lex.features(str(text or ""), lemmatize(tokenize(clean))))
        return np.asarray(rows, dtype=float)

    def fit_transform(self, texts: Iterable[str], y: Any = None) -> np.ndarray:
        """Same as transform."""
        return self.transform(texts)

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """sklearn protocol."""
        return {"lexicon_path": self.lexicon_path}

    def set_params(self, **params: Any) -> LexiconFeatures:
        """sklearn protocol."""
        for key, value in params.items():
            setattr(self, key, value)
        self._lexicon = None
        return self

    def __getstate__(self) -> dict[str, Any]:
        # The lexicon is rebuilt on load: pickles stay small and pick up lexicon fixes.
        return {"lexicon_path": self.lexicon_path, "_lexicon": None}


def _model_proba(model: Any, texts: list[str]) -> np.ndarray:
    """Model probabilities re-ordered to LABELS; unknown classes are ignored."""
    raw = np.asarray(model.predict_proba(texts), dtype=float)
    out = np.zeros((len(texts), 3))
    for j, cls in enumerate(getattr(model, "classes_", LABELS)):
        name = str(cls).lower()
        if name in LABELS:
            out[:, LABELS.index(name)] += raw[:, j]
        elif name == "speech":
            out[:, 1] += raw[:, j]
    sums = out.sum(axis=1, keepdims=True)
    sums[sums == 0] = 1.0
    return out / sums


class SentimentStage(Stage):
    """Negative / neutral / positive with a confidence and the matched cues."""

    name: ClassVar[str] = "sentiment"

    def __init__(
        self,
        model: Any | None = None,
        lexicon: SentimentLexicon | None = None,
        lexicon_weight: float = 0.3,
        model_input: str = "clean",
    ) -> None:
        self.model = model
        self.lexicon = lexicon or SentimentLexicon()
        self.lexicon_weight = lexicon_weight if model is not None else 1.0
        self.model_input = model_input  # "clean" text or space-joined "lemmas"

    def process(self, docs: Sequence[Doc]) -> list[StageResult]:
        """Score every document; one result per doc, never raising."""
        scores: list[LexiconScore] = []
        lemmas_all: list[list[str]] = []
        for doc in docs:
            try:
                _, lemmas = ensure_prepared(doc)
                scores.append(self.lexicon.score(doc.text or "", lemmas))
            except Exception:  # noqa: BLE001 - never break the batch
                lemmas = []
                scores.append(LexiconScore())
            lemmas_all.append(lemmas)
        lex_p = self.lexicon.probas(scores)
        model_p: np.ndarray | None = None
        if self.model is not None and docs:
            texts = [
                " ".join(lm) if self.model_input == "lemmas" else (d.clean or d.text or "")
                for d, lm in zip(docs, lemmas_all, strict=True)
            ]
            try:
                model_p = _model_proba(self.model, texts)
            except Exception:  # noqa: BLE001 - fall back to the lexicon alone
                model_p = None
        if model_p is not None:
            proba = (1 - self.lexicon_weight) * model_p + self.lexicon_weight * lex_p
        else:
            proba = lex_p
        results: list[StageResult] = []
        # Plain lists: indexing a numpy row per message costs more than the arithmetic.
        best = proba.argmax(axis=1).tolist() if len(proba) else []
        rows = proba.tolist()
        for i, (doc, s) in enumerate(zip(docs, scores, strict=True)):
            k = best[i]
            explain: dict[str, Any] = {
                "positive": round(s.positive, 2),
                "negative": round(s.negative, 2),
                "matches": s.matches[:12],
            }
            if s.signals:
                explain["signals"] = s.signals
            if model_p is not None:
                explain["model"] = dict(zip(LABELS, np.round(model_p[i], 3).tolist(), strict=True))
            conf = rows[i][k]
            if not (doc.clean or doc.text or "").strip():
                conf = min(conf, 0.4)
                explain["empty"] = True
            results.append(StageResult(value=LABELS[k], confidence=round(conf, 3), explain=explain))
        return results
