"""Answer quality check: flags a brush-off (отписка) with reasons the moderator can act on.

An answer is read sentence by sentence. The check looks for

* concrete actions — work verbs ("отремонтировали", "вывезен"), a light verb with a work
  noun ("выполнен ямочный ремонт", "будет произведена замена"), a crew sent out
  ("направлена бригада") or a regulatory act ("выдано предписание"), each marked done,
  planned or ongoing from the verb's tense. Words inside boilerplate ("проводится работа",
  "поставлена задача") or after "рассмотреть возможность", "вопрос о", "не" do not count;
* terms (:mod:`otklik.answers.terms`): an exact date or term, or a vague one;
* boilerplate, redirect and conditional phrases from ``data/answer_lexicon_ru.json``;
* words of the case's topic (the rubricator's lexicons plus officials' words from
  ``data/topic_terms_ru.json``) and the content words of the resident's question;
* near-copies of the text among the executor's recent answers (MinHash, like dedup).

Which flags block approval: :data:`BLOCKING_FLAGS`. The rest only warn.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from otklik.answers.terms import Term, find_terms
from otklik.nlp.dedup import signature as text_signature
from otklik.nlp.dedup import similarity as sig_similarity
from otklik.nlp.morph import PhraseMatcher, analyzer, lemmatize, tokenize
from otklik.nlp.taxonomy import OTHER_CODE, Taxonomy, load_taxonomy

DATA_DIR = Path(__file__).with_name("data")

ActionStatus = Literal["done", "planned", "ongoing"]
Severity = Literal["block", "warn"]

#: Flags that stop approval: the answer must be rewritten (or the moderator overrides).
BLOCKING_FLAGS: frozenset[str] = frozenset(
    {"no_action", "redirect_only", "no_date", "off_topic", "too_short"}
)
#: Flags shown to the moderator as warnings only.
WARNING_FLAGS: frozenset[str] = frozenset(
    {"generic_phrases", "mass_copy", "vague_date", "date_passed", "conditional"}
)
# How much each flag lowers the score (from 1.0); a brush-off lands well under 0.5.
_PENALTY: dict[str, float] = {
    "no_action": 0.4,
    "redirect_only": 0.45,
    "no_date": 0.35,
    "off_topic": 0.35,
    "too_short": 0.2,
    "generic_phrases": 0.2,
    "mass_copy": 0.25,
    "vague_date": 0.1,
    "date_passed": 0.15,
    "conditional": 0.15,
}

MASS_COPY_SIMILARITY = 0.9
MASS_COPY_PROBLEMS = 3
MASS_COPY_DAYS = 30
# A question "is answered" by overlap when it shares this many content words with the answer.
_QUESTION_MIN_SHARED = 2
_QUESTION_MIN_SHARE = 0.2
_ACTION_WINDOW = 12
_BLOCKER_LOOKBACK = 4

_FUTURE_AUX = frozenset({"будет", "будут", "буду", "будем", "станет", "станут"})
# Short, frequent or formulaic words that say nothing about the subject of a question.
_STOP_LEMMAS = frozenset(
    """это этот тот такой который весь свой ваш наш мой его их она они оно что как где когда
    почему зачем кто сколько также тоже очень уже еще только просто даже ли или либо чтобы
    если потому поэтому быть мочь хотеть сказать сообщать сообщить информировать уважаемый
    обращение вопрос информация данный указанный ответ житель жительница добрый день
    здравствуйте спасибо пожалуйста прошу просить помочь помогите нужно надо можно нельзя
    сделать делать год месяц день время сейчас вообще опять снова который-то""".split()
)


@dataclass(frozen=True)
class Flag:
    """One reason an answer looks like a brush-off, with the words that triggered it."""

    code: str
    message_ru: str
    message_en: str
    evidence: list[str] = field(default_factory=list)
    severity: Severity = "block"

    @property
    def blocking(self) -> bool:
        """True when this flag stops approval."""
        return self.severity == "block"

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form for the API and the moderation screen."""
        return asdict(self)


@dataclass(frozen=True)
class RecentAnswer:
    """An answer the same executor sent recently: its text or stored dedup signature."""

    text: str = ""
    signature: str = ""
    problem_id: str | int | None = None
    sent_at: date | datetime | None = None

    def sig(self) -> str:
        """The MinHash signature (computed from the text when none was stored)."""
        return self.signature or text_signature(self.text)


@dataclass(frozen=True)
class Action:
    """A concrete action found in the answer."""

    text: str
    status: ActionStatus


@dataclass
class QualityReport:
    """The verdict: ``ok`` when no blocking flag; ``score`` in [0, 1]; reasons in ``flags``."""

    ok: bool
    score: float
    flags: list[Flag]
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def codes(self) -> list[str]:
        """Codes of the raised flags, in order."""
        return [f.code for f in self.flags]

    def flag(self, code: str) -> Flag | None:
        """The flag with this code, or None."""
        return next((f for f in self.flags if f.code == code), None)

    def to_dict(self) -> dict[str, Any]:
        """Plain-JSON form for the API."""
        return {
            "ok": self.ok,
            "score": self.score,
            "flags": [f.to_dict() for f in self.flags],
            "details": self.details,
        }


# --- sentences ------------------------------------------------------------------------------

# Words after which a full stop does not end a sentence ("ул. Ленина", "д. 5", "т.е.").
_ABBREVIATIONS = frozenset(
    """ул д г гг пр просп пер кв корп стр им т п с р руб коп тел мкр пос обл ст пл наб б бул
    ш дер рп пгт тыс млн млрд см н к оф каб ч мин м км e е к-т пом ком зд сп вл""".split()
)
_BOUNDARY_RE = re.compile(r"[.!?…;]+[»\"')]*\s+|\n+")
_WORD_BEFORE_RE = re.compile(r"([^\W\d_]+)[.]?$")
_YEAR_BEFORE_RE = re.compile(r"\d{4}\s*$")


def split_sentences(text: str) -> list[str]:
    """Split an answer into sentences, keeping "ул. Ленина" and initials together."""
    out: list[str] = []
    start = 0
    for m in _BOUNDARY_RE.finditer(text):
        piece = text[start : m.start() + 1]
        if "\n" not in m.group() and m.group()[0] == ".":
            word = _WORD_BEFORE_RE.search(text[start : m.start()])
            nxt = text[m.end() : m.end() + 1]
            short = word is not None and (
                word.group(1).lower() in _ABBREVIATIONS
                or (len(word.group(1)) == 1 and word.group(1).isupper())
            )
            # "до 01.12.2026 г. Ответственный ...": a year marker may end a sentence.
            if short and word is not None and word.group(1) in ("г", "гг"):
                short = not _YEAR_BEFORE_RE.search(text[start : word.start() + start])
            if short or (nxt and (nxt.islower() or nxt.isdigit())):
                continue
        if piece.strip():
            out.append(piece.strip())
        start = m.end()
    if text[start:].strip():
        out.append(text[start:].strip())
    return out


# --- lexicons -------------------------------------------------------------------------------


@lru_cache(maxsize=100_000)
def _verbal_forms(token: str) -> tuple[tuple[str, str], ...]:
    """(normal form, tag) of every parse of a token; used where the first guess misleads."""
    return tuple((p.normal_form.replace("ё", "е"), str(p.tag)) for p in analyzer().parse(token))


def _phrase_set(words: Iterable[str]) -> dict[str, float]:
    return {w: 1.0 for w in words}


class AnswerLexicon:
    """The lemmatized word lists and phrase matchers the check reads."""

    def __init__(self, path: str | Path | None = None) -> None:
        raw = json.loads(Path(path or DATA_DIR / "answer_lexicon_ru.json").read_text("utf-8"))
        self.work_verbs = PhraseMatcher(_phrase_set(raw["work_verbs"]))
        self.work_nouns = PhraseMatcher(_phrase_set(raw["work_nouns"]))
        self.crew_nouns = PhraseMatcher(_phrase_set(raw["crew_nouns"]))
        self.regulatory = PhraseMatcher(raw["regulatory"])
        self.generic = PhraseMatcher(raw["generic"])
        self.redirect = PhraseMatcher(raw["redirect"])
        self.conditional = PhraseMatcher(raw["conditional"])
        self.courtesy = PhraseMatcher(raw["courtesy"])
        self.light_verbs = frozenset(lemmatize(raw["light_verbs"]))
        self.light_nouns = frozenset(
            {"выполнение", "проведение", "производство", "осуществление", "завершение",
             "окончание", "начало", "срок"}
        )
        self.dispatch_verbs = frozenset(lemmatize(raw["dispatch_verbs"]))
        self.blockers = frozenset(lemmatize(raw["blockers"])) | {"возможный"}
        self.negations = frozenset(raw["negations"])
        self.planning = frozenset(lemmatize(raw["planning"]))
        self.plan_nouns = frozenset(lemmatize(raw["plan_nouns"]))
        # Single words a verb form may normalise to: used to repair first-guess lemmas.
        self.vocab = self.light_verbs | self.dispatch_verbs | {
            w for w in lemmatize(raw["work_verbs"]) if " " not in w
        }


@lru_cache(maxsize=1)
def default_lexicon() -> AnswerLexicon:
    """The shipped lexicon (loaded once)."""
    return AnswerLexicon()


@lru_cache(maxsize=1)
def _topic_supplements() -> dict[str, list[str]]:
    raw = json.loads((DATA_DIR / "topic_terms_ru.json").read_text("utf-8"))
    return {k: list(v) for k, v in raw.items() if not k.startswith("_")}


@lru_cache(maxsize=256)
def topic_matcher(code: str, taxonomy_path: str | None = None) -> PhraseMatcher | None:
    """A matcher of the words of a topic or subtopic (None for an unknown code or 'other')."""
    taxonomy: Taxonomy = load_taxonomy(taxonomy_path)
    if code not in taxonomy or code.split(".", 1)[0] == OTHER_CODE:
        return None
    topic = taxonomy.topic(code)
    terms: dict[str, float] = dict(topic.lexicon)
    # A subtopic case is answered on topic when the answer speaks of its subtopic or of the
    # topic in general; answers about a sibling subtopic still share the topic's words.
    for sub in topic.subtopics:
        terms.update(sub.lexicon)
    supplements = _topic_supplements()
    for key in (topic.code, code):
        terms.update({t: 1.0 for t in supplements.get(key, [])})
    return PhraseMatcher(terms)


# --- the check ------------------------------------------------------------------------------


@dataclass
class _Sentence:
    text: str
    tokens: list[str]
    lemmas: list[str]
    covered: set[int]
    formal: set[int]
    clauses: list[int]
    generic: list[str]
    redirect: list[str]
    conditional: list[str]
    actions: list[Action] = field(default_factory=list)
    terms: list[Term] = field(default_factory=list)


_TOKEN_RE = re.compile(r"[^\W_]+(?:-[^\W_]+)*")  # the tokenizer's word, to locate tokens
_CLAUSE_PUNCT_RE = re.compile(r"[,;:—–()]")


def _clause_starts(text: str) -> list[int]:
    """Indexes of the tokens that open a clause (follow a comma, colon, dash or bracket)."""
    starts: list[int] = []
    prev_end = 0
    for i, m in enumerate(_TOKEN_RE.finditer(text.lower().replace("ё", "е"))):
        if i and _CLAUSE_PUNCT_RE.search(text[prev_end : m.start()]):
            starts.append(i)
        prev_end = m.end()
    return starts


def _canonical(tokens: list[str], lemmas: list[str], vocab: frozenset[str]) -> list[str]:
    """Replace a wrong first-guess lemma ("заменим" → "заменимый") by one the lexicon knows."""
    out = list(lemmas)
    for i, lem in enumerate(lemmas):
        if lem not in vocab and tokens[i][:1].isalpha():
            for normal, _tag in _verbal_forms(tokens[i]):
                if normal in vocab:
                    out[i] = normal
                    break
    return out


def _status(lex: AnswerLexicon, tokens: list[str], lemmas: list[str], j: int) -> ActionStatus:
    """Done, planned or ongoing, from the verb at position ``j`` and its neighbours."""
    if lemmas[j] in lex.planning or any(t in _FUTURE_AUX for t in tokens[max(0, j - 3) : j]):
        return "planned"
    if any(lemmas[k] in lex.planning for k in range(max(0, j - 3), min(len(lemmas), j + 4))):
        return "planned"
    for normal, tag in _verbal_forms(tokens[j]):
        if normal != lemmas[j]:
            continue
        if tag.startswith(("VERB", "PRTS", "PRTF", "INFN", "GRND")):
            if "INFN" in tag or "futr" in tag:
                return "planned"
            if "pres" in tag:
                return "ongoing"
            return "done"
    return "done"


def _blocked(lex: AnswerLexicon, s: _Sentence, start: int, end: int, verb: int) -> bool:
    """True when the action is only discussed ("рассмотреть возможность ремонта") or denied."""
    lemmas = s.lemmas
    first = min(start, verb)
    lo = max(0, first - _BLOCKER_LOOKBACK)
    # Look back no further than the start of the clause: "по вопросу ремонта дорог,
    # заключён контракт" — the "вопрос" of the previous clause blocks nothing.
    lo = max([lo] + [c for c in s.clauses if c <= first])
    # "Рассмотрев Ваше обращение, сообщаем, что ремонт выполнен": the formula is no blocker.
    if any(lemmas[k] in lex.blockers and k not in s.formal
           for k in range(lo, max(end, verb + 1))):
        return True
    if any(w in lex.negations for w in lemmas[max(0, verb - 3) : verb]):
        return True
    # "Дорога отремонтирована не будет".
    return lemmas[verb + 1 : verb + 3] == ["не", "быть"]


def _find_actions(lex: AnswerLexicon, s: _Sentence) -> list[Action]:
    tokens, lemmas, covered = s.tokens, s.lemmas, s.covered
    n = len(lemmas)
    found: list[Action] = []
    used: set[int] = set()

    def add(lo: int, hi: int, verb: int, status: ActionStatus | None = None) -> None:
        if _blocked(lex, s, lo, hi, verb) or verb in used:
            return
        used.update(range(lo, hi))
        text = " ".join(tokens[lo:hi])
        found.append(Action(text, status or _status(lex, tokens, lemmas, verb)))

    for lo, hi, _w, _p in lex.regulatory.find(lemmas):
        if lo not in covered:
            # "Включено в план ремонта" is a promise, whatever the tense of "включено".
            planned = any(w in lex.plan_nouns for w in lemmas[lo:hi])
            add(lo, hi, lo, "planned" if planned else None)
    for lo, hi, _w, _p in lex.work_verbs.find(lemmas):
        # "установлено, что ..." reports a finding, not work done.
        if lo in covered or (hi < n and tokens[hi] == "что"):
            continue
        add(lo, hi, lo)
    for lo, hi, _w, _p in lex.work_nouns.find(lemmas):
        if lo in covered or lo in used:
            continue
        near = [
            j for j in range(max(0, lo - _ACTION_WINDOW), min(n, hi + _ACTION_WINDOW))
            if lemmas[j] in lex.light_verbs and j not in covered
        ]
        if near:
            j = min(near, key=lambda k: abs(k - lo))
            add(min(j, lo), max(j + 1, hi), j)
        elif s.terms and any(lemmas[k] in lex.light_nouns for k in range(max(0, lo - 3), lo)):
            # "Срок выполнения ремонта — до 15 декабря": a promise stated as a noun phrase.
            add(max(0, lo - 1), hi, max(0, lo - 1), "planned")
    for lo, hi, _w, _p in lex.crew_nouns.find(lemmas):
        near = [
            j for j in range(max(0, lo - 5), min(n, hi + 5))
            if lemmas[j] in lex.dispatch_verbs and j not in covered
        ]
        if near and lo not in covered:
            j = min(near, key=lambda k: abs(k - lo))
            add(min(j, lo), max(j + 1, hi), j)
    return found


class AnswerChecker:
    """The brush-off detector; one instance holds the lexicons (use :func:`check_answer`)."""

    def __init__(self, lexicon: AnswerLexicon | None = None,
                 taxonomy_path: str | None = None) -> None:
        self.lex = lexicon or default_lexicon()
        self.taxonomy_path = taxonomy_path

    def _sentence(self, text: str, now: date) -> _Sentence:
        lex = self.lex
        tokens = tokenize(text)
        lemmas = _canonical(tokens, lemmatize(tokens), lex.vocab)
        covered: set[int] = set()
        work_starts = {lo for lo, _hi, _w, _p in lex.work_nouns.find(lemmas)}
        found: dict[str, list[str]] = {"generic": [], "redirect": [], "conditional": []}
        for name in ("conditional", "redirect", "generic"):
            matcher: PhraseMatcher = getattr(lex, name)
            for lo, hi, weight, _phrase in matcher.find(lemmas):
                if weight < 0.5 or any(k in covered for k in range(lo, hi)):
                    continue
                # "ведутся работы по устранению порыва" names the work: not boilerplate.
                if name == "generic" and any(
                    lemmas[k] == "по" and k + 1 in work_starts for k in range(hi, hi + 2)
                    if k < len(lemmas)
                ):
                    continue
                covered.update(range(lo, hi))
                found[name].append(" ".join(tokens[lo:hi]))
        formal: set[int] = set()
        for lo, hi, _w, _p in lex.courtesy.find(lemmas):
            formal.update(range(lo, hi))
        sent = _Sentence(text, tokens, lemmas, covered, formal, _clause_starts(text),
                         found["generic"], found["redirect"], found["conditional"])
        sent.terms = find_terms(text, now)
        sent.actions = _find_actions(lex, sent)
        return sent

    def check(
        self,
        answer: str,
        *,
        topic: str | None,
        subtopic: str | None,
        question: str | None = None,
        recent: Sequence[RecentAnswer] = (),
        min_length: int = 80,
        now: date | None = None,
        problem_id: str | int | None = None,
    ) -> QualityReport:
        """Check one answer; see :func:`check_answer`."""
        today = _as_date(now) if now is not None else date.today()
        text = " ".join((answer or "").split())
        sentences = [self._sentence(s, today) for s in split_sentences(answer or "")]
        flags: list[Flag] = []
        details: dict[str, Any] = {}

        actions = [a for s in sentences for a in s.actions]
        redirects = [r for s in sentences for r in s.redirect]
        details["actions"] = [asdict(a) for a in actions]

        if len(text) < min_length:
            flags.append(_flag("too_short", length=len(text), minimum=min_length))
        if not actions and redirects:
            flags.append(_flag("redirect_only", evidence=_unique(redirects)))
        elif not actions:
            generic_all = [g for s in sentences for g in s.generic]
            flags.append(_flag("no_action", evidence=_unique(generic_all)[:5]))

        flags.extend(self._terms(sentences, today, details))
        generic_flag = self._generic(sentences, details)
        if generic_flag:
            flags.append(generic_flag)
        conditional = _unique([c for s in sentences for c in s.conditional])
        if conditional:
            flags.append(_flag("conditional", evidence=conditional))
        off = self._off_topic(sentences, topic, subtopic, question, details)
        if off:
            flags.append(off)
        copy = self._mass_copy(text, recent, today, problem_id, details)
        if copy:
            flags.append(copy)

        score = 1.0
        for f in flags:
            score -= _PENALTY.get(f.code, 0.1)
        return QualityReport(
            ok=not any(f.blocking for f in flags),
            score=round(min(1.0, max(0.0, score)), 3),
            flags=flags,
            details=details,
        )

    # --- individual checks ------------------------------------------------------------------
    def _terms(self, sentences: list[_Sentence], today: date,
               details: dict[str, Any]) -> list[Flag]:
        promises = [a for s in sentences for a in s.actions if a.status != "done"]
        details["terms"] = [t.text for s in sentences for t in s.terms]
        if not promises:
            return []
        # A date in a sentence that only reports finished work ("12.11 выполнен ремонт")
        # does not say when the promised work will be done.
        relevant = [
            t for s in sentences
            if not s.actions or any(a.status != "done" for a in s.actions)
            for t in s.terms
        ]
        flags: list[Flag] = []
        promised = _unique([a.text for a in promises])
        exact = [t for t in relevant if t.kind == "exact"]
        vague = [t for t in relevant if t.kind == "vague"]
        if not exact and not vague:
            hedges = [t.text for s in sentences for t in s.terms if t.kind == "none"]
            flags.append(_flag("no_date", evidence=promised + _unique(hedges)))
        elif not exact:
            flags.append(_flag("vague_date", evidence=_unique([t.text for t in vague])))
        passed = [
            t for s in sentences
            if any(a.status != "done" for a in s.actions) or (not s.actions)
            for t in s.terms
            if t.kind != "none" and t.when is not None and t.when < today
            and (t.deadline or s.actions)
        ]
        if passed:
            flags.append(_flag("date_passed", evidence=_unique([t.text for t in passed])))
        return flags

    def _generic(self, sentences: list[_Sentence], details: dict[str, Any]) -> Flag | None:
        content = 0
        generic: list[str] = []
        boiler = 0
        for s in sentences:
            words = len(s.tokens)
            # Greetings and "С уважением" are formalities, not the body of the answer.
            if not s.actions and words and len(s.formal) >= 0.5 * words and not s.generic:
                continue
            content += 1
            if s.generic and not s.actions:
                boiler += 1
                generic.extend(s.generic)
        share = boiler / content if content else 0.0
        details["generic_share"] = round(share, 3)
        if boiler >= 2 and share >= 0.5 or boiler >= 1 and share >= 0.99 and len(generic) >= 2:
            return _flag("generic_phrases", evidence=_unique(generic)[:6], boiler=boiler,
                         total=content)
        return None

    def _off_topic(self, sentences: list[_Sentence], topic: str | None, subtopic: str | None,
                   question: str | None, details: dict[str, Any]) -> Flag | None:
        lemmas = [lem for s in sentences for lem in s.lemmas]
        code = subtopic or topic
        matcher = topic_matcher(code, self.taxonomy_path) if code else None
        if matcher is None and topic and topic != code:
            matcher = topic_matcher(topic, self.taxonomy_path)
        matched: list[str] = []
        if matcher is not None:
            tokens = [t for s in sentences for t in s.tokens]
            matched = _unique([" ".join(tokens[lo:hi]) for lo, hi, _w, _p in
                               matcher.find(lemmas)])
            details["topic_terms"] = matched
        shared: list[str] = []
        q_words: set[str] = set()
        if question:
            q_words = _content_words(lemmatize(tokenize(question)))
            shared = sorted(q_words & _content_words(lemmas))
            details["question_overlap"] = round(len(shared) / max(1, len(q_words)), 3)
        on_question = bool(question) and (
            len(shared) >= _QUESTION_MIN_SHARED
            or len(shared) / max(1, len(q_words)) >= _QUESTION_MIN_SHARE
        )
        if matched or on_question:
            return None
        if matcher is None and (not question or len(q_words) < 3):
            return None  # nothing to compare with: no topic words and no real question
        name = ""
        if code:
            taxonomy = load_taxonomy(self.taxonomy_path)
            name = taxonomy.name(code) if code in taxonomy else code
        return _flag("off_topic", evidence=shared, topic=name or "обращения")

    def _mass_copy(self, text: str, recent: Sequence[RecentAnswer], today: date,
                   problem_id: str | int | None, details: dict[str, Any]) -> Flag | None:
        if not recent or not text:
            return None
        sig = text_signature(text)
        since = today - timedelta(days=MASS_COPY_DAYS)
        problems: set[str] = set()
        for i, item in enumerate(recent):
            if item.sent_at is not None and _as_date(item.sent_at) < since:
                continue
            if problem_id is not None and item.problem_id == problem_id:
                continue
            if sig_similarity(sig, item.sig()) >= MASS_COPY_SIMILARITY:
                problems.add(str(item.problem_id) if item.problem_id is not None else f"#{i}")
        details["copies"] = len(problems)
        if len(problems) >= MASS_COPY_PROBLEMS:
            return _flag("mass_copy", evidence=sorted(problems)[:10], count=len(problems),
                         days=MASS_COPY_DAYS)
        return None


# --- messages -------------------------------------------------------------------------------

_MESSAGES: dict[str, tuple[str, str]] = {
    "no_action": (
        "Нет конкретного действия: что сделано или будет сделано?",
        "No concrete action: what has been done or will be done?",
    ),
    "redirect_only": (
        "Ответ только перенаправляет жителя в другую организацию, своего действия нет: "
        "что сделал исполнитель (передал, проконтролировал, выехал)?",
        "The answer only redirects the resident elsewhere with no action of its own.",
    ),
    "no_date": (
        "Нет срока: когда будет выполнено обещанное? Укажите дату или срок "
        "(«до 15 декабря», «в течение 3 дней»).",
        "No date or term: when will the promised work be done?",
    ),
    "vague_date": (
        "Срок размыт (только год или сезон): укажите месяц, квартал или дату.",
        "The term is vague (a year or a season only): give a month, quarter or date.",
    ),
    "date_passed": (
        "Обещанный срок уже прошёл: обновите срок или сообщите, что сделано.",
        "The promised date has already passed.",
    ),
    "generic_phrases": (
        "Много шаблонных фраз ({boiler} из {total} предложений без сути): замените их "
        "тем, что сделано и когда.",
        "Mostly boilerplate ({boiler} of {total} sentences say nothing concrete).",
    ),
    "conditional": (
        "Обещание с условием (финансирование, погода, возможность): что и когда будет "
        "сделано наверняка?",
        "The promise depends on a condition (funding, weather): what will surely be done?",
    ),
    "off_topic": (
        "Ответ не о теме обращения «{topic}»: в нём нет ни слова о сути вопроса жителя.",
        "The answer does not address the case's topic ({topic}).",
    ),
    "too_short": (
        "Ответ слишком короткий: {length} знаков при минимуме {minimum}.",
        "The answer is too short: {length} characters, minimum {minimum}.",
    ),
    "mass_copy": (
        "Этот же текст уже отправлен по {count} другим проблемам за {days} дней: "
        "ответ должен быть о конкретном случае.",
        "The same text was already sent to {count} other problems in {days} days.",
    ),
}


def _flag(code: str, evidence: Sequence[str] = (), **values: object) -> Flag:
    ru, en = _MESSAGES[code]
    severity: Severity = "block" if code in BLOCKING_FLAGS else "warn"
    return Flag(code, ru.format(**values), en.format(**values), list(evidence), severity)


def _unique(items: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for item in items:
        seen.setdefault(item, None)
    return list(seen)


def _content_words(lemmas: Iterable[str]) -> set[str]:
    """Lemmas that carry the subject: long words and numbers, without formulaic words."""
    return {
        w for w in lemmas
        if w not in _STOP_LEMMAS and (len(w) >= 4 or (w.isdigit() and len(w) <= 3))
    }


def _as_date(value: date | datetime) -> date:
    return value.date() if isinstance(value, datetime) else value


@lru_cache(maxsize=1)
def _default_checker() -> AnswerChecker:
    return AnswerChecker()


def check_answer(
    answer: str,
    *,
    topic: str | None,
    subtopic: str | None,
    question: str | None = None,
    recent: Sequence[RecentAnswer] = (),
    min_length: int = 80,
    now: date | None = None,
    problem_id: str | int | None = None,
) -> QualityReport:
    """Check an answer for signs of a brush-off (отписка); reasons go to the moderator.

    ``topic``/``subtopic`` are rubricator codes of the case; ``question`` is the resident's
    text; ``recent`` are the same executor's recent answers (to catch one text sent to many
    problems; answers to ``problem_id`` itself are ignored); ``now`` fixes "today" for the
    30-day window and for promised dates that already passed.
    """
    return _default_checker().check(
        answer, topic=topic, subtopic=subtopic, question=question, recent=recent,
        min_length=min_length, now=now, problem_id=problem_id,
    )
