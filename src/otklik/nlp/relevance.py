"""Relevance (is this addressed to the authorities?) and kind (complaint, question, ...).

Both stages are weighted lexicons over lemmas (``lexicons/relevance_ru.json``) plus a few
surface patterns (links, prices, hashtags, question marks). Every matched cue is listed in
``explain`` so an operator can see why a message was dropped as an ad or kept as an appeal.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

from otklik.nlp.base import Doc, Stage, StageResult
from otklik.nlp.language import detect_language
from otklik.nlp.morph import (
    LEXICON_DIR,
    PhraseMatcher,
    PhraseMatcherGroup,
    analyzer,
    ensure_prepared,
)

CATEGORIES: tuple[str, ...] = ("appeal", "ad", "spam", "greeting", "chatter")
KINDS: tuple[str, ...] = ("complaint", "question", "proposal", "gratitude")

_LINK_RE = re.compile(
    r"https?://|www\.|\b(?:t\.me|vk\.cc|bit\.ly|clck\.ru|wa\.me|goo\.gl|tinyurl\.com)/", re.I
)
_PRICE_RE = re.compile(r"\d[\d\s]*(?:[.,]\d+)?\s*(?:руб\w*|р\.|₽|\$|тыс\.?\s*руб)", re.I)
# "(?:\+7|\b8)...": the "\b" is checked after the "8" ("8(?<!\w8)", the same test), so
# that the pattern begins with two literals and the scan skips the other positions fast.
_PHONE_RE = re.compile(
    r"(?:\+7|8(?<!\w8))[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}\b"
)
_HASHTAG_RE = re.compile(r"#\w+")


#: What one request or one stated defect found by grammar adds to its category's score.
IMPERATIVE_WEIGHT = 2.0
NEGATED_STATE_WEIGHT = 1.5
#: Verbs whose negation states an opinion, not a defect ("не знаю", "не стоит").
_OPINION_VERBS = frozenset({"знать", "понимать", "понять", "думать", "хотеть", "любить",
                            "верить", "помнить", "считать", "бояться", "видеть", "спать",
                            "стоить", "мочь", "смочь", "стать", "быть", "надо", "нужно"})


@lru_cache(maxsize=50_000)
def _polite_imperative(word: str) -> str | None:
    """The lemma of a plural imperative ("уберите", "отремонтируйте"), else None.

    Perfective verbs share the form with the future ("установите", "почините"): pymorphy3
    lists both readings and either one counts, because in a message to the authorities
    "вы установите" is a request too.
    """
    for parse in analyzer().parse(word):
        tag = parse.tag
        if tag.POS == "VERB" and tag.number == "plur" and (
                tag.mood == "impr" or (tag.person == "2per" and tag.tense == "futr")):
            return str(parse.normal_form).replace("ё", "е")
    return None


@lru_cache(maxsize=50_000)
def _state_word(word: str) -> bool:
    """Whether a word after "не" reports a state: "(не) убирается", "(не) очищена".

    A defect is told in the third person or the past ("не горят", "не вывезли") or by a
    participle; "не знаю", "не делай", "не стоит" tell an opinion or give advice.
    """
    parse = analyzer().parse(word)[0]
    tag = parse.tag
    if parse.normal_form in _OPINION_VERBS:
        return False
    if tag.POS == "VERB":
        return tag.mood == "indc" and (tag.person == "3per" or tag.tense == "past")
    return tag.POS in ("PRTS", "PRTF")


@lru_cache(maxsize=50_000)
def _genitive(word: str) -> bool:
    """Whether a word after "нет" names what is missing ("нет люка", "нет уличного …")."""
    return analyzer().parse(word)[0].tag.case == "gent"


def requests(tokens: Sequence[str], ignore: frozenset[str]) -> list[str]:
    """The plural imperatives of a text that ask something of someone ("уберите мусор").

    Only words ending in "те"/"тесь" can be one, which keeps the check to a few words per
    message; lemmas of ``ignore`` (ads and chatter: "звоните", "подписывайтесь") do not count.
    """
    found = []
    for token in tokens:
        if token.endswith(("те", "тесь")) and len(token) > 4:
            verb = _polite_imperative(token)
            if verb is not None and verb not in ignore:
                found.append(token)
    return found


def negated_states(tokens: Sequence[str]) -> list[str]:
    """"не убирается", "не очищена", "нет люка": what the text says is not done or missing."""
    found = []
    for i, token in enumerate(tokens[:-1]):
        if token == "не" and _state_word(tokens[i + 1]):
            found.append(f"не {tokens[i + 1]}")
        elif token == "нет" and _genitive(tokens[i + 1]):
            found.append(f"нет {tokens[i + 1]}")
    return found


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


class _Lexicons:
    """Phrase matchers built once per process from the JSON lexicon."""

    _cache: dict[str, _Lexicons] = {}

    def __init__(self, path: Path) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self.categories = {c: PhraseMatcher(data[c]) for c in CATEGORIES}
        self.kinds = {k: PhraseMatcher(data["kind"][k]) for k in KINDS}
        # One scan of a message's lemmas serves all the matchers of a stage.
        self.category_group = PhraseMatcherGroup(list(self.categories.values()))
        self.kind_group = PhraseMatcherGroup(list(self.kinds.values()))
        self.imperative_ignore = frozenset(lemma.replace("ё", "е")
                                           for lemma in data.get("imperative_ignore", ()))

    @classmethod
    def get(cls, path: Path | None = None) -> _Lexicons:
        path = path or LEXICON_DIR / "relevance_ru.json"
        key = str(path)
        if key not in cls._cache:
            cls._cache[key] = cls(path)
        return cls._cache[key]


def _score(
    matches: Sequence[tuple[int, int, float, str]],
) -> tuple[float, list[str]]:
    total, cues = 0.0, []
    for _s, _e, weight, phrase in matches:
        total += weight
        cues.append(phrase)
    return total, cues


class RelevanceStage(Stage):
    """Appeal to the authorities vs ad, spam, greeting, chatter, other."""

    name: ClassVar[str] = "relevance"

    def __init__(self, lexicon_path: str | Path | None = None, min_appeal: float = 2.0) -> None:
        self.lex = _Lexicons.get(Path(lexicon_path) if lexicon_path else None)
        self.min_appeal = min_appeal

    def classify(self, doc: Doc) -> StageResult:
        """Classify one document (never raises for odd text; see process)."""
        text = doc.clean or doc.text or ""
        tokens, lemmas = ensure_prepared(doc)
        language = doc.language or detect_language(text)[0]
        if not tokens or language == "unknown":
            return StageResult(
                {"relevant": False, "category": "other"}, 0.3,
                {"reason": "no text to judge", "language": language},
            )
        scores: dict[str, float] = {}
        cues: dict[str, list[str]] = {}
        found = self.lex.category_group.find(lemmas)
        for cat, matches in zip(self.lex.categories, found, strict=True):
            scores[cat], cues[cat] = _score(matches)
        raw = doc.text or text
        # Pre-checks: every link has a "/" or "www.", every price a currency word or sign.
        head = raw[:20_000]
        links = len(_LINK_RE.findall(head)) if "/" in head or "www." in head.lower() else 0
        if links:
            scores["spam"] += min(links, 3) * 1.5
            scores["ad"] += 0.5
            cues["spam"].append(f"links×{links}")
        low = text.lower()
        money = "руб" in low or "р." in low or "₽" in text or "$" in text
        prices = len(_PRICE_RE.findall(text)) if money else 0
        if prices:
            scores["ad"] += min(prices, 3) * 1.5
            cues["ad"].append(f"prices×{prices}")
        if _PHONE_RE.search(text) and scores["ad"] > 0:
            scores["ad"] += 1.0
            cues["ad"].append("phone")
        tags = len(_HASHTAG_RE.findall(text)) if "#" in text else 0
        if tags >= 3:
            scores["spam"] += 1.0
            cues["spam"].append(f"hashtags×{tags}")
        if "?" in text and scores["appeal"] >= 1.0:
            scores["appeal"] += 0.5
            cues["appeal"].append("?")
        if len(tokens) <= 4 and scores["appeal"] < 1.0:
            scores["chatter"] += 1.5
            cues["chatter"].append("short")
        explain: dict[str, Any] = {
            "scores": {k: round(v, 2) for k, v in scores.items() if v},
            "cues": {k: v[:10] for k, v in cues.items() if v},
        }
        if language != "ru":
            explain["language"] = language
        appeal = scores["appeal"]
        other_cat = max((c for c in CATEGORIES if c != "appeal"), key=lambda c: scores[c])
        other = scores[other_cat]
        if appeal >= self.min_appeal and appeal >= other:
            conf = _sigmoid(appeal - other - 0.5) * (0.9 if language == "ru" else 0.6)
            return StageResult({"relevant": True, "category": "appeal"}, round(conf, 3), explain)
        if other >= 1.0:
            conf = _sigmoid(other - appeal) * (0.9 if language == "ru" else 0.5)
            return StageResult({"relevant": False, "category": other_cat}, round(conf, 3), explain)
        # No cue at all: an unknown long text is "other", a short one is chatter.
        category = "chatter" if len(tokens) < 8 else "other"
        conf = 0.55 if appeal < 1.0 else 0.45
        if language != "ru":
            conf = 0.4
        return StageResult({"relevant": False, "category": category}, conf, explain)

    def process(self, docs: Sequence[Doc]) -> list[StageResult]:
        """One result per document; odd input yields relevant=False with low confidence."""
        results: list[StageResult] = []
        for doc in docs:
            try:
                results.append(self.classify(doc))
            except Exception as exc:  # noqa: BLE001 - never break the batch
                results.append(StageResult({"relevant": False, "category": "other"}, 0.0,
                                           {"error": repr(exc)}))
        return results


class KindStage(Stage):
    """What the message is: complaint, question, proposal, gratitude or other."""

    name: ClassVar[str] = "kind"

    def __init__(self, lexicon_path: str | Path | None = None) -> None:
        self.lex = _Lexicons.get(Path(lexicon_path) if lexicon_path else None)

    def classify(self, doc: Doc) -> StageResult:
        """Classify one document."""
        text = doc.clean or doc.text or ""
        tokens, lemmas = ensure_prepared(doc)
        if not tokens:
            return StageResult("other", 0.3, {"reason": "no text"})
        language = doc.language or detect_language(text)[0]
        if language == "unknown":
            return StageResult("other", 0.3, {"reason": "no text to judge"})
        scores: dict[str, float] = {}
        cues: dict[str, list[str]] = {}
        found = self.lex.kind_group.find(lemmas)
        for kind, matches in zip(self.lex.kinds, found, strict=True):
            scores[kind], cues[kind] = _score(matches)
        asked = requests(tokens, self.lex.imperative_ignore)
        if asked:  # "уберите", "отремонтируйте": a request for something to be put right
            scores["complaint"] += IMPERATIVE_WEIGHT
            cues["complaint"].append(f"imperative:{asked[0]}")
        missing = negated_states(tokens) if ("не" in tokens or "нет" in tokens) else []
        if missing:
            scores["complaint"] += NEGATED_STATE_WEIGHT
            cues["complaint"].append(missing[0])
        questions = text.count("?")
        if questions:
            scores["question"] += 1.5 + 0.3 * min(questions - 1, 3)
            cues["question"].append(f"?×{questions}")
            # "Когда починят?!" asks nothing: it is a complaint when problem cues dominate.
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        (best, top), (_, second) = ranked[0], ranked[1]
        explain: dict[str, Any] = {
            "scores": {k: round(v, 2) for k, v in scores.items() if v},
            "cues": {k: v[:10] for k, v in cues.items() if v},
        }
        if top < 1.5:
            return StageResult("other", round(0.6 - top * 0.1, 3), explain)
        conf = 0.5 + 0.45 * (top - second) / (top + 1.0)
        return StageResult(best, round(min(conf, 0.95), 3), explain)

    def process(self, docs: Sequence[Doc]) -> list[StageResult]:
        """One result per document, never raising."""
        results: list[StageResult] = []
        for doc in docs:
            try:
                results.append(self.classify(doc))
            except Exception as exc:  # noqa: BLE001 - never break the batch
                results.append(StageResult("other", 0.0, {"error": repr(exc)}))
        return results
