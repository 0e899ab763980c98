"""Relevance (is this addressed to the authorities?) and kind (complaint, question, ...).

Both stages are weighted lexicons over lemmas (``lexicons/relevance_ru.json``) plus a few
surface patterns (links, prices, hashtags, question marks). Every matched cue is listed in
``explain`` so an operator can see why a message was dropped as an ad or kept as an appeal.

Residents often write a bare report with no appeal word at all: «Листва на газоне»,
«проржавевшие почтовые ящики», «Решетка». Relevance therefore also looks for a thing of the
city's economy with its fault or fix (the lexicon's ``report`` section, helped by grammar),
unless the text has the signs of a post to friends ("ты", smiles, emoji, laughter).
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
    lemma,
)
from otklik.nlp.normalize import EMOJI_RE

CATEGORIES: tuple[str, ...] = ("appeal", "ad", "spam", "greeting", "chatter")
KINDS: tuple[str, ...] = ("complaint", "question", "proposal", "gratitude")
#: A phrase found in a text: (start, end, weight, phrase), as PhraseMatcher.find gives it.
Match = tuple[int, int, float, str]
#: The parts of a bare report: a thing of the city's economy, what is wrong with it, the fix.
REPORT_PARTS: tuple[str, ...] = ("object", "defect", "remedy")

_LINK_RE = re.compile(
    r"https?://|www\.|\b(?:t\.me|vk\.cc|bit\.ly|clck\.ru|wa\.me|goo\.gl|tinyurl\.com)/", re.I
)
_GOV_LINK_RE = re.compile(r"https?://[\w.-]*\.gov\.[\w./-]*", re.I)
_PRICE_RE = re.compile(r"\d[\d\s]*(?:[.,]\d+)?\s*(?:руб\w*|р\.|₽|\$|тыс\.?\s*руб)", re.I)
# "(?:\+7|\b8)...": the "\b" is checked after the "8" ("8(?<!\w8)", the same test), so
# that the pattern begins with two literals and the scan skips the other positions fast.
_PHONE_RE = re.compile(
    r"(?:\+7|8(?<!\w8))[\s(-]*\d{3}[\s)-]*\d{3}[\s-]*\d{2}[\s-]*\d{2}\b"
)
_HASHTAG_RE = re.compile(r"#\w+")
# ":)", ";-(", "=D", "))": a smile or a frown (the normalizer leaves one of a run of brackets).
_SMILEY_RE = re.compile(r"[:;=]-?[()DРрPpЗз*]|[)(]{2,}")
_BRACKETS_RE = re.compile(r"\([^()]*\)")
# "1)", "а)", "12)": a list's numbering, not a smile.
_NUMBERING_RE = re.compile(r"(?:^|(?<=[\s.,;:]))\w{1,3}\)")
# No emoji begins below this character (normalize's EMOJI_RE): a cheap test before the regex.
_EMOJI_LOWEST = "\u2122"
_LAUGHTER_RE = re.compile(
    r"(?<![а-я])(?:[ах]*(?:ха|ах)[ах]*(?:ха|ах)[ах]*|(?:хе){2,}|(?:хи){2,})(?![а-я])")


# How a short passive participle ends: "открыт", "сломана", "повёрнуто", "закрыты".
_SHORT_PARTICIPLE_ENDINGS = ("т", "та", "то", "ты", "н", "на", "но", "ны")


#: What one request or one stated defect found by grammar adds to its category's score.
IMPERATIVE_WEIGHT = 2.0
NEGATED_STATE_WEIGHT = 1.5
#: What a report adds to the appeal score: a thing of the city's economy with a defect or a fix
#: («проржавевшие почтовые ящики», «убрать газету»), or a short text that names one and
#: nothing else («Листва на газоне», «Решетка»). Either is enough on its own.
REPORT_WEIGHT = 2.0
#: A text this short (in words) that names a thing of the city is a report by itself.
SHORT_REPORT_WORDS = 12
#: A text this short (in words) that says only what is wrong («Сломано», «Не светят») is a
#: report too.
BARE_FAULT_WORDS = 5
#: In a text up to this long, "не"/"нет" with a state («не убирается», «нет крышки») is a
#: thing's defect; a longer story's negations are about anything («не сумел», «не трогал»).
NEGATED_REPORT_WORDS = 20
#: What the signs of a post to friends (a "ты", a smile, an emoji, laughter) add to chatter.
PERSONAL_WEIGHT = 1.0
#: Verbs whose negation states an opinion, not a defect ("не знаю", "не стоит").
_OPINION_VERBS = frozenset({"знать", "понимать", "понять", "думать", "хотеть", "любить",
                            "верить", "помнить", "считать", "бояться", "видеть", "спать",
                            "стоить", "мочь", "смочь", "стать", "быть", "надо", "нужно",
                            "нравиться", "понравиться", "прийтись", "успеть", "сметь"})


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
def _performative(word: str) -> bool:
    """Whether a verb does what it says: the first person or the imperative ("прошу",
    "продам", "звоните"), not a story ("просил", "продают", "звонили")."""
    return any(parse.tag.POS == "VERB" and (
        parse.tag.mood == "impr" or parse.tag.person == "1per" and parse.tag.tense != "past")
        for parse in analyzer().parse(word))


@lru_cache(maxsize=50_000)
def _directive(word: str) -> bool:
    """Whether a word asks for something: an infinitive ("очистить") or an imperative."""
    return any(parse.tag.POS == "INFN" or parse.tag.mood == "impr"
               for parse in analyzer().parse(word))


@lru_cache(maxsize=50_000)
def _short_participle(word: str) -> bool:
    """Whether a word is a short passive participle: "сломано", "разбита", "не очищены"."""
    return analyzer().parse(word)[0].tag.POS == "PRTS"


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


def _smiles(text: str) -> bool:
    """Whether a text smiles or frowns: ":)", "=(", "))", or a bracket nothing opens or closes."""
    if _SMILEY_RE.search(text):
        return True
    rest = text
    while "(" in rest and ")" in rest:
        shorter = _BRACKETS_RE.sub("", rest)
        if shorter == rest:
            break
        rest = shorter
    if ")" in rest:
        rest = _NUMBERING_RE.sub("", rest)
    return "(" in rest or ")" in rest


def personal_signs(raw: str, text: str, tokens: Sequence[str], words: frozenset[str]
                   ) -> list[str]:
    """What marks a text as a post to friends: their words ("ты", "друзья", "лол"), a smile,
    an emoji, laughter. Reports to the authorities have none of these."""
    signs = [t for t in tokens if t in words][:3]
    if ("(" in text or ")" in text) and _smiles(text):
        # «зачётный баннер))))» smiles; «Отсутствие люка)» may only have lost a bracket.
        signs.append("smile" if _SMILEY_RE.search(raw) else "bracket")
    if raw and max(raw) >= _EMOJI_LOWEST and EMOJI_RE.search(raw):
        signs.append("emoji")
    if "х" in text and _LAUGHTER_RE.search(text.lower()):
        signs.append("laughter")
    return signs


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
        self.kind_group = PhraseMatcherGroup(list(self.kinds.values()))
        self.report = {p: PhraseMatcher(data["report"][p]) for p in REPORT_PARTS}
        # One scan of a message's lemmas finds the cues of every category and report part.
        self.category_group = PhraseMatcherGroup(
            [*self.categories.values(), *self.report.values()])
        # Word forms, not lemmas: "друзья" is a friend, "(в) другом (месте)" is not.
        self.personal = frozenset(data["personal"])
        self.first_person = frozenset(data["first_person"])
        self.acts = frozenset(lemma(word) for word in data["performative_only"])
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
        parts = found[len(CATEGORIES):]
        for cat, matches in zip(self.lex.categories, found[:len(CATEGORIES)], strict=True):
            acts = [m for m in matches if m[1] - m[0] == 1 and lemmas[m[0]] in self.lex.acts]
            if acts:  # «просил», «продают», «звонили» tell a story: no request, no offer
                told = {m[0] for m in acts if not _performative(tokens[m[0]])}
                matches = [m for m in matches if m[0] not in told]
            scores[cat], cues[cat] = _score(matches)
        raw = doc.text or text
        # Pre-checks: every link has a "/" or "www.", every price a currency word or sign.
        head = raw[:20_000]
        links = len(_LINK_RE.findall(head)) if "/" in head or "www." in head.lower() else 0
        if links and ".gov." in head:  # a link to an earlier report on a state portal
            links = max(links - len(_GOV_LINK_RE.findall(head)), 0)
        if links:
            scores["spam"] += min(links, 3) * 1.5
            scores["ad"] += 0.5
            cues["spam"].append(f"links×{links}")
        low = text.lower()
        money = "руб" in low or "р." in low or "₽" in text or "$" in text
        prices = len(_PRICE_RE.findall(text)) if money else 0
        if prices:  # a sum alone is a benefit or a fee; with a selling word, a price
            scores["ad"] += min(prices, 3) * (1.5 if scores["ad"] > 0 else 0.5)
            cues["ad"].append(f"prices×{prices}")
        if _PHONE_RE.search(text) and scores["ad"] > 0:
            scores["ad"] += 1.0
            cues["ad"].append("phone")
        tags = len(_HASHTAG_RE.findall(text)) if "#" in text else 0
        if tags >= 3:
            scores["spam"] += 1.0
            cues["spam"].append(f"hashtags×{tags}")
        report = self._report(tokens, *parts)
        personal = personal_signs(raw, text, tokens, self.lex.personal)
        if personal:  # a post to friends: its words of the city tell no report
            scores["chatter"] += PERSONAL_WEIGHT
            cues["chatter"].append("personal:" + ",".join(personal))
        # A stray bracket alone («Отсутствие люка)») is a habit, not a post to friends; the
        # writer's own «я», «мой» make a story of the words («я красила забор»).
        if (report and personal in ([], ["bracket"])
                and not self.lex.first_person.intersection(tokens)):
            scores["appeal"] += REPORT_WEIGHT
            cues["appeal"].append(report)
        if "?" in text and scores["appeal"] >= 1.0:
            scores["appeal"] += 0.5
            cues["appeal"].append("?")
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
        # No cue either way: "other", which a later rule may still find a public matter in.
        conf = 0.55 if appeal < 1.0 else 0.45
        if language != "ru":
            conf = 0.4
        return StageResult({"relevant": False, "category": "other"}, conf, explain)

    def _report(self, tokens: Sequence[str], objects: Sequence[Match], defects: Sequence[Match],
                remedies: Sequence[Match]) -> str | None:
        """The report a text makes, as a cue ("report:ящик+проржаветь"), or None.

        A report names a thing of the city's economy and what is wrong with it or what should
        be done («проржавевшие почтовые ящики», «мусор на газоне», «убрать газету с газона»);
        a short one may name only the thing («Листва на газоне», «Решетка»), only the fix
        («Очистить», «Убрать газету») or only the fault («Не светят», «Сломано»).
        """
        if not (objects or defects or remedies):
            return None
        faults = [m for m in (*defects, *remedies) if m[2] >= 1.0]
        if not faults and objects and len(tokens) <= NEGATED_REPORT_WORDS:
            # «Люк открыт», «знак повёрнут», «разметки нет», «не убирается»: a state told by
            # grammar rather than by a word of the lexicon.
            states = [(i, i + 1, 1.0, t) for i, t in enumerate(tokens)
                      if len(t) > 3 and t.endswith(_SHORT_PARTICIPLE_ENDINGS)
                      and _short_participle(t)]
            if "не" in tokens or "нет" in tokens:
                states += [(-1, -1, 1.0, state) for state in negated_states(tokens)[:1]]
                states += [(i, i + 1, 1.0, "нет") for i, t in enumerate(tokens) if t == "нет"
                           and any(abs(m[0] - i) == 1 for m in objects)]
            faults = states
        # The thing and its fault are two words: «мусор» names both, and alone it is no report.
        for thing in objects:
            for fault in faults:
                if fault[0] != thing[0]:
                    return f"report:{thing[3]}+{fault[3]}"
        if len(tokens) > SHORT_REPORT_WORDS:
            return None
        if sum(m[2] for m in objects) >= 1.0:
            return f"report:{objects[0][3]}"
        # «Очистить», «Уберите», «Необходима уборка»: a short text that begins with the fix.
        for start, _end, weight, phrase in remedies:
            if weight >= 1.0 and (start == 0 and _directive(tokens[0]) or start == 1 and any(
                    m[0] == 0 and m[2] < 1.0 for m in remedies)):
                return f"report:{phrase}"
        # «Отсутствие уборки»: a fault of a service names no thing.
        for fault in defects:
            for fix in remedies:
                if fault[2] >= 1.0 and fix[2] >= 1.0 and fault[0] != fix[0]:
                    return f"report:{fix[3]}+{fault[3]}"
        # «Сломано», «Не светят»: a state, not a word that only may tell one («опасная игрушка»).
        if len(tokens) <= BARE_FAULT_WORDS:
            for start, end, weight, phrase in defects:
                if weight >= 1.0 and (tokens[start] in ("не", "нет") or end - start == 1
                                      and _short_participle(tokens[start])):
                    return f"report:{phrase}"
            if "не" in tokens and (told := negated_states(tokens)):
                return f"report:{told[0]}"
        return None

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
