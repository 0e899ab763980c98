"""Near-duplicate detection: reposts, copy-paste campaigns, lightly edited copies.

Each text gets a MinHash (datasketch's "affine32" scheme, computed for a whole batch at
once with numpy) over character 5-gram shingles of its normalized form; the 16 low bits
of each of the 64 values are kept (b-bit MinHash: collisions of unequal values are 1 in
65,536) and encoded as a 171-character base64url string. That string is the stage's
``key``: stored with the message, it lets a worker rebuild the in-memory LSH index (the
bands datasketch's MinHashLSH would use, in plain dicts) after a restart
(:meth:`DedupStage.seed`) without the texts.
"""

from __future__ import annotations

import base64
import re
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
    """Recognise near-copies across batches; value = {"key", "duplicate_of"}."""

    name: ClassVar[str] = "dedup"

    def __init__(self, threshold: float = 0.8, min_chars: int = 20) -> None:
        self.threshold = threshold
        # Very short texts ("Спасибо!", "+") coincide without being copies of anything.
        self.min_chars = min_chars
        # LSH only proposes candidates and the exact threshold filters them, so the index is
        # tuned for recall: at 0.8 it uses 12 bands of 5 and finds 99% of pairs at J=0.8
        # (datasketch's balanced default, 5 bands of 11, would miss 64% of them).
        lsh_threshold = min(max(threshold - 0.1, 0.3), 0.85)
        lsh = MinHashLSH(threshold=lsh_threshold, num_perm=NUM_PERM, weights=(0.05, 0.95))
        # The bands datasketch chose, kept in plain dicts (band bytes -> rows): the same
        # candidates as MinHashLSH, without its per-call object and byte-swapping costs.
        self._bands: list[tuple[int, int]] = list(lsh.hashranges)
        self._tables: list[dict[bytes, list[int]]] = [{} for _ in self._bands]
        # Signatures as rows of one matrix (row = arrival order), so that all candidates of
        # a query are compared in one numpy operation.
        self._rows: dict[str, int] = {}
        self._ids: list[str] = []
        self._matrix = np.zeros((1024, NUM_PERM), dtype=np.uint16)
        self._root: dict[str, str] = {}

    def __len__(self) -> int:
        return len(self._rows)

    def _band_keys(self, values: np.ndarray) -> list[bytes]:
        return [values[start:end].tobytes() for start, end in self._bands]

    def _batch_band_keys(self, matrix: np.ndarray) -> list[list[bytes]]:
        """:meth:`_band_keys` of each row of a (texts x 64) matrix, band by band."""
        columns = []
        for start, end in self._bands:
            raw = np.ascontiguousarray(matrix[:, start:end]).tobytes()
            width = (end - start) * matrix.itemsize
            columns.append([raw[i : i + width] for i in range(0, len(raw), width)])
        return [list(keys) for keys in zip(*columns, strict=True)]

    def _add(
        self, doc_id: str, values: np.ndarray, root: str | None, keys: list[bytes] | None = None
    ) -> None:
        if doc_id in self._rows:
            return
        row = len(self._ids)
        for table, key in zip(self._tables, keys or self._band_keys(values), strict=True):
            bucket = table.get(key)
            if bucket is None:
                table[key] = [row]
            else:
                bucket.append(row)
        if row == len(self._matrix):
            grown = np.zeros((2 * row, NUM_PERM), dtype=np.uint16)
            grown[:row] = self._matrix
            self._matrix = grown
        self._matrix[row] = values
        self._rows[doc_id] = row
        self._ids.append(doc_id)
        self._root[doc_id] = root or doc_id

    def seed(self, pairs: Iterable[tuple[str, str]]) -> int:
        """Load stored (doc id, key) pairs in arrival order; returns how many were added.

        Near-copies among the seeded pairs are linked to the first of them, as if they had
        been processed in that order.
        """
        added = 0
        for doc_id, key in pairs:
            if not key or doc_id in self._rows:
                continue
            try:
                values = decode_signature(key)
            except ValueError:
                continue
            keys = self._band_keys(values)
            match, _ = self._best_match(values, exclude=doc_id, keys=keys)
            self._add(str(doc_id), values, self._root.get(match) if match else None, keys)
            added += 1
        return added

    def _best_match(
        self, values: np.ndarray, exclude: str, keys: list[bytes] | None = None
    ) -> tuple[str | None, float]:
        found: set[int] = set()
        for table, key in zip(self._tables, keys or self._band_keys(values), strict=True):
            bucket = table.get(key)
            if bucket:
                found.update(bucket)
        skip = self._rows.get(exclude)
        found.discard(-1 if skip is None else skip)
        if not found:
            return None, 0.0
        rows = np.fromiter(found, dtype=np.intp, count=len(found))
        # The equal values per row (a sum of booleans: count_nonzero's wrapper costs more).
        sims = (self._matrix[rows] == values).sum(axis=1) / NUM_PERM
        ok = (sims >= self.threshold).nonzero()[0]
        if not len(ok):
            return None, 0.0
        # Prefer the earliest arrival among true near-copies: the original, not a repost.
        k = ok[0] if len(ok) == 1 else ok[np.argmin(rows[ok])]
        return self._ids[int(rows[k])], float(sims[k])

    def check(
        self,
        doc_id: str,
        text: str,
        values: np.ndarray | None = None,
        canon_len: int | None = None,
        key: str | None = None,
        band_keys: list[bytes] | None = None,
    ) -> StageResult:
        """Compute the key of one text, look it up, then index it.

        ``values`` (the text's :func:`hashvalues`) and ``canon_len`` (the length of its
        :func:`canonical` form) save the work when the caller computed them already, and
        so do ``key`` (their :func:`encode_signature`) and ``band_keys`` (their LSH bands).
        """
        if canon_len is None or values is None:
            canon = canonical(text)
            canon_len = len(canon)
            values = _hash_canonicals([canon])[0]
            key = band_keys = None
        if values is None:
            return StageResult({"key": "", "duplicate_of": None}, 0.0, {"reason": "empty"})
        if key is None:
            key = encode_signature(values)
        explain: dict[str, Any] = {"shingles": max(canon_len - SHINGLE + 1, 1)}
        if canon_len < self.min_chars:
            explain["reason"] = "too short to compare"
            return StageResult({"key": key, "duplicate_of": None}, 0.0, explain)
        if doc_id in self._rows:
            # A replay of an already indexed message: report what it was linked to.
            first = self._root[doc_id]
            dup = first if first != doc_id else None
            sim = float(np.mean(self._matrix[self._rows[first]] == values)) if dup else 0.0
            explain["replayed"] = True
            return StageResult({"key": key, "duplicate_of": dup}, round(sim, 3), explain)
        keys = band_keys or self._band_keys(values)
        match, sim = self._best_match(values, exclude=doc_id, keys=keys)
        root = self._root[match] if match else None
        self._add(doc_id, values, root, keys)
        if match:
            explain["nearest"] = match
            if root != match:
                explain["via"] = match
        return StageResult({"key": key, "duplicate_of": root}, round(sim, 3), explain)

    def process(self, docs: Sequence[Doc]) -> list[StageResult]:
        """One result per document; copies within the same batch are found too."""
        texts = [doc.clean or doc.text or "" for doc in docs]
        canons = [canonical(text) for text in texts]
        try:
            batch_values = _hash_canonicals(canons)
        except Exception:  # noqa: BLE001 - fall back to one text at a time below
            batch_values = [None] * len(docs)
        # Signatures and LSH band keys of the whole batch, converted at once.
        hashed = [i for i, values in enumerate(batch_values) if values is not None]
        sigs: list[str | None] = [None] * len(docs)
        bands: list[list[bytes] | None] = [None] * len(docs)
        if hashed:
            try:
                matrix = np.stack([v for v in batch_values if v is not None])
                for i, sig, keys in zip(hashed, _batch_signatures(matrix),
                                        self._batch_band_keys(matrix), strict=True):
                    sigs[i], bands[i] = sig, keys
            except Exception:  # noqa: BLE001 - check() computes them one by one
                pass
        results: list[StageResult] = []
        for doc, text, canon, values, sig, keys in zip(docs, texts, canons, batch_values, sigs,
                                                       bands, strict=True):
            try:
                results.append(self.check(str(doc.id), text, values, len(canon), sig, keys))
            except Exception as exc:  # noqa: BLE001 - never break the batch
                results.append(
                    StageResult({"key": "", "duplicate_of": None}, 0.0, {"error": repr(exc)})
                )
        return results
