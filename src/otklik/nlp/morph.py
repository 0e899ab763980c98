"""Shared tokenization and lemmatization: one morphological analysis for every stage.

The pipeline calls :func:`prepare` once per document; stages then read ``doc.tokens``
and ``doc.lemmas`` instead of re-analysing the text. Lemmas are cached because the
vocabulary of residents' messages is small compared with their number: after a warm-up
almost every word is a dictionary hit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path

import pymorphy3
from pymorphy3.tagset import OpencorporaTag

from otklik.nlp.base import Doc

# A word: letters/digits of any script, joined by inner hyphens ("кто-нибудь", "5-й").
_TOKEN_RE = re.compile(r"[^\W_]+(?:-[^\W_]+)*")
_CYRILLIC_RE = re.compile(r"[а-я]")

# pymorphy3 prefers rare archaic lemmas for a few words residents use every day.
_LEMMA_FIXES = {"ям": "яма"}

_morph: pymorphy3.MorphAnalyzer | None = None


def analyzer() -> pymorphy3.MorphAnalyzer:
    """Return the process-wide pymorphy3 analyzer (loaded once, ~0.1 s)."""
    global _morph
    if _morph is None:
        _morph = pymorphy3.MorphAnalyzer()
    return _morph


def tokenize(text: str) -> list[str]:
    """Split text into lowercase word/number tokens, 'ё' folded to 'е'."""
    if not text:
        return []
    return _TOKEN_RE.findall(text.lower().replace("ё", "е"))


@lru_cache(maxsize=200_000)
def first_parse(word: str) -> tuple[str, OpencorporaTag]:
    """The normal form and tag of the analyzer's first (likeliest) parse of ``word``, as
    given, cached per word. The lemmatizer reads it for every token and problem clustering
    for the part of speech of a lemma: a lemma that also occurs as a token (a noun in the
    nominative, an infinitive) is analysed once for both."""
    parse = analyzer().parse(word)[0]
    return parse.normal_form, parse.tag


@lru_cache(maxsize=200_000)
def lemma(word: str) -> str:
    """Return the normal form of one token (lowercase, 'ё'→'е'); non-Russian words as is."""
    word = word.lower().replace("ё", "е")
    # Only Cyrillic words benefit from the dictionary; numbers and Latin words pass through.
    if not _CYRILLIC_RE.search(word) or len(word) > 40:
        return word
    normal = first_parse(word)[0].replace("ё", "е")
    return _LEMMA_FIXES.get(normal, normal)


def lemmatize(tokens: Iterable[str]) -> list[str]:
    """Lemmatize a token sequence (cached per word)."""
    return list(map(lemma, tokens))


def prepare(doc: Doc) -> Doc:
    """Fill ``doc.tokens`` and ``doc.lemmas`` from ``doc.clean`` (or ``doc.text``); returns doc."""
    doc.tokens = tokenize(doc.clean or doc.text or "")
    doc.lemmas = lemmatize(doc.tokens)
    return doc


def prepare_all(docs: Sequence[Doc]) -> Sequence[Doc]:
    """Run :func:`prepare` on a batch, in place."""
    for doc in docs:
        prepare(doc)
    return docs


def ensure_prepared(doc: Doc) -> tuple[list[str], list[str]]:
    """Return (tokens, lemmas) of a doc, computing them when the pipeline has not.

    Stages call this so that they also work stand-alone (tests, notebooks) without
    mutating a doc the pipeline already prepared.
    """
    if doc.tokens and len(doc.lemmas) == len(doc.tokens):
        return doc.tokens, doc.lemmas
    tokens = tokenize(doc.clean or doc.text or "")
    return tokens, lemmatize(tokens)


class PhraseMatcher:
    """Find weighted lemma phrases in a lemma sequence, longest match first.

    Phrases are given as natural text ("не работает") and lemmatized once, so they match
    any inflection ("не работали"). Matching is a dict lookup per position: cheap enough
    for every stage to run on every message.
    """

    def __init__(self, phrases: dict[str, float] | Iterable[tuple[str, float]]) -> None:
        items = phrases.items() if isinstance(phrases, dict) else phrases
        self._by_first: dict[str, list[tuple[tuple[str, ...], float, str]]] = {}
        for text, weight in items:
            key = tuple(lemmatize(tokenize(text)))
            if not key:
                continue
            bucket = self._by_first.setdefault(key[0], [])
            bucket[:] = [b for b in bucket if b[0] != key]  # a later entry overrides
            bucket.append((key, float(weight), text))
        for bucket in self._by_first.values():
            bucket.sort(key=lambda b: -len(b[0]))

    def __len__(self) -> int:
        return sum(len(b) for b in self._by_first.values())

    def find(self, lemmas: Sequence[str]) -> list[tuple[int, int, float, str]]:
        """Return non-overlapping matches as (start, end, weight, phrase), left to right."""
        by_first = self._by_first
        # Only positions whose lemma starts some phrase can match; most positions cannot.
        return self.find_at(lemmas, [i for i, lem in enumerate(lemmas) if lem in by_first])

    def find_at(
        self, lemmas: Sequence[str], starts: Sequence[int]
    ) -> list[tuple[int, int, float, str]]:
        """:meth:`find`, given the ascending positions whose lemma starts some phrase."""
        out: list[tuple[int, int, float, str]] = []
        by_first = self._by_first
        n = len(lemmas)
        free = 0  # the first position not covered by an earlier match
        for i in starts:
            if i < free:
                continue
            for key, weight, text in by_first[lemmas[i]]:
                k = len(key)
                if k == 1 or (i + k <= n and (
                        lemmas[i + 1] == key[1] if k == 2 else tuple(lemmas[i : i + k]) == key)):
                    out.append((i, i + k, weight, text))
                    free = i + k
                    break
        return out


class PhraseMatcherGroup:
    """Several phrase matchers run over one lemma sequence with a single scan of it."""

    def __init__(self, matchers: Sequence[PhraseMatcher]) -> None:
        self.matchers = list(matchers)
        owners: dict[str, list[int]] = {}
        for k, matcher in enumerate(self.matchers):
            for first in matcher._by_first:
                owners.setdefault(first, []).append(k)
        self._owners = {first: tuple(ks) for first, ks in owners.items()}

    def find(self, lemmas: Sequence[str]) -> list[list[tuple[int, int, float, str]]]:
        """Per matcher, what its :meth:`PhraseMatcher.find` returns on ``lemmas``."""
        starts: list[list[int]] = [[] for _ in self.matchers]
        owners = self._owners
        for i, lem in enumerate(lemmas):
            ks = owners.get(lem)
            if ks is not None:
                for k in ks:
                    starts[k].append(i)
        return [m.find_at(lemmas, st) for m, st in zip(self.matchers, starts, strict=True)]


def load_weighted_lexicon(path: str | Path) -> dict[str, float]:
    """Read a ``<weight>\\t<term>`` file (``#`` comments) into {term: weight}."""
    terms: dict[str, float] = {}
    for raw in Path(path).read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        weight, _, term = line.partition("\t")
        terms[term.strip()] = float(weight)
    return terms


LEXICON_DIR = Path(__file__).with_name("lexicons")
