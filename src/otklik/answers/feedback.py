"""Residents' replies to a published answer: reopen ("ничего не сделано") or close ("спасибо,
починили").

:func:`classify_feedback` reads one reply with the lexicon in ``data/feedback_ru.json``:

* claims that nothing changed, distrust ("отписка", "враньё"), anger ("вы издеваетесь") and
  complaints about the quality of the work push towards **negative** (reopen);
* reports of the work done, thanks and praise push towards **positive** (close);
* a question ("а когда именно?") with no complaint is a **question** — the operator answers;
* "ждём", "посмотрим", "понятно" and replies with no signal are **neutral**.

Russian replies are full of "спасибо, конечно, но ...": after a contrast ("но", "однако",
"зато", a mid-sentence "а") the last part weighs most; thanks next to a complaint are taken
as formula or sarcasm; a resolved verb after a negation ("так и не починили") or inside
quotes ("«починили»") counts against the answer. Letter repeats ("спасибооо"), common
misspellings ("спосибо", "нечего не сделали") and one-letter typos are corrected first.

:func:`rating_from_reaction` maps a platform rating (1-5 stars) or reaction (👍, 😡,
"dislike") to the same :class:`Feedback`.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from otklik.nlp.morph import PhraseMatcher, analyzer, lemmatize

DATA_DIR = Path(__file__).with_name("data")

FeedbackValue = Literal["negative", "positive", "neutral", "question"]

_NEGATIVE = ("unresolved", "distrust", "anger", "poor_work")
_POSITIVE = ("resolved", "thanks", "praise")
_NEUTRAL = ("waiting", "ack")
# Weight of the parts before and after the last contrast ("спасибо, но ничего не изменилось").
_BEFORE_CONTRAST = 0.5
_AFTER_CONTRAST = 1.5
# Thanks said next to a complaint are formula or sarcasm.
_THANKS_WITH_COMPLAINT = 0.3
_DECISIVE = 1.0

_TOKEN_RE = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_REPEAT_RE = re.compile(r"([^\W\d_])\1{2,}")
_QUOTED_RE = re.compile(r"[«\"“„']([^«»\"“”„']{1,60})[»\"”']")
_SENTENCE_END_RE = re.compile(r"[.!?…]+")
# "как была яма, так и есть", "как лежал мусор так и лежит".
_AS_WAS_RE = re.compile(
    r"\bкак\s+(?:и\s+)?(?:был|была|было|были|лежал\w*|стоял\w*|висел\w*|текл\w*)\b"
    r"[^.!?]{0,40}?\bтак\s+и\s+(?:есть|осталось|остался|осталась|остались|лежит|лежат|"
    r"стоит|стоят|висит|висят|течет|нет)\b"
)
_SMILE_RE = re.compile(r"(?<![\w(])\){2,}|[:;=]-?\)+|[:;=]-?D\b")
_FROWN_RE = re.compile(r"(?<!\))\({2,}|[:;=]-?\(+")


@dataclass(frozen=True)
class Feedback:
    """What a resident's reply means for the case."""

    value: FeedbackValue
    reopen: bool
    close: bool
    confidence: float
    evidence: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form for the API and the case history."""
        return asdict(self)


@dataclass
class _Token:
    text: str
    start: int
    end: int
    sentence: int


class FeedbackLexicon:
    """The phrase categories, typo map, emoji and the vocabulary used to correct typos."""

    def __init__(self, path: str | Path | None = None) -> None:
        raw = json.loads(Path(path or DATA_DIR / "feedback_ru.json").read_text("utf-8"))
        self.category: dict[str, str] = {}
        phrases: dict[str, float] = {}
        for cat in (*_NEGATIVE, *_POSITIVE, *_NEUTRAL):
            for phrase, weight in raw[cat].items():
                key = " ".join(lemmatize(phrase.lower().replace("ё", "е").split()))
                self.category[key] = cat
                phrases[phrase] = float(weight)
        self.matcher = PhraseMatcher(phrases)
        self.question_words = PhraseMatcher({w: 1.0 for w in raw["question_words"]})
        self.contrast = frozenset(raw["contrast"])
        self.typos: dict[str, str] = {k.replace("ё", "е"): v for k, v in raw["typos"].items()}
        self.emoji_positive = frozenset(raw["emoji_positive"])
        self.emoji_negative = frozenset(raw["emoji_negative"])
        words = {w for phrase in phrases for w in phrase.lower().replace("ё", "е").split()}
        self.vocab = frozenset(w for w in words | set(self.typos.values()) if len(w) >= 5)

    def category_of(self, phrase: str) -> str:
        """The category of a lexicon phrase as returned by the matcher."""
        key = " ".join(lemmatize(phrase.lower().replace("ё", "е").split()))
        return self.category[key]


@lru_cache(maxsize=1)
def default_feedback_lexicon() -> FeedbackLexicon:
    """The shipped lexicon (loaded once)."""
    return FeedbackLexicon()


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein distance (adjacent swaps count 1), stopping early past ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


@lru_cache(maxsize=50_000)
def _correct(word: str, vocab: frozenset[str]) -> str:
    """The lexicon word a misspelt token stands for, or the token itself."""
    if len(word) < 5 or word in vocab or not ("а" <= word[0] <= "я"):
        return word
    if analyzer().word_is_known(word):
        return word
    limit = 1 if len(word) < 8 else 2
    best, best_d = word, limit + 1
    for cand in vocab:
        d = _edit_distance(word, cand, limit)
        if d < best_d:
            best, best_d = cand, d
    return best


def _tokens(text: str, lex: FeedbackLexicon) -> tuple[list[_Token], list[str]]:
    """Tokens with offsets and sentence numbers, and their corrected surface forms."""
    low = _REPEAT_RE.sub(r"\1", text.lower().replace("ё", "е"))
    ends = [m.end() for m in _SENTENCE_END_RE.finditer(low)]
    tokens: list[_Token] = []
    for m in _TOKEN_RE.finditer(low):
        sentence = sum(1 for e in ends if e <= m.start())
        tokens.append(_Token(m.group(), m.start(), m.end(), sentence))
    words = [lex.typos.get(t.text, t.text) for t in tokens]
    for i, w in enumerate(words):
        # "нечего не сделали" is how many write "ничего не сделали".
        if w == "нечего" and i + 1 < len(words) and words[i + 1] == "не":
            words[i] = "ничего"
    return tokens, [_correct(w, lex.vocab) for w in words]


def _segment_weights(tokens: list[_Token], words: list[str], lex: FeedbackLexicon) -> list[float]:
    """Per-token weight: after the last contrast word the reply weighs more than before it."""
    last = -1
    for i, w in enumerate(words):
        if w not in lex.contrast:
            continue
        first_in_sentence = i == 0 or tokens[i - 1].sentence != tokens[i].sentence
        # A sentence-initial "А когда?" asks; only a mid-sentence "а" contrasts.
        if w == "а" and first_in_sentence:
            continue
        last = i
    if last < 0:
        return [1.0] * len(words)
    return [_BEFORE_CONTRAST if i < last else _AFTER_CONTRAST for i in range(len(words))]


_NOT = frozenset({"не", "ни"})
# Words that may stand between "не" and the verb: "не совсем починили", "так и не сделали".
_BETWEEN_NOT = frozenset({"еще", "уже", "совсем", "вообще", "никак", "толком", "полностью"})


def _negated(words: list[str], i: int) -> bool:
    """True when the word at ``i`` is negated: "не починили", "не совсем убрали"."""
    if i >= 1 and words[i - 1] in _NOT:
        return True
    return i >= 2 and words[i - 2] in _NOT and words[i - 1] in _BETWEEN_NOT


def _token_at(tokens: list[_Token], offset: int) -> int:
    """Index of the token at or after a character offset (0 when there is none)."""
    return next((i for i, t in enumerate(tokens) if t.end > offset), 0)


@lru_cache(maxsize=10_000)
def _promised(word: str, lemma: str) -> bool:
    """True for a future, infinitive or imperative verb form ("сделаете", "почините")."""
    for parse in analyzer().parse(word):
        if parse.normal_form.replace("ё", "е") != lemma:
            continue
        tag = str(parse.tag)
        if tag.startswith("VERB") or tag.startswith("INFN"):
            return "futr" in tag or "impr" in tag or tag.startswith("INFN")
        return False
    return False


def _confidence(margin: float) -> float:
    return round(0.5 + 0.49 * (1.0 - math.exp(-margin / 1.5)), 3)


def classify_feedback(text: str, lexicon: FeedbackLexicon | None = None) -> Feedback:
    """Classify a resident's reply to a published answer; ``reopen``/``close`` say what to do."""
    lex = lexicon or default_feedback_lexicon()
    text = text or ""
    tokens, words = _tokens(text, lex)
    lemmas = lemmatize(words)
    weights = _segment_weights(tokens, words, lex)
    quoted = [(m.start(1), m.end(1)) for m in _QUOTED_RE.finditer(text.lower())]

    scores: dict[str, float] = {}
    evidence: list[str] = []

    def add(cat: str, weight: float, label: str) -> None:
        scores[cat] = scores.get(cat, 0.0) + weight
        evidence.append(label)

    for lo, hi, weight, phrase in lex.matcher.find(lemmas):
        cat = lex.category_of(phrase)
        span = " ".join(words[lo:hi])
        w = weight * max(weights[lo:hi])
        if cat in ("resolved", "praise"):
            if cat == "resolved" and _promised(words[lo], lemmas[lo]):
                continue  # "когда сделаете?" asks for the work, it does not report it
            negated = _negated(words, lo)
            in_quotes = any(a <= tokens[lo].start and tokens[hi - 1].end <= b for a, b in quoted)
            if negated:
                neg_at = lo - 1 if words[lo - 1] in _NOT else lo - 2
                add("unresolved", w, " ".join(words[neg_at:hi]))
                continue
            if in_quotes:
                add("distrust", w + 1.0, f"«{span}»")
                continue
        add(cat, w, span)

    low = text.lower().replace("ё", "е")
    for m in _AS_WAS_RE.finditer(low):
        add("unresolved", 2.5 * weights[_token_at(tokens, m.start())], m.group())
    positive_emoji = [c for c in text if c in lex.emoji_positive]
    negative_emoji = [c for c in text if c in lex.emoji_negative]
    for c in positive_emoji[:3]:
        add("praise", 1.0, c)
    for c in negative_emoji[:3]:
        add("anger", 1.0, c)
    if _SMILE_RE.search(text):
        add("praise", 0.5, _SMILE_RE.search(text).group())  # type: ignore[union-attr]
    if _FROWN_RE.search(text):
        add("anger", 0.7, _FROWN_RE.search(text).group())  # type: ignore[union-attr]

    neg = sum(scores.get(c, 0.0) for c in _NEGATIVE)
    if neg >= _DECISIVE and "thanks" in scores:
        scores["thanks"] *= _THANKS_WITH_COMPLAINT
    pos = sum(scores.get(c, 0.0) for c in _POSITIVE)
    neutral = sum(scores.get(c, 0.0) for c in _NEUTRAL)
    question = "?" in text or bool(
        lex.question_words.find(lemmas[:3]) and len(words) <= 12
    )
    if question:
        evidence.append("?")

    value: FeedbackValue
    if neg >= _DECISIVE and neg > pos:
        value, margin = "negative", neg - pos
    elif question:
        value, margin = "question", 1.0 + max(0.0, -neg)
    elif pos >= _DECISIVE and pos > neg and scores.get("waiting", 0.0) < _DECISIVE:
        value, margin = "positive", pos - neg
    elif neg > pos and neg >= 0.5:
        value, margin = "negative", neg - pos
    else:
        value, margin = "neutral", max(neutral, 0.3) if (neutral or not evidence) else 0.1
    confidence = _confidence(margin)
    return Feedback(
        value=value,
        reopen=value == "negative" and confidence >= 0.6,
        close=value == "positive" and confidence >= 0.6,
        confidence=confidence,
        evidence=_unique(evidence),
    )


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


# --- platform ratings and reactions ---------------------------------------------------------

_POSITIVE_REACTIONS = frozenset({
    "like", "thumbs_up", "thumbsup", "+1", "+", "heart", "love", "fire", "clap", "ok",
    "лайк", "класс", "👍", "❤", "❤️", "🔥", "👏", "🙏", "😊", "🥰", "😍", "✅",
})
_NEGATIVE_REACTIONS = frozenset({
    "dislike", "thumbs_down", "thumbsdown", "-1", "-", "angry", "sad", "poop", "clown",
    "дизлайк", "👎", "😡", "😠", "🤬", "😢", "😭", "💩", "🤡", "🤮", "🤦", "❌",
})
_STARS_RE = re.compile(r"^\s*(\d+(?:[.,]\d+)?)\s*(?:/\s*(\d+))?\s*$")


def rating_from_reaction(reaction: str | int | float, *, scale: int = 5) -> Feedback:
    """Map a star rating (1..``scale``, "4/5", "★★★★☆") or a reaction (👍, 😡, "dislike").

    Ratings of 1-2 out of 5 reopen, 4-5 close, 3 is neutral. Unknown reactions ("wow", 😂:
    surprise or mockery, not a verdict) are neutral. A rating outside the scale raises
    ValueError.
    """
    if isinstance(reaction, bool):
        raise ValueError("оценка должна быть числом звёзд или реакцией, а не да/нет")
    stars: float | None = None
    if isinstance(reaction, int | float):
        stars = float(reaction)
    else:
        raw = reaction.strip()
        if raw and set(raw) <= {"★", "☆"}:
            stars, scale = float(raw.count("★")), len(raw)
        else:
            m = _STARS_RE.match(raw)
            if m:  # "+1" and "-1" are reactions, not star counts: the pattern has no sign
                stars = float(m.group(1).replace(",", "."))
                scale = int(m.group(2)) if m.group(2) else scale
    if stars is not None:
        if scale < 2 or not 0 < stars <= scale:
            raise ValueError(f"оценка {reaction!r} вне шкалы 1..{scale}")
        five = 1 + (stars - 1) * 4 / (scale - 1)
        evidence = [f"{stars:g}/{scale}"]
        if five <= 2.5:
            conf = 0.95 if five <= 1.5 else 0.75
            return Feedback("negative", True, False, conf, evidence)
        if five >= 3.5:
            conf = 0.95 if five >= 4.5 else 0.75
            return Feedback("positive", False, True, conf, evidence)
        return Feedback("neutral", False, False, 0.5, evidence)
    key = str(reaction).strip().lower()
    raw = str(reaction).strip()
    if key in _POSITIVE_REACTIONS:
        return Feedback("positive", False, True, 0.7, [raw])
    if key in _NEGATIVE_REACTIONS:
        return Feedback("negative", True, False, 0.7, [raw])
    return Feedback("neutral", False, False, 0.0, [raw] if raw else [])
