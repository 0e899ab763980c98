"""Fast, exact transforms for the trained model's TF-IDF blocks.

scikit-learn's ``TfidfVectorizer.transform`` re-extracts every character n-gram of every
word of every text in Python; that is most of what a trained model costs per message.
A ``char_wb`` n-gram never crosses a whitespace boundary, so a text's n-gram counts are the
sum of its words' counts: :class:`CharWordCache` keeps each word form's vocabulary columns
(per word, never per text, like the lemma cache of :mod:`otklik.nlp.morph`) and builds the
count matrix of a batch with one sparse product. :func:`lemma_ngram_counts` counts lemma
1-2-grams straight from the pipeline's lemma lists instead of joining and re-splitting
them. Both produce the same matrix as the vectorizer they stand for (tested), so a model's
scores do not change.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from itertools import chain, repeat

import numpy as np
from scipy.sparse import csr_matrix
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

#: Word forms remembered per model; a long-running worker's vocabulary fits many times over.
WORD_CACHE_SIZE = 200_000



def apply_tfidf(counts: csr_matrix, vectorizer: TfidfVectorizer) -> csr_matrix:
    """What ``vectorizer.transform`` does after counting: sublinear tf, idf, norm.

    ``counts`` must hold no duplicate entries; its column indices need not be sorted
    (sorting them is a third of the cost and changes no value).
    """
    x = counts.astype(vectorizer.dtype, copy=False)
    if vectorizer.sublinear_tf:
        np.log(x.data, x.data)
        x.data += 1.0
    if vectorizer.use_idf:
        x.data *= vectorizer.idf_.astype(x.dtype, copy=False)[x.indices]
    if vectorizer.norm is not None:
        x = normalize(x, norm=vectorizer.norm, copy=False)
    return x


class CharWordCache:
    """``char_wb`` TF-IDF of texts from cached per-word n-gram columns (exact).

    The cached words are the rows of one growing sparse matrix (word form -> row), so a
    batch's counts are a single product: (texts x cached words) @ (cached words x n-grams).
    """

    def __init__(self, vectorizer: TfidfVectorizer, max_words: int = WORD_CACHE_SIZE) -> None:
        if vectorizer.analyzer != "char_wb":
            raise ValueError("CharWordCache stands for a char_wb vectorizer only")
        self.vectorizer = vectorizer
        self.max_words = max_words
        self._vocabulary: dict[str, int] = vectorizer.vocabulary_
        self._analyze = vectorizer.build_analyzer()
        self._preprocess = vectorizer.build_preprocessor()
        self._lock = threading.Lock()
        self._reset()

    def _reset(self) -> None:
        self._rows: dict[str, int] = {}
        self._indptr = np.zeros(1024 + 1, dtype=np.int64)
        self._indices = np.zeros(16_384, dtype=np.int32)
        self._data = np.zeros(16_384, dtype=np.float32)
        self._matrix: csr_matrix | None = None

    def __len__(self) -> int:
        return len(self._rows)

    def _add_words(self, words: list[str]) -> None:
        """Append the n-gram columns of words not seen before as new rows."""
        vocabulary = self._vocabulary
        n = len(self._rows)
        nnz = int(self._indptr[n])
        for word in words:
            counts: dict[int, int] = {}
            for gram in self._analyze(word):
                col = vocabulary.get(gram)
                if col is not None:
                    counts[col] = counts.get(col, 0) + 1
            need = nnz + len(counts)
            if need > len(self._indices):
                size = max(2 * len(self._indices), need)
                self._indices = np.resize(self._indices, size)
                self._data = np.resize(self._data, size)
            if n + 2 > len(self._indptr):
                self._indptr = np.resize(self._indptr, 2 * len(self._indptr))
            self._indices[nnz:need] = list(counts.keys())
            self._data[nnz:need] = list(counts.values())
            nnz = need
            self._rows[word] = n
            n += 1
            self._indptr[n] = nnz
        self._matrix = None

    def _word_matrix(self) -> csr_matrix:
        if self._matrix is None:
            n = len(self._rows)
            nnz = int(self._indptr[n])
            self._matrix = csr_matrix(
                (self._data[:nnz], self._indices[:nnz], self._indptr[: n + 1]),
                shape=(n, len(self._vocabulary)), copy=False,
            )
        return self._matrix

    def counts(self, texts: Sequence[str]) -> csr_matrix:
        """Raw n-gram counts, one row per text (the vectorizer's count step).

        Thread-safe: a worker's threads share one model, and adding words moves rows.
        """
        with self._lock:
            return self._counts(texts)

    def _counts(self, texts: Sequence[str]) -> csr_matrix:
        preprocess = self._preprocess
        per_text = [preprocess(text).split() for text in texts]
        flat = list(chain.from_iterable(per_text))
        rows = self._rows
        new = [w for w in dict.fromkeys(flat) if w not in rows]
        if new:
            if len(rows) + len(new) > self.max_words:
                self._reset()  # a crude bound: refilling costs one batch's words
                rows = self._rows
                new = list(dict.fromkeys(flat))
            self._add_words(new)
        indptr = np.zeros(len(texts) + 1, dtype=np.int64)
        np.cumsum([len(words) for words in per_text], out=indptr[1:])
        word_matrix = self._word_matrix()
        doc_matrix = csr_matrix(
            (np.ones(len(flat), dtype=np.float32),
             np.fromiter(map(rows.__getitem__, flat), dtype=np.int32, count=len(flat)),
             indptr),
            shape=(len(texts), word_matrix.shape[0]),
        )
        return doc_matrix @ word_matrix

    def transform(self, texts: Sequence[str]) -> csr_matrix:
        """The same matrix as ``vectorizer.transform(texts)``."""
        return apply_tfidf(self.counts(texts), self.vectorizer)


class LemmaNgramIndex:
    """Integer ids for the lemmas of a word vectorizer's vocabulary, so that the 1-2-grams
    of a batch are looked up with array operations instead of building their strings."""

    def __init__(self, vectorizer: TfidfVectorizer) -> None:
        vocabulary: dict[str, int] = vectorizer.vocabulary_
        ids: dict[str, int] = {}
        unigrams: dict[int, int] = {}
        bigrams: list[tuple[int, int, int]] = []
        for gram, col in vocabulary.items():
            words = gram.split(" ")
            for w in words:
                if w not in ids:
                    ids[w] = len(ids)
            if len(words) == 1:
                unigrams[ids[words[0]]] = col
            elif len(words) == 2:
                bigrams.append((ids[words[0]], ids[words[1]], col))
        self.vocabulary = vocabulary
        self.ids = ids
        self.n_features = len(vocabulary)
        self.unigram_col = np.full(len(ids) + 1, -1, dtype=np.int64)  # last: "unknown"
        for i, col in unigrams.items():
            self.unigram_col[i] = col
        size = len(ids) + 1
        keys = np.asarray([a * size + b for a, b, _ in bigrams], dtype=np.int64)
        order = np.argsort(keys)
        self.bigram_keys = keys[order]
        self.bigram_col = np.asarray([c for _, _, c in bigrams], dtype=np.int64)[order]
        self.size = size

    def counts(self, lemma_lists: Sequence[Sequence[str]]) -> csr_matrix:
        """Raw 1-2-gram counts, one row per lemma list."""
        get = self.ids.get
        unknown = self.size - 1
        # Lemma lists are lower-case as otklik.nlp.morph makes them, which is what a
        # lower-casing vectorizer would have seen.
        lengths = [len(lemmas) for lemmas in lemma_lists]
        flat = np.fromiter(map(get, chain.from_iterable(lemma_lists), repeat(unknown)),
                           dtype=np.int64, count=sum(lengths))
        n_docs = len(lemma_lists)
        tok = flat
        doc = np.repeat(np.arange(n_docs, dtype=np.int64), lengths)
        uni = self.unigram_col[tok]
        keep = uni >= 0
        rows, cols = [doc[keep]], [uni[keep]]
        if len(tok) > 1 and len(self.bigram_keys):
            first, second = tok[:-1], tok[1:]
            same_doc = doc[:-1] == doc[1:]
            known = same_doc & (first != unknown) & (second != unknown)
            keys = first[known] * self.size + second[known]
            pos = np.searchsorted(self.bigram_keys, keys)
            pos[pos >= len(self.bigram_keys)] = 0
            hit = self.bigram_keys[pos] == keys
            rows.append(doc[:-1][known][hit])
            cols.append(self.bigram_col[pos[hit]])
        keys, counts = np.unique(np.concatenate(rows) * self.n_features + np.concatenate(cols),
                                 return_counts=True)
        row = keys // self.n_features
        indptr = np.zeros(n_docs + 1, dtype=np.int64)
        np.cumsum(np.bincount(row, minlength=n_docs), out=indptr[1:])
        return csr_matrix(
            (counts.astype(np.float32), (keys % self.n_features).astype(np.int32), indptr),
            shape=(n_docs, self.n_features),
        )


def lemma_ngram_counts(
    vectorizer: TfidfVectorizer,
    lemma_lists: Sequence[Sequence[str]],
    index: LemmaNgramIndex | None = None,
) -> csr_matrix:
    """Counts of a word vectorizer (``token_pattern=r"\\S+"``) from lemma lists.

    Equals ``vectorizer`` counting ``" ".join(lemmas)``: lemmas are words without spaces,
    so the join and re-split give back the same list. 1-2-grams (the recipe's) go through
    a :class:`LemmaNgramIndex` (pass one to reuse it); other ranges are counted one
    n-gram string at a time.
    """
    low, high = vectorizer.ngram_range
    if (low, high) in ((1, 1), (1, 2)):
        return (index or LemmaNgramIndex(vectorizer)).counts(lemma_lists)
    vocabulary: dict[str, int] = vectorizer.vocabulary_
    lowercase = vectorizer.lowercase
    indices: list[int] = []
    indptr = [0]
    for raw in lemma_lists:
        lemmas = [w.lower() for w in raw] if lowercase else list(raw)
        n = len(lemmas)
        for size in range(low, high + 1):
            for i in range(n - size + 1):
                col = vocabulary.get(" ".join(lemmas[i : i + size]))
                if col is not None:
                    indices.append(col)
        indptr.append(len(indices))
    matrix = csr_matrix(
        (np.ones(len(indices), dtype=np.float32), np.asarray(indices, dtype=np.int32),
         np.asarray(indptr, dtype=np.int64)),
        shape=(len(lemma_lists), len(vocabulary)),
    )
    matrix.sum_duplicates()
    return matrix


def lemma_ngram_tfidf(
    vectorizer: TfidfVectorizer,
    lemma_lists: Sequence[Sequence[str]],
    index: LemmaNgramIndex | None = None,
) -> csr_matrix:
    """The same matrix as ``vectorizer.transform([" ".join(l) for l in lemma_lists])``."""
    return apply_tfidf(lemma_ngram_counts(vectorizer, lemma_lists, index), vectorizer)


# --- the pipeline's place and topic as features (executor models) ----------------------------
_territory_lock = threading.Lock()
_territory: object | None = None


def _territory_stage() -> object:
    """The process-wide territory stage (the gazetteer is loaded once)."""
    global _territory
    with _territory_lock:
        if _territory is None:
            from otklik.nlp.territory import TerritoryStage

            _territory = TerritoryStage()
        return _territory


def place_of(text: str, region_hint: str | None) -> tuple[str | None, str | None, str | None]:
    """(region code, municipality key, settlement key) the territory stage finds in a text."""
    stage = _territory_stage()
    value = stage.recognize(text, region_hint).value or {}  # type: ignore[attr-defined]
    region = value.get("region") or {}
    muni = value.get("municipality") or {}
    settlement = value.get("settlement") or {}
    return (region.get("code") if isinstance(region, dict) else None,
            muni.get("key") if isinstance(muni, dict) else None,
            settlement.get("key") if isinstance(settlement, dict) else None)


def context_tokens(place: tuple[str | None, str | None, str | None], topic: str | None
                   ) -> list[str]:
    """The context features of a text: where (region, municipality, settlement), what (the
    rubricator's best topic) and where × what (who answers often depends on both: the roads
    of a town are its administration's, the power lines its grid's)."""
    region, muni, settlement = place
    where = muni or (f"р:{region}" if region else "?")
    what = topic or "?"
    out = [f"м:{where}", f"т:{what}", f"м×т:{where}|{what}"]
    if settlement:
        out.append(f"н:{settlement}")
    return out


class ContextBlock:
    """One-hot columns of :func:`context_tokens`, vocabulary fixed at fit."""

    def __init__(self) -> None:
        self.vocabulary: dict[str, int] = {}

    def fit(self, rows: Sequence[Sequence[str]]) -> ContextBlock:
        for row in rows:
            for token in row:
                self.vocabulary.setdefault(token, len(self.vocabulary))
        return self

    def transform(self, rows: Sequence[Sequence[str]], weight: float) -> csr_matrix:
        indptr = [0]
        indices: list[int] = []
        vocabulary = self.vocabulary
        for row in rows:
            columns = sorted({vocabulary[t] for t in row if t in vocabulary})
            indices.extend(columns)
            indptr.append(len(indices))
        data = np.full(len(indices), weight, dtype=np.float32)
        return csr_matrix((data, np.asarray(indices, dtype=np.int32), np.asarray(indptr)),
                          shape=(len(rows), max(1, len(vocabulary))))

    def names(self) -> list[str]:
        by_column = sorted(self.vocabulary, key=lambda t: self.vocabulary[t])
        return [f"контекст:{t}" for t in by_column] or ["контекст:-"]
