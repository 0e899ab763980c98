"""Near-duplicate detection: reposts, copy-paste campaigns, lightly edited copies.

Each text gets a MinHash (datasketch's "affine32" scheme, computed for a whole batch at
once with numpy) over character 5-gram shingles of its normalized form; the 16 low bits
of each of the 64 values are kept (b-bit MinHash: collisions of unequal values are 1 in
65,536) and encoded as a 171-character base64url string. That string is the stage's
``key``: stored with the message, it lets a worker rebuild the in-memory LSH index (the
bands datasketch's MinHashLSH would use, hashed into sorted numpy arrays) after a restart
or from other workers' rows (:meth:`DedupStage.seed`) without the texts.
"""

from __future__ import annotations

import base64
import re
import threading
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import numpy as np
from datasketch import MinHash, MinHashLSH

from otklik.nlp.base import Doc, Stage, StageResult

NUM_PERM = 64
SHINGLE = 5
_SCHEME = "affine32"
_SEED = 1
_NON_WORD_RE = re.compile(r"[\W_]+")
_MAX_CHARS = 20_000


def _identity(value: int) -> int:
    """Shingles are hashed in bulk by :func:`shingle_hashes`; datasketch gets the integers."""
    return value


_PROTO = MinHash(num_perm=NUM_PERM, seed=_SEED, hashfunc=_identity, scheme=_SCHEME)
_FNV_PRIME = np.uint64(0x100000001B3)
# The "affine32" scheme of datasketch, applied to many texts at once with numpy: the
# MurmurHash3 32-bit finalizer, then h * a_k + b_k mod 2^32 per permutation, then the
# minimum per text. The result is bit-for-bit datasketch's (keys stored in the database
# stay comparable); tests check it against MinHash.update_batch.
_PERM_A = np.asarray(_PROTO.permutations[0], dtype=np.uint32)
_PERM_B = np.asarray(_PROTO.permutations[1], dtype=np.uint32)
_FMIX32 = (np.uint32(16), np.uint32(0x85EBCA6B), np.uint32(13), np.uint32(0xC2B2AE35),
           np.uint32(16))
# Shingles hashed in one numpy block (x 64 permutations x 4 bytes: ~2 MB). Small enough for
# the permuted block to stay in the CPU cache: 65,536 (16 MB) made the MinHash of a batch
# three times slower, most of all on a busy machine, where memory bandwidth is shared.
_BLOCK_SHINGLES = 8_192
# Rows added since the last merge are indexed in dicts; this many at a time are merged into
# the index's sorted arrays (a merge copies the arrays: ~1 µs per row at 200,000 rows held).
_RECENT_ROWS = 4_096
# The rank of a text whose id is not a database id: after every database id, in arrival order.
_LATE = 1 << 62
# Random odd 64-bit weights of the band hash (fixed: nothing of it is stored).
_BAND_WEIGHTS = np.random.default_rng(20261129).integers(
    0, 2**63, NUM_PERM, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
_NO_ROWS = np.zeros(0, dtype=np.intp)
_NO_SIMS = np.zeros(0, dtype=np.float64)
#: At most this many later copies are named in the explanation of an original seen late.
MAX_NEWER = 20


def canonical(text: str) -> str:
    """The form that is compared: lowercase, 'ё'→'е', only letters/digits and single spaces."""
    return _NON_WORD_RE.sub(" ", text[:_MAX_CHARS].lower().replace("ё", "е")).strip()


def shingle_hashes(text: str) -> np.ndarray:
    """Distinct 32-bit hashes of the character 5-grams of the canonical text.

    A rolling multiplicative hash over code points, computed with numpy for the whole
    text at once: hashing 5-gram strings one by one in Python cost ~1 ms per message.
    """
    return _shingles(canonical(text))


def _shingles(canon: str) -> np.ndarray:
    """:func:`shingle_hashes` of a text already in :func:`canonical` form."""
    if not canon:
        return np.zeros(0, dtype=np.uint64)
    cps = np.frombuffer(canon.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = max(len(cps) - SHINGLE + 1, 1)
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(min(SHINGLE, len(cps))):
            h = h * _FNV_PRIME + cps[k : k + n]
        h ^= h >> np.uint64(29)
    return np.unique(h & np.uint64(0xFFFFFFFF))


def hashvalues(text: str) -> np.ndarray | None:
    """The 64 16-bit MinHash values of a text (None for an empty text)."""
    return hashvalues_batch([text])[0]


def _fmix32(hv: np.ndarray) -> np.ndarray:
    s1, m1, s2, m2, s3 = _FMIX32
    hv = hv ^ (hv >> s1)
    hv = hv * m1
    hv = hv ^ (hv >> s2)
    hv = hv * m2
    return hv ^ (hv >> s3)


def _minhash_rows(hv: np.ndarray, starts: np.ndarray) -> np.ndarray:
    """16-bit MinHash rows of several texts whose shingle hashes are concatenated in ``hv``
    (uint32; text k's run begins at ``starts[k]``; duplicates do not change a minimum)."""
    hv = _fmix32(hv)
    # Permutations along the first axis: the minimum then runs over contiguous memory,
    # several times faster than over the other layout.
    phv = _PERM_A[:, None] * hv[None, :] + _PERM_B[:, None]  # uint32 wraps: mod 2^32
    rows = np.minimum.reduceat(phv, starts, axis=1).T
    return (rows & np.uint32(0xFFFF)).astype(np.uint16)


def _window_hashes(canons: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Shingle hashes of texts of at least SHINGLE characters, in one numpy pass.

    The texts are hashed as one string; windows that cross from one text into the next
    are dropped. Returns (uint32 hashes, start of each text's run).
    """
    lens = np.fromiter((len(c) for c in canons), dtype=np.intp, count=len(canons))
    cps = np.frombuffer("".join(canons).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    n = len(cps) - SHINGLE + 1
    h = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(SHINGLE):
            h = h * _FNV_PRIME + cps[k : k + n]
        h ^= h >> np.uint64(29)
    firsts = np.cumsum(lens) - lens  # where each text begins in the joined string
    windows = lens - SHINGLE + 1  # windows that lie inside each text
    offset = np.arange(int(windows.sum())) - np.repeat(np.cumsum(windows) - windows, windows)
    keep = np.repeat(firsts, windows) + offset
    return (h[keep] & np.uint64(0xFFFFFFFF)).astype(np.uint32), np.cumsum(windows) - windows


def hashvalues_batch(texts: Sequence[str]) -> list[np.ndarray | None]:
    """:func:`hashvalues` of many texts, hashed together (much cheaper per text)."""
    return _hash_canonicals([canonical(text) for text in texts])


def _hash_canonicals(canons: Sequence[str]) -> list[np.ndarray | None]:
    out: list[np.ndarray | None] = [None] * len(canons)
    pending: list[int] = []
    size = 0

    def flush() -> None:
        nonlocal size
        if pending:
            hv, starts = _window_hashes([canons[i] for i in pending])
            for i, row in zip(pending, _minhash_rows(hv, starts), strict=True):
                out[i] = row
        pending.clear()
        size = 0

    for i, canon in enumerate(canons):
        if not canon:
            continue
        if len(canon) < SHINGLE:  # one "shingle": the whole short text
            hv = _shingles(canon).astype(np.uint32)
            out[i] = _minhash_rows(hv, np.zeros(1, dtype=np.intp))[0]
            continue
        if size and size + len(canon) > _BLOCK_SHINGLES:
            flush()
        pending.append(i)
        size += len(canon)
    flush()
    return out


def encode_signature(values: np.ndarray) -> str:
    """16-bit values -> compact base64url string (171 chars for 64 values)."""
    return base64.urlsafe_b64encode(values.astype(">u2").tobytes()).decode("ascii").rstrip("=")


def _batch_signatures(matrix: np.ndarray) -> list[str]:
    """:func:`encode_signature` of each row of a (texts x 64) matrix, converted at once."""
    raw = matrix.astype(">u2").tobytes()
    width = NUM_PERM * 2
    encode = base64.urlsafe_b64encode
    return [encode(raw[i : i + width]).decode("ascii").rstrip("=")
            for i in range(0, len(raw), width)]


def decode_signature(signature: str) -> np.ndarray:
    """Inverse of :func:`encode_signature`; raises ValueError on a malformed string."""
    raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
    if len(raw) != NUM_PERM * 2:
        raise ValueError("not a dedup signature")
    return np.frombuffer(raw, dtype=">u2").astype(np.uint16)


def signature(text: str) -> str:
    """Signature of a text ("" for an empty one): store it as the message's dedup key."""
    values = hashvalues(text)
    return "" if values is None else encode_signature(values)


def similarity(sig_a: str, sig_b: str) -> float:
    """Estimated Jaccard similarity of two signatures (share of equal values)."""
    if not sig_a or not sig_b:
        return 0.0
    return float(np.mean(decode_signature(sig_a) == decode_signature(sig_b)))


class DedupStage(Stage):
    """Recognise near-copies across batches; value = {"key", "duplicate_of"}.

    The index keeps, per LSH band, a 64-bit hash of the band's values: sorted numpy arrays
    for most texts (rows are merged into them thousands at a time) and dicts for the texts
    added since the last merge, about 0.5 KB per remembered text (dicts alone took 2.5 KB,
    which a worker's memory could not afford for a window of its database). A hash
    collision only adds a candidate: the exact comparison filters it.

    Order: by default the first text seen is the original (the file form's order). With
    ``ids_ordered`` (the database path, where ids are given at intake in arrival order) the
    original is the smallest id, in whatever order texts reach the stage: a copy never
    points at a larger id, and a text that turns out to be older than copies seen before it
    lists them in its explanation (``newer``) and becomes their original in memory.

    ``capacity`` bounds the memory: past it (plus a margin), the texts of smallest rank
    (oldest ids) are forgotten; their copies still name them as the original. One lock
    guards the index, so a pipeline shared by threads is safe (hashing runs outside it).
    """

    name: ClassVar[str] = "dedup"

    def __init__(self, threshold: float = 0.8, min_chars: int = 20, *,
                 ids_ordered: bool = False, capacity: int | None = None) -> None:
        self.threshold = threshold
        # Very short texts ("Спасибо!", "+") coincide without being copies of anything.
        self.min_chars = min_chars
        self.ids_ordered = ids_ordered
        self.capacity = capacity
        # LSH only proposes candidates and the exact threshold filters them, so the index is
        # tuned for recall: at 0.8 it uses 12 bands of 5 and finds 99% of pairs at J=0.8
        # (datasketch's balanced default, 5 bands of 11, would miss 64% of them).
        lsh_threshold = min(max(threshold - 0.1, 0.3), 0.85)
        lsh = MinHashLSH(threshold=lsh_threshold, num_perm=NUM_PERM, weights=(0.05, 0.95))
        # The bands datasketch chose (contiguous from the first value), hashed by ourselves.
        self._bands: list[tuple[int, int]] = list(lsh.hashranges)
        self._starts = np.asarray([start for start, _ in self._bands], dtype=np.intp)
        self._end = self._bands[-1][1]
        self._lock = threading.RLock()
        self._reset()

    def _reset(self) -> None:
        bands = len(self._bands)
        # Merged rows: per band, sorted hashes and the row of each.
        self._fkeys: list[np.ndarray] = [np.zeros(0, dtype=np.uint64) for _ in range(bands)]
        self._frows: list[np.ndarray] = [np.zeros(0, dtype=np.int32) for _ in range(bands)]
        # Rows added since the last merge: per band, hash -> row or rows.
        self._recent: list[dict[int, int | list[int]]] = [{} for _ in range(bands)]
        self._recent_rows: list[int] = []
        # Signatures as rows of one matrix, so that all candidates of a query are compared
        # in one numpy operation; the rank of each row says which text is the earlier.
        self._rows: dict[str, int] = {}
        self._ids: list[str] = []
        self._matrix = np.zeros((1024, NUM_PERM), dtype=np.uint16)
        self._rank = np.zeros(1024, dtype=np.int64)
        self._root: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def missing(self, doc_ids: Iterable[str]) -> list[str]:
        """Those of these ids the stage does not hold."""
        with self._lock:
            return [doc_id for doc_id in doc_ids if doc_id not in self._rows]

    def clear(self) -> None:
        """Forget every text (a worker that finds itself on another database)."""
        with self._lock:
            self._reset()

    # --- hashing and ranks --------------------------------------------------------------
    def _band_hashes(self, matrix: np.ndarray) -> np.ndarray:
        """(texts x bands) 64-bit hashes of the LSH bands of each row of a (texts x 64)
        matrix: a weighted sum of the band's values, mod 2^64, with random odd weights."""
        with np.errstate(over="ignore"):
            weighted = matrix[:, : self._end].astype(np.uint64) * _BAND_WEIGHTS[: self._end]
            return np.add.reduceat(weighted, self._starts, axis=1)

    def _band_keys(self, values: np.ndarray) -> list[int]:
        return [int(h) for h in self._band_hashes(values[None, :])[0].tolist()]

    def _batch_band_keys(self, matrix: np.ndarray) -> list[list[int]]:
        """:meth:`_band_keys` of each row of a (texts x 64) matrix, hashed at once."""
        return [[int(h) for h in row] for row in self._band_hashes(matrix).tolist()]

    def _new_rank(self, doc_id: str, row: int) -> int:
        if self.ids_ordered and doc_id.isascii() and doc_id.isdigit():
            return int(doc_id)
        return _LATE + row  # arrival order, after every database id

    def _rank_of(self, doc_id: str) -> int:
        """The rank of a text held or named as an original (a forgotten one: its id, or -1)."""
        row = self._rows.get(doc_id)
        if row is not None:
            return int(self._rank[row])
        if self.ids_ordered and doc_id.isascii() and doc_id.isdigit():
            return int(doc_id)
        return -1

    def _find(self, doc_id: str) -> str:
        """The original of a text: its link followed to the end (links only go back)."""
        root = self._root.get(doc_id, doc_id)
        top = root
        for _ in range(64):
            following = self._root.get(top, top)
            if following == top:
                break
            top = following
        if top != root:
            self._root[doc_id] = top
        return top

    # --- the index ----------------------------------------------------------------------
    def _frozen_candidates(self, hashes: np.ndarray) -> list[list[int]]:
        """Merged rows sharing a band with each row of a (texts x bands) hash matrix."""
        out: list[list[int]] = [[] for _ in range(len(hashes))]
        for band, (keys, rows) in enumerate(zip(self._fkeys, self._frows, strict=True)):
            if not len(keys):
                continue
            column = hashes[:, band]
            low = np.searchsorted(keys, column, side="left")
            high = np.searchsorted(keys, column, side="right")
            for i in np.flatnonzero(high > low).tolist():
                out[i].extend(rows[low[i] : high[i]].tolist())
        return out

    def _matches(self, values: np.ndarray, keys: list[int], frozen: list[int]
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Rows held that are near-copies of ``values`` and their similarities."""
        found = set(frozen)
        for table, key in zip(self._recent, keys, strict=True):
            bucket = table.get(key)
            if bucket is None:
                continue
            if type(bucket) is int:
                found.add(bucket)
            else:
                found.update(bucket)  # type: ignore[arg-type]
        if not found:
            return _NO_ROWS, _NO_SIMS
        rows = np.fromiter(found, dtype=np.intp, count=len(found))
        # The equal values per row (a sum of booleans: count_nonzero's wrapper costs more).
        sims = (self._matrix[rows] == values).sum(axis=1) / NUM_PERM
        ok = sims >= self.threshold
        return rows[ok], sims[ok]

    def _grow(self, rows: int) -> None:
        if rows <= len(self._matrix):
            return
        size = max(2 * len(self._matrix), rows, 1024)
        grown = np.zeros((size, NUM_PERM), dtype=np.uint16)
        grown[: len(self._ids)] = self._matrix[: len(self._ids)]
        rank = np.zeros(size, dtype=np.int64)
        rank[: len(self._ids)] = self._rank[: len(self._ids)]
        self._matrix, self._rank = grown, rank

    def _add(self, doc_id: str, values: np.ndarray, keys: list[int]) -> int:
        row = len(self._ids)
        self._grow(row + 1)
        for table, key in zip(self._recent, keys, strict=True):
            bucket = table.get(key)
            if bucket is None:
                table[key] = row
            elif type(bucket) is int:
                table[key] = [bucket, row]
            else:
                bucket.append(row)  # type: ignore[union-attr]
        self._recent_rows.append(row)
        self._matrix[row] = values
        self._rank[row] = self._new_rank(doc_id, row)
        self._rows[doc_id] = row
        self._ids.append(doc_id)
        return row

    def _insert(self, doc_id: str, values: np.ndarray, keys: list[int], frozen: list[int]
                ) -> tuple[str | None, str | None, float, list[str]]:
        """Index a new text: (its original, the nearest earlier copy, their similarity, the
        ids of copies held that rank after it, earliest first)."""
        rows, sims = self._matches(values, keys, frozen)
        row = self._add(doc_id, values, keys)  # first: adding may grow the rank array
        own = int(self._rank[row])
        root: str | None = None
        nearest: str | None = None
        sim = 0.0
        newer: list[str] = []
        if len(rows):
            ranks = self._rank[rows]
            earlier = np.flatnonzero(ranks < own)
            if len(earlier):
                # Prefer the earliest among true near-copies: the original, not a repost.
                k = earlier[0] if len(earlier) == 1 else earlier[np.argmin(ranks[earlier])]
                nearest, sim = self._ids[int(rows[k])], float(sims[k])
                root = self._find(nearest)
            later = np.flatnonzero(ranks > own)
            if len(later):
                later = later[np.argsort(ranks[later], kind="stable")]
                newer = [self._ids[int(rows[k])] for k in later]
        mine = root or doc_id
        self._root[doc_id] = mine
        mine_rank = self._rank_of(mine)
        for other in newer:  # an older text seen late: it is the original of its copies
            top = self._find(other)
            if self._rank_of(top) > mine_rank:
                self._root[top] = mine
        return root, nearest, sim, newer

    def _bulk(self, rows: list[tuple[str, np.ndarray, str]]) -> None:
        """Index stored (id, values, original) rows as they were linked, at once."""
        first = len(self._ids)
        self._grow(first + len(rows))
        block = np.stack([values for _, values, _ in rows])
        self._matrix[first : first + len(rows)] = block
        for offset, (doc_id, _, original) in enumerate(rows):
            row = first + offset
            self._rank[row] = self._new_rank(doc_id, row)
            self._rows[doc_id] = row
            self._ids.append(doc_id)
            # A link to a later text (stored before copies were ordered) is not followed.
            later = self.ids_ordered and self._rank_of(original) >= self._rank[row]
            self._root[doc_id] = doc_id if later else original
        hashes = self._band_hashes(block)
        numbers = np.arange(first, first + len(rows), dtype=np.int32)
        for band in range(len(self._bands)):
            self._merge(band, hashes[:, band], numbers)

    def _merge(self, band: int, keys: np.ndarray, rows: np.ndarray) -> None:
        order = np.argsort(keys, kind="stable")
        keys, rows = keys[order], rows[order]
        at = np.searchsorted(self._fkeys[band], keys, side="right")
        self._fkeys[band] = np.insert(self._fkeys[band], at, keys)
        self._frows[band] = np.insert(self._frows[band], at, rows)

    def _maintain(self) -> None:
        """Merge the recent rows into the sorted arrays; forget the oldest past capacity."""
        if self.capacity is not None and len(self._ids) > self.capacity + max(
                self.capacity // 4, _RECENT_ROWS):
            self._forget(self.capacity)
        elif len(self._recent_rows) >= _RECENT_ROWS:
            rows = np.asarray(self._recent_rows, dtype=np.int32)
            hashes = self._band_hashes(self._matrix[rows])
            for band in range(len(self._bands)):
                self._merge(band, hashes[:, band], rows)
            self._recent = [{} for _ in self._bands]
            self._recent_rows = []

    def _forget(self, keep: int) -> None:
        """Keep the ``keep`` texts of largest rank, re-indexed at once."""
        held = len(self._ids)
        kept = np.sort(np.argsort(self._rank[:held], kind="stable")[held - keep :])
        ids = [self._ids[row] for row in kept.tolist()]
        roots = {doc_id: self._find(doc_id) for doc_id in ids}
        matrix, rank = self._matrix[kept], self._rank[kept]
        self._reset()
        self._grow(len(ids))
        self._matrix[: len(ids)], self._rank[: len(ids)] = matrix, rank
        self._ids = ids
        self._rows = {doc_id: row for row, doc_id in enumerate(ids)}
        self._root = roots
        hashes = self._band_hashes(matrix)
        for band in range(len(self._bands)):
            order = np.argsort(hashes[:, band], kind="stable")
            self._fkeys[band] = hashes[order, band]
            self._frows[band] = order.astype(np.int32)

    # --- the stage ----------------------------------------------------------------------
    def seed(self, pairs: Iterable[Sequence[Any]]) -> int:
        """Load stored ``(doc id, key)`` or ``(doc id, key, original id)`` rows in arrival
        order; returns how many were added. Ids already held are skipped, so an overlapping
        catch-up adds nothing twice.

        With the original given (what was stored as ``duplicate_of``; None for an
        original) rows are indexed at once as they were linked; without it, near-copies
        among the seeded rows are linked as if they had been processed in that order.
        """
        added = 0
        linked: list[tuple[str, np.ndarray, str]] = []
        pending: set[str] = set()
        with self._lock:
            for pair in pairs:
                doc_id, key = str(pair[0]), pair[1]
                if not key or doc_id in self._rows or doc_id in pending:
                    continue
                try:
                    values = decode_signature(key)
                except ValueError:
                    continue
                added += 1
                if len(pair) > 2:
                    original = pair[2]
                    linked.append((doc_id, values, doc_id if original in (None, "")
                                   else str(original)))
                    pending.add(doc_id)
                    continue
                if linked:
                    self._bulk(linked)
                    linked, pending = [], set()
                keys = self._band_keys(values)
                frozen = self._frozen_candidates(np.asarray([keys], dtype=np.uint64))[0]
                self._insert(doc_id, values, keys, frozen)
                if len(self._recent_rows) >= _RECENT_ROWS:
                    self._maintain()
            if linked:
                self._bulk(linked)
            self._maintain()
        return added

    def check(
        self,
        doc_id: str,
        text: str,
        values: np.ndarray | None = None,
        canon_len: int | None = None,
        key: str | None = None,
        band_keys: list[int] | None = None,
    ) -> StageResult:
        """Compute the key of one text, look it up, then index it.

        ``values`` (the text's :func:`hashvalues`) and ``canon_len`` (the length of its
        :func:`canonical` form) save the work when the caller computed them already, and
        so do ``key`` (their :func:`encode_signature`) and ``band_keys`` (their LSH bands).
        """
        with self._lock:
            result = self._check(doc_id, text, values, canon_len, key, band_keys, None)
            self._maintain()
        return result

    def _check(
        self,
        doc_id: str,
        text: str,
        values: np.ndarray | None,
        canon_len: int | None,
        key: str | None,
        band_keys: list[int] | None,
        frozen: list[int] | None,
    ) -> StageResult:
        if canon_len is None or values is None:
            canon = canonical(text)
            canon_len = len(canon)
            values = _hash_canonicals([canon])[0]
            key = band_keys = frozen = None
        if values is None:
            return StageResult({"key": "", "duplicate_of": None}, 0.0, {"reason": "empty"})
        if key is None:
            key = encode_signature(values)
        explain: dict[str, Any] = {"shingles": max(canon_len - SHINGLE + 1, 1)}
        if canon_len < self.min_chars:
            explain["reason"] = "too short to compare"
            return StageResult({"key": key, "duplicate_of": None}, 0.0, explain)
        if doc_id in self._rows:
            # A replay of an already indexed message: report what it is linked to.
            first = self._find(doc_id)
            dup = first if first != doc_id else None
            row = self._rows.get(first) if dup else None
            sim = float(np.mean(self._matrix[row] == values)) if row is not None else 0.0
            explain["replayed"] = True
            return StageResult({"key": key, "duplicate_of": dup}, round(sim, 3), explain)
        keys = band_keys or self._band_keys(values)
        if frozen is None:
            frozen = self._frozen_candidates(np.asarray([keys], dtype=np.uint64))[0]
        root, nearest, sim, newer = self._insert(doc_id, values, keys, frozen)
        if nearest:
            explain["nearest"] = nearest
            if root != nearest:
                explain["via"] = nearest
        if newer:
            explain["newer"] = newer[:MAX_NEWER]
        return StageResult({"key": key, "duplicate_of": root}, round(sim, 3), explain)

    def process(self, docs: Sequence[Doc]) -> list[StageResult]:
        """One result per document; copies within the same batch are found too."""
        texts = [doc.clean or doc.text or "" for doc in docs]
        canons = [canonical(text) for text in texts]
        try:
            batch_values = _hash_canonicals(canons)
        except Exception:  # noqa: BLE001 - fall back to one text at a time below
            batch_values = [None] * len(docs)
        # Signatures and LSH band hashes of the whole batch, computed at once.
        hashed = [i for i, values in enumerate(batch_values) if values is not None]
        sigs: list[str | None] = [None] * len(docs)
        bands: list[list[int] | None] = [None] * len(docs)
        hashes: np.ndarray | None = None
        if hashed:
            try:
                matrix = np.stack([v for v in batch_values if v is not None])
                hashes = self._band_hashes(matrix)
                for i, sig, keys in zip(hashed, _batch_signatures(matrix),
                                        hashes.tolist(), strict=True):
                    sigs[i], bands[i] = sig, [int(h) for h in keys]
            except Exception:  # noqa: BLE001 - check() computes them one by one
                hashes = None
        results: list[StageResult] = []
        with self._lock:
            frozen: list[list[int] | None] = [None] * len(docs)
            if hashes is not None:
                for i, rows in zip(hashed, self._frozen_candidates(hashes), strict=True):
                    frozen[i] = rows
            for doc, text, canon, values, sig, keys, merged in zip(
                    docs, texts, canons, batch_values, sigs, bands, frozen, strict=True):
                try:
                    results.append(self._check(str(doc.id), text, values, len(canon), sig,
                                               keys, merged))
                except Exception as exc:  # noqa: BLE001 - never break the batch
                    results.append(
                        StageResult({"key": "", "duplicate_of": None}, 0.0, {"error": repr(exc)})
                    )
            self._maintain()
        return results
