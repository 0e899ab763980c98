"""Words of problem clustering: content terms of a case, street names, problem titles.

Split out of :mod:`otklik.problems.clustering`, which re-exports the public names.

Titles read the rubricator they are given (the active version, see
:func:`otklik.language.taxonomy_service.active_taxonomy`); without one, the packaged taxonomy.
What a title needs of a rubricator (names, lexicon words) is cached per taxonomy object,
so a newly activated version is read afresh and an old one is forgotten with it.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import TYPE_CHECKING

from otklik.nlp.morph import analyzer, first_parse, lemmatize, tokenize

if TYPE_CHECKING:
    from otklik.nlp.taxonomy.taxonomy import Taxonomy
    from otklik.problems.clustering_state import ProblemState


# The title of an outage says what is missing, whatever words residents used.
OUTAGE_TITLES = {
    "utilities.no_water": "Нет воды",
    "utilities.hot_water": "Нет горячей воды",
    "utilities.heating": "Нет отопления",
    "utilities.power": "Нет света",
    "utilities.gas": "Нет газа",
    "communications.mobile": "Нет мобильной связи",
    "communications.internet": "Нет интернета",
}

# Function words never carry a problem's identity; pymorphy tells them by part of speech.
_SKIP_POS = frozenset({"PREP", "CONJ", "PRCL", "INTJ", "NPRO", "NUMR", "PRED", "COMP"})
# Frequent content words that IDF would learn to ignore only after many cases.
_STOP = frozenset(
    "это быть мочь весь свой наш ваш каждый который такой какой этот тот самый очень уже "
    "еще ещё просто вообще когда где почему зачем сколько там тут здесь вот сейчас потом "
    "опять снова пожалуйста здравствуйте добрый день вечер утро спасибо сделать делать "
    "писать написать стать сказать говорить год раз неделя месяц человек люди житель "
    "город улица ул дом район село поселок деревня".split()
)
_STREET_TYPES = {
    "улица": "ул.",
    "ул": "ул.",
    "проспект": "пр-т",
    "пр": "пр-т",
    "пр-т": "пр-т",
    "переулок": "пер.",
    "пер": "пер.",
    "бульвар": "б-р",
    "б-р": "б-р",
    "шоссе": "ш.",
    "ш": "ш.",
    "площадь": "пл.",
    "пл": "пл.",
    "проезд": "пр-д",
    "пр-д": "пр-д",
    "набережная": "наб.",
    "наб": "наб.",
    "микрорайон": "мкр",
    "мкр": "мкр",
    "тупик": "туп.",
    "аллея": "аллея",
    "квартал": "кв-л",
    "тракт": "тракт",
}
_ADJ = 1
_NOUN = 2
_OTHER = 3
_PROPER_TAGS = ("Surn", "Name", "Patr", "Geox", "Orgn")

# ---- text ---------------------------------------------------------------------------------
@lru_cache(maxsize=200_000)
def _kind(lemma: str) -> int:
    """0: not a term; _ADJ / _NOUN / _OTHER for content words."""
    if len(lemma) < 3 or lemma in _STOP or not any(ch.isalpha() for ch in lemma):
        return 0
    tag = first_parse(lemma)[1]  # shared with the lemmatizer: often a token's parse
    pos = tag.POS
    if pos in _SKIP_POS or "Apro" in tag:
        return 0
    if pos == "NOUN":
        return _NOUN
    if pos in ("ADJF", "PRTF"):
        return _ADJ
    return _OTHER


def case_terms(text: str, lemmas: Sequence[str] | None = None) -> tuple[str, ...]:
    """Content lemmas of a text plus adjective+noun pairs ("контейнерный площадка"),
    sorted so that every later sum runs in the same order whatever the hash seed."""
    seq = list(lemmas) if lemmas is not None else lemmatize(tokenize(text))
    terms: set[str] = set()
    prev_adj: str | None = None
    for lem in seq:
        kind = _kind(lem)
        if not kind:
            # A skipped word between them breaks the pair, except for dropped short junk.
            prev_adj = None
            continue
        terms.add(lem)
        if kind == _NOUN and prev_adj is not None:
            terms.add(f"{prev_adj} {lem}")
        prev_adj = lem if kind == _ADJ else None
    return tuple(sorted(terms))


@lru_cache(maxsize=65_536)
def street_key(street: str | None) -> str | None:
    """Comparable form of a street: lemmas without the street type word."""
    if not street:
        return None
    words = [w for w in tokenize(street) if w not in _STREET_TYPES]
    if not words:
        return None
    return " ".join(lemmatize(words))


def names_place(terms: Sequence[str], street: str | None, st: ProblemState) -> bool:
    """True when a case that names no settlement still names the problem's place: its
    street («путепровод на Лаврова» for the overpass of Lavrov Street; ``street`` is the
    case's street key), its settlement or its district in any form the lemmatizer brings
    to one («в Мичуринске»). Alike texts alone are no proof: residents of every town write
    «нет воды» and «ямы» the same way."""
    have = set(terms)
    skey = st.street_key
    if skey and (street == skey or all(w in have for w in skey.split(" "))):
        return True
    for name in (st.settlement_name, st.municipality_name):
        words = _place_words(name)
        if words and all(w in have for w in words):
            return True
    return False


@lru_cache(maxsize=16_384)
def _place_words(name: str | None) -> tuple[str, ...]:
    """The lemmas of a settlement's or district's name without its type words."""
    if not name:
        return ()
    return tuple(w for w in lemmatize(tokenize(name)) if w not in _PLACE_TYPES)


_PLACE_TYPES = frozenset({"район", "муниципальный", "округ", "городской", "город", "г",
                          "село", "поселок", "посёлок", "деревня", "станица", "хутор"})


def street_display(street: str) -> str:
    """"улица Лаврова" -> "ул. Лаврова"; a street without a type word gets "ул."."""
    kind: str | None = None
    rest: list[str] = []
    for w in street.split():
        abbr = _STREET_TYPES.get(w.lower().rstrip("."))
        if abbr is None:
            rest.append(w)
        elif kind is None:
            kind = abbr
    return f"{kind or 'ул.'} {' '.join(rest)}".strip()


# ---- titles -------------------------------------------------------------------------------
@lru_cache(maxsize=4096)
def _phrase(term: str) -> str:
    """Nominative phrase for a term; an adjective agrees with its noun."""
    if " " not in term:
        return term
    adj, noun = term.split(" ", 1)
    morph = analyzer()
    noun_tag = morph.parse(noun)[0].tag
    grams = {g for g in (noun_tag.gender, "sing", "nomn") if g}
    inflected = morph.parse(adj)[0].inflect(grams)
    return f"{inflected.word if inflected else adj} {noun}"


@lru_cache(maxsize=200_000)
def _is_proper(lemma: str) -> bool:
    tag = first_parse(lemma)[1]  # shared with the lemmatizer: often a token's parse
    return any(t in tag for t in _PROPER_TAGS)


class _Vocabulary:
    """What titles need of one rubricator, filled on demand: names and lexicon phrases.

    It holds no reference to its taxonomy (it is the value of a weak-keyed cache).
    """

    __slots__ = ("names", "phrases")

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.phrases: dict[str, tuple[str, ...]] = {}


_vocab_lock = threading.Lock()
# Keyed by the taxonomy object: the taxonomy service keeps one object per saved version,
# so an activation brings a fresh entry and a forgotten version takes its entry with it.
_vocabularies: weakref.WeakKeyDictionary[Taxonomy, _Vocabulary] = weakref.WeakKeyDictionary()


def _packaged() -> Taxonomy:
    from otklik.nlp.taxonomy.taxonomy import load_taxonomy

    return load_taxonomy()


def packaged_version() -> str:
    """The version label of the packaged rubricator (what titles followed before versions
    were recorded with them)."""
    return _packaged().version


def _in_use(taxonomy: Taxonomy | None) -> tuple[Taxonomy, _Vocabulary]:
    """The taxonomy (None: the packaged one) with its cache."""
    if taxonomy is None:
        taxonomy = _packaged()
    vocab = _vocabularies.get(taxonomy)
    if vocab is None:
        with _vocab_lock:
            vocab = _vocabularies.setdefault(taxonomy, _Vocabulary())
    return taxonomy, vocab


def _subtopic_name(code: str, taxonomy: Taxonomy | None = None) -> str:
    """The display name of a topic or subtopic code (the code itself when unknown)."""
    taxonomy, vocab = _in_use(taxonomy)
    name = vocab.names.get(code)
    if name is None:
        name = taxonomy.name(code) if code in taxonomy else code
        vocab.names[code] = name
    return name


_MONTHS = ("января", "февраля", "марта", "апреля", "мая", "июня", "июля", "августа",
           "сентября", "октября", "ноября", "декабря")


def title_for(
    state: ProblemState,
    idf: Callable[[str], float] | None = None,
    taxonomy: Taxonomy | None = None,
    siblings: Sequence[ProblemState] = (),
) -> str:
    """A title a person would give: the subtopic in the rubricator's words and the place,
    e.g. «Протекающая крыша — ул. Советская, Тамбов», «Нет воды — Лаганский район»; the
    topic («Дороги — ул. Советская, Тамбов») when the cases spread over its subtopics
    with none holding two thirds.

    ``siblings`` are the other problems of the same subtopic and place: only then is the
    title refined, by a phrase of the rubricator's lexicon that most of this problem's
    cases use and the siblings' do not («Мосты, путепроводы, эстакады: путепровод — ул.
    Лаврова, Мичуринск»), else by the day it began. ``idf`` favours the distinctive
    phrase; ``taxonomy`` is the rubricator in use (None: the packaged one).
    """
    subject = OUTAGE_TITLES.get(state.subtopic or "")
    if subject is None:
        mixed = sum(state.subtopics.values()) >= 3 and (
            3 * max(state.subtopics.values()) < 2 * sum(state.subtopics.values()))
        # Cases of one subject split across subtopics with no clear leader: the topic.
        code = state.topic if mixed or not state.subtopic else state.subtopic
        subject = _subtopic_name(code, taxonomy)
    subject = subject[:1].upper() + subject[1:]
    where = _where(state)
    if not siblings:
        return f"{subject} — {where}" if where else subject
    phrase = _distinctive(state, siblings, idf, taxonomy)
    if phrase is not None and lemmatize(tokenize(phrase)) != lemmatize(tokenize(subject)):
        head = f"{subject}: {phrase}"
        return f"{head} — {where}" if where else head
    began = f"с {state.first_seen.day} {_MONTHS[state.first_seen.month - 1]}"
    return f"{subject} — {where} ({began})" if where else f"{subject} ({began})"


def _where(state: ProblemState) -> str:
    """«ул. Лаврова, Мичуринск», «Мичуринск», «Лаганский район» or ""."""
    place = state.settlement_name or state.municipality_name
    if state.street:
        street = street_display(state.street)
        return f"{street}, {place}" if place else street
    return place or ""


def _distinctive(
    state: ProblemState,
    siblings: Sequence[ProblemState],
    idf: Callable[[str], float] | None,
    taxonomy: Taxonomy | None,
) -> str | None:
    """A phrase of the rubricator's lexicon (of the subtopic, else of its topic) naming a
    thing («путепровод», «контейнерная площадка»), used by at least half of the problem's
    cases and by a smaller share of every sibling's; None when there is none."""
    words = _lexicon_phrases(state.subtopic, taxonomy) or _lexicon_phrases(state.topic,
                                                                            taxonomy)
    size = max(state.size, 1)
    best: tuple[float, str] | None = None
    for term in words:
        count = state.terms.get(term, 0.0)
        if count < max(1.0, 0.5 * size):
            continue
        share = count / size
        if any(sib.terms.get(term, 0.0) / max(sib.size, 1) >= share for sib in siblings):
            continue
        weight = count * (idf(term) if idf else 1.0)
        if best is None or weight > best[0] or (weight == best[0] and term < best[1]):
            best = (weight, term)
    return _phrase(best[1]) if best else None


def _lexicon_phrases(code: str | None, taxonomy: Taxonomy | None = None) -> tuple[str, ...]:
    """The lexicon entries of a code that name a thing: one noun or an adjective and its
    noun, as lemmas («путепровод», «контейнерный площадка»)."""
    if not code:
        return ()
    taxonomy, vocab = _in_use(taxonomy)
    cached = vocab.phrases.get(code)
    if cached is None:
        node = taxonomy.get(code)
        found = []
        for entry in (node.lexicon if node is not None else ()):
            parts = entry.split()
            if not 1 <= len(parts) <= 2 or _kind(parts[-1]) != _NOUN or _is_proper(parts[-1]):
                continue
            if len(parts) == 2 and _kind(parts[0]) != _ADJ:
                continue
            found.append(entry)
        cached = vocab.phrases[code] = tuple(found)
    return cached
