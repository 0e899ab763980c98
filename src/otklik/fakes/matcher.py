"""The fake matcher: is a message a copy of a claim in the registry of fakes?

Two measures, the best of which is the score:

* near-duplicate keys — the project's MinHash (:mod:`otklik.nlp.dedup`) over character
  5-grams: catches copies with small edits, emoji and hashtags at once;
* the claim's content lemmas (pymorphy3, as :mod:`otklik.nlp.morph`; synonyms folded to one
  word, transliteration read back into Cyrillic, "Срочно! Распространите!" dropped) found in
  the message — as words, and as character 3-grams of the words, which survive typos.
  Coverage is taken both ways: how much of the claim the message holds (a paraphrase, a quote
  in a longer post) and how much of a short message is the claim (a fragment).

A message that refutes or denies the claim ("это фейк", "не соответствует действительности")
is not a copy: its ``fake_id`` is None and ``refutes`` names the claim.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from math import log

import numpy as np

from otklik.nlp.dedup import hashvalues_batch
from otklik.nlp.morph import lemma

#: A match is reported from this score on (tuned on bench/bench_fakes.py).
THRESHOLD = 0.6
#: At most this many characters of a message are compared (a huge text is cut, not refused).
MAX_CHARS = 20_000
#: Candidates per message scored in full (the rest of the registry is ranked by shared words).
CANDIDATES = 12
#: The message's rarest words (in the registry) that choose the candidates.
RANKING_WORDS = 8
#: A message of fewer content words than this counts as a fragment only in proportion.
FRAGMENT_WORDS = 6

_WORD_RE = re.compile(r"[a-zа-я0-9]+")
_LATIN_RE = re.compile(r"^[a-z]+$")

#: Function words and the chain-letter boilerplate that carries no claim.
STOPWORDS = frozenset("""
и в во не на с со по к ко о об от до за из у же ли бы что как а но или да нет это этот
тот так там тут все всё весь вы мы он она они оно я ты его ее их им нам вам мне то для при
над под про без через после уже еще ещё только очень был быть есть будет который наш ваш свой
себя также тоже чтобы если когда где кто чем сам самый даже вот ну вдруг
срочно распространить распространите репост сделать перешлите переслать поделиться
поделитесь важно внимание друг знакомый передать скинуть отправить всем всех
""".split())

#: Synonym groups: every word of a group is read as the first one (lemmas).
SYNONYMS: tuple[tuple[str, ...], ...] = (
    ("вода", "водичка"),
    ("водопровод", "водоснабжение"),
    ("заразить", "заражать", "отравить"),
    ("опасный", "вредный"),
    ("школа", "учебный"),
    ("ребенок", "школьник", "дети"),
    ("отменить", "отменять", "прекратить"),
    ("подорожать", "вырасти", "подняться", "повысить"),
    ("цена", "стоимость"),
    ("закрыть", "закрывать", "ликвидировать"),
    ("больница", "стационар"),
    ("врач", "медик", "доктор"),
    ("власть", "администрация", "чиновник"),
    ("житель", "горожанин"),
    ("объявить", "сообщить", "заявить"),
    ("отключить", "отключать", "перекрыть"),
    ("магазин", "супермаркет"),
    ("дом", "здание"),
    ("неделя", "семь"),
    ("запретить", "запрещать"),
    ("ввести", "вводить"),
    ("платный", "оплачиваемый"),
    ("пенсия", "выплата"),
    ("бензин", "топливо"),
    ("лекарство", "препарат"),
    ("вспышка", "эпидемия"),
)
_CANON = {word: group[0] for group in SYNONYMS for word in group}

#: Lemma phrases that mark a refutation or a denial of what the message quotes.
DENIAL_PHRASES: tuple[tuple[str, ...], ...] = (
    ("фейк",), ("фейковый",), ("неправда",), ("ложь",), ("ложный",), ("недостоверный",),
    ("опровергнуть",), ("опровергать",), ("опровержение",), ("дезинформация",), ("вброс",),
    ("слух",), ("не", "соответствовать", "действительность"), ("не", "подтвердиться"),
    ("не", "подтверждаться"), ("не", "верить"), ("не", "верьте"), ("это", "не", "так"),
    ("не", "правда"),
)

_TRANSLIT = (("shch", "щ"), ("sch", "щ"), ("zh", "ж"), ("kh", "х"), ("ts", "ц"), ("ch", "ч"),
             ("sh", "ш"), ("yu", "ю"), ("ya", "я"), ("yo", "е"), ("ye", "е"), ("iy", "ий"),
             ("a", "а"), ("b", "б"), ("v", "в"), ("g", "г"), ("d", "д"), ("e", "е"),
             ("z", "з"), ("i", "и"), ("y", "ы"), ("k", "к"), ("l", "л"), ("m", "м"),
             ("n", "н"), ("o", "о"), ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"),
             ("u", "у"), ("f", "ф"), ("h", "х"), ("c", "ц"), ("w", "в"), ("x", "кс"),
             ("j", "й"), ("q", "к"))
_TRANSLIT_RE = re.compile("|".join(latin for latin, _ in _TRANSLIT))
_TRANSLIT_MAP = dict(_TRANSLIT)


def _cyrillic(word: str) -> str:
    """A transliterated word read back into Cyrillic ("voda" → "вода")."""
    return _TRANSLIT_RE.sub(lambda m: _TRANSLIT_MAP[m.group(0)], word)


def clean_text(text: str) -> str:
    """What is compared: control and binary characters dropped, at most MAX_CHARS."""
    text = text[:MAX_CHARS]
    return "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in text)


def words(text: str) -> list[str]:
    """Lowercase words, 'ё' → 'е', transliterated words read back into Cyrillic (when most
    of the text's words are Latin: a Russian text written in Latin letters)."""
    tokens = _WORD_RE.findall(clean_text(text).lower().replace("ё", "е"))
    latin = sum(1 for t in tokens if _LATIN_RE.match(t))
    if tokens and latin * 2 > len(tokens):
        tokens = [_cyrillic(t) if _LATIN_RE.match(t) else t for t in tokens]
    return tokens


def lemmas(text: str) -> list[str]:
    """All lemmas of a text (synonyms folded), stop words kept (denials need "не")."""
    return _lemmas(words(text))


def _lemmas(forms: Iterable[str]) -> list[str]:
    return [_CANON.get(form, form) for form in map(lemma, forms)]


def content(lemma_list: Iterable[str]) -> set[str]:
    """The lemmas that carry a claim: no stop words, no one-letter words."""
    return {w for w in lemma_list if w not in STOPWORDS and len(w) > 1}


def trigrams(content_lemmas: Iterable[str]) -> set[str]:
    """Character 3-grams of each word with its boundaries ("<вода>": "<во", "вод" …)."""
    grams: set[str] = set()
    for word in content_lemmas:
        padded = f"<{word}>"
        grams.update(padded[i:i + 3] for i in range(len(padded) - 2))
    return grams


@lru_cache(maxsize=100_000)
def word_grams(word: str) -> frozenset[str]:
    """The 3-grams of one word with its boundaries."""
    return frozenset(trigrams((word,)))


def near_words(claim: _Features, message: _Features) -> set[str]:
    """The claim's words the message holds as they are or with a typo: a written form of the
    claim's word and one of the message's words (five letters or more) have a 3-gram Jaccard
    of 0.5 at least (the lemma of a misspelt word is the word itself)."""
    found = claim.content & message.content
    if len(found) < 2:  # one shared word is no copy, typos or not
        return found
    rest = message.long_grams
    for word, forms in claim.surface.items():
        if word in found:
            continue
        for form in forms:
            if len(form) < 5:
                continue
            grams = word_grams(form)
            size = len(grams)
            # |a ∩ b| / |a ∪ b| ≥ 0.5, i.e. 3·|a ∩ b| ≥ |a| + |b|; it needs the smaller set
            # half the larger at least, checked first (cheap, and most pairs fail it).
            if any(2 * size >= other_size and 2 * other_size >= size
                   and 3 * len(grams & other) >= size + other_size
                   for other, other_size in rest):
                found.add(word)
                break
    return found


def denial(lemma_list: Sequence[str], claim_lemmas: set[str]) -> str | None:
    """The denial phrase the message holds and the claim does not, or None."""
    for phrase in DENIAL_PHRASES:
        if len(phrase) == 1 and phrase[0] in claim_lemmas:
            continue
        size = len(phrase)
        for i in range(len(lemma_list) - size + 1):
            if tuple(lemma_list[i:i + size]) == phrase:
                if size == 1 and i and lemma_list[i - 1] == "не":
                    continue  # "это не фейк!" insists on the claim
                return " ".join(phrase)
    return None


@dataclass(frozen=True)
class Fake:
    """One claim of the registry."""

    id: str
    claim: str


@dataclass(frozen=True)
class Match:
    """The matcher's answer for one message."""

    fake_id: str | None
    score: float
    explain: str
    refutes: str | None = None

    def as_dict(self, message_id: str) -> dict[str, object]:
        return {"id": message_id, "fake_id": self.fake_id, "score": round(self.score, 4),
                "explain": self.explain, "refutes": self.refutes}


@dataclass(frozen=True)
class _Features:
    lemmas: list[str]
    content: set[str]
    surface: dict[str, set[str]]  # content lemma → its written forms
    #: 3-grams of each written content word of 5+ letters, with their number.
    long_grams: list[tuple[frozenset[str], int]]
    #: Pairs of content lemmas next to each other (stop words skipped): the word order.
    pairs: frozenset[tuple[str, str]]


def _features(text: str) -> _Features:
    forms = words(text)
    all_lemmas = _lemmas(forms)
    words_ = content(all_lemmas)
    surface: dict[str, set[str]] = {}
    for form, lem in zip(forms, all_lemmas, strict=True):
        if lem in words_:
            surface.setdefault(lem, set()).add(form)
    long_grams = [(grams, len(grams)) for grams in (
        word_grams(f) for fs in surface.values() for f in fs if len(f) >= 5)]
    sequence = [lem for lem in all_lemmas if lem in words_]
    pairs = frozenset(zip(sequence, sequence[1:], strict=False))
    return _Features(all_lemmas, words_, surface, long_grams, pairs)


def _coverage(common: float, claim_size: float, message_size: float,
              message_words: int) -> float:
    """The better of: the share of the claim in the message, and (for a message that is
    mostly the claim: a fragment) the share of the message in the claim, scaled down for a
    message of few words and only when a fair part of the claim is there."""
    if not claim_size or not message_size:
        return 0.0
    of_claim = common / claim_size
    if of_claim < 0.25:
        return of_claim
    of_message = common / message_size * min(1.0, message_words / FRAGMENT_WORDS)
    return max(of_claim, of_message)


def _bands(key: np.ndarray) -> list[bytes]:
    return [bytes([i]) + key[i * 4:(i + 1) * 4].tobytes() for i in range(16)]


class FakeMatcher:
    """A registry of fakes held in memory, with an inverted index of their content lemmas."""

    def __init__(self, fakes: Sequence[Fake], threshold: float = THRESHOLD) -> None:
        self.fakes = list(fakes)
        self.threshold = threshold
        self._features = [_features(fake.claim) for fake in self.fakes]
        vocab: dict[str, int] = {}
        postings: dict[int, list[int]] = {}
        for row, feats in enumerate(self._features):
            for word in feats.content:
                postings.setdefault(vocab.setdefault(word, len(vocab)), []).append(row)
        self._vocab = vocab
        count = max(len(self.fakes), 1)
        #: Word weights: a word most claims share (a town, "улица") says less than a rare one.
        self._weight = {w: 1.0 + log(count / len(postings[k])) for w, k in vocab.items()}
        self._postings = {k: np.asarray(v, dtype=np.intp) for k, v in postings.items()}
        #: Claims by their pairs of neighbouring words: a run of a claim's words in the
        #: message ranks that claim above others that merely hold the same words.
        pairs: dict[tuple[str, str], list[int]] = {}
        for row, feats in enumerate(self._features):
            for pair in feats.pairs:
                pairs.setdefault(pair, []).append(row)
        self._pair_postings = {p: np.asarray(v, dtype=np.intp) for p, v in pairs.items()}
        keys = hashvalues_batch([fake.claim for fake in self.fakes])
        #: LSH bands of the keys (16 bands of 4 values): a near duplicate shares one at least.
        self._bands: dict[bytes, list[int]] = {}
        for row, k in enumerate(keys):
            if k is not None:
                for band in _bands(k):
                    self._bands.setdefault(band, []).append(row)
        self._keys = np.stack([k if k is not None else np.zeros(64, dtype=np.uint16)
                               for k in keys]) if keys else np.zeros((0, 64), np.uint16)

        #: The weight of a message's word no claim has (as rare as a word can be).
        self._unseen = 1.0 + log(count)
        #: Each claim's own weight (the denominator of its coverage), once.
        self._claim_weight = [self._weigh(feats.content) for feats in self._features]

    def _weigh(self, words_: Iterable[str]) -> float:
        return sum(self._weight.get(w, self._unseen) for w in words_)

    def __len__(self) -> int:
        return len(self.fakes)

    def _candidates(self, feats: _Features, key: np.ndarray | None) -> list[int]:
        # The message's rarest words rank the claims (a town, "улица" would rank them all).
        rows = sorted((self._postings[self._vocab[w]] for w in feats.content
                       if w in self._vocab), key=len)[:RANKING_WORDS]
        rows += sorted((self._pair_postings[p] for p in feats.pairs
                        if p in self._pair_postings), key=len)[:RANKING_WORDS]
        found: set[int] = set()
        if rows:
            hits = np.bincount(np.concatenate(rows))
            top = np.argpartition(-hits, CANDIDATES)[:CANDIDATES] if len(hits) > CANDIDATES \
                else np.arange(len(hits))
            found.update(int(r) for r in top if hits[r] >= 2)
        if key is not None:
            for band in _bands(key):
                found.update(self._bands.get(band, ())[:CANDIDATES])
        return sorted(found)

    def match(self, text: str) -> Match:
        """The best claim the message copies (or None), its score and why."""
        return self.match_batch([text])[0]

    def match_batch(self, texts: Sequence[str]) -> list[Match]:
        """:meth:`match` of many messages (their MinHash keys computed together)."""
        keys = hashvalues_batch([clean_text(text) for text in texts])
        return [self._match(text, key) for text, key in zip(texts, keys, strict=True)]

    def _match(self, text: str, key: np.ndarray | None) -> Match:
        if not text or not text.strip():
            return Match(None, 0.0, "пустой текст")
        feats = _features(text)
        if not feats.content and key is None:
            return Match(None, 0.0, "в тексте нет слов")
        best: tuple[float, int, str] = (0.0, -1, "")
        for row in self._candidates(feats, key):
            claim = self._features[row]
            weight = self._weigh
            claim_weight = self._claim_weight[row]
            exact = claim.content & feats.content
            exact_weight = weight(exact)
            # Typos are looked for only where the words as written already cover a third.
            common = near_words(claim, feats) if exact_weight * 3 >= claim_weight else exact
            common_weight = exact_weight if len(common) == len(exact) else weight(common)
            by_words = _coverage(common_weight, claim_weight,
                                 common_weight + len(feats.content - claim.content - common)
                                 * self._unseen, len(feats.content))
            near = float((self._keys[row] == key).mean()) if key is not None else 0.0
            score, how = max((by_words, "слова"), (near, "почти дубликат (MinHash)"))
            if score > best[0]:
                shared = ", ".join(sorted(common)[:8])
                best = (score, row, f"{how}: {score:.2f}; общие слова: {shared or '—'}")
        score, row, why = best
        if row < 0 or score < self.threshold:
            nearest = f"; ближайший фейк {self.fakes[row].id} ({why})" if row >= 0 else ""
            return Match(None, score, f"совпадений нет (порог {self.threshold}){nearest}")
        fake = self.fakes[row]
        denied = denial(feats.lemmas, self._features[row].content)
        if denied is not None:
            return Match(None, score, f"опровержение фейка {fake.id} («{denied}»): не копия; "
                                      f"{why}", refutes=fake.id)
        return Match(fake.id, score, f"копия фейка {fake.id}: {why}")
