"""Near-duplicate detection: reposts, copy-paste campaigns, lightly edited copies.

Each text gets a MinHash (datasketch) over character 5-gram shingles of its normalized
form; the 16 low bits of each of the 64 values are kept (b-bit MinHash: collisions of
unequal values are 1 in 65,536) and encoded as a 171-character base64url string. That
string is the stage's ``key``: stored with the message, it lets a worker rebuild the
in-memory MinHashLSH index after a restart (:meth:`DedupStage.seed`) without the texts.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

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


def canonical(text: str) -> str:
    """The form that is compared: lowercase, 'ё'→'е', only letters/digits and single spaces."""
    return _NON_WORD_RE.sub(" ", text[:_MAX_CHARS].lower().replace("ё", "е")).strip()


def shingle_hashes(text: str) -> np.ndarray:
    """Distinct 32-bit hashes of the character 5-grams of the canonical text.

    A rolling multiplicative hash over code points, computed with numpy for the whole
    text at once: hashing 5-gram strings one by one in Python cost ~1 ms per message.
    """
    canon = canonical(text)
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
    sh = shingle_hashes(text)
    if not len(sh):
        return None
    m = MinHash(num_perm=NUM_PERM, hashfunc=_identity, permutations=_PROTO.permutations,
                scheme=_SCHEME)
    m.update_batch(sh.tolist())
    return (np.asarray(m.hashvalues, dtype=np.uint64) & 0xFFFF).astype(np.uint16)


def encode_signature(values: np.ndarray) -> str:
    """16-bit values -> compact base64url string (171 chars for 64 values)."""
    return base64.urlsafe_b64encode(values.astype(">u2").tobytes()).decode("ascii").rstrip("=")


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


def _lean(values: np.ndarray) -> LeanMinHash:
    return LeanMinHash(seed=_SEED, hashvalues=values.astype(np.uint32), scheme=_SCHEME)


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
        self._lsh = MinHashLSH(threshold=lsh_threshold, num_perm=NUM_PERM, weights=(0.05, 0.95))
        self._values: dict[str, np.ndarray] = {}
        self._root: dict[str, str] = {}
        self._order: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._values)

    def _add(self, doc_id: str, values: np.ndarray, root: str | None) -> None:
        if doc_id in self._values:
            return
        self._lsh.insert(doc_id, _lean(values), check_duplication=False)
        self._values[doc_id] = values
        self._root[doc_id] = root or doc_id
        self._order[doc_id] = len(self._order)

    def seed(self, pairs: Iterable[tuple[str, str]]) -> int:
        """Load stored (doc id, key) pairs in arrival order; returns how many were added.

        Near-copies among the seeded pairs are linked to the first of them, as if they had
        been processed in that order.
        """
        added = 0
        for doc_id, key in pairs:
            if not key or doc_id in self._values:
                continue
            try:
                values = decode_signature(key)
            except ValueError:
                continue
            match, _ = self._best_match(values, exclude=doc_id)
            self._add(str(doc_id), values, self._root.get(match) if match else None)
            added += 1
        return added

    def _best_match(self, values: np.ndarray, exclude: str) -> tuple[str | None, float]:
        best, best_sim, best_order = None, 0.0, 1 << 62
        for cand in self._lsh.query(_lean(values)):
            if cand == exclude:
                continue
            sim = float(np.mean(self._values[cand] == values))
            if sim < self.threshold:
                continue
            # Prefer the earliest arrival among true near-copies: the original, not a repost.
            order = self._order[cand]
            if order < best_order:
                best, best_sim, best_order = cand, sim, order
        return best, best_sim

    def check(self, doc_id: str, text: str) -> StageResult:
        """Compute the key of one text, look it up, then index it."""
        canon_len = len(canonical(text))
        values = hashvalues(text)
        if values is None:
            return StageResult({"key": "", "duplicate_of": None}, 0.0, {"reason": "empty"})
        key = encode_signature(values)
        explain: dict[str, Any] = {"shingles": max(canon_len - SHINGLE + 1, 1)}
        if canon_len < self.min_chars:
            explain["reason"] = "too short to compare"
            return StageResult({"key": key, "duplicate_of": None}, 0.0, explain)
        if doc_id in self._values:
            # A replay of an already indexed message: report what it was linked to.
            root = self._root[doc_id]
            dup = root if root != doc_id else None
            sim = float(np.mean(self._values[root] == values)) if dup else 0.0
            explain["replayed"] = True
            return StageResult({"key": key, "duplicate_of": dup}, round(sim, 3), explain)
        match, sim = self._best_match(values, exclude=doc_id)
        root = self._root[match] if match else None
        self._add(doc_id, values, root)
        if match:
            explain["nearest"] = match
            if root != match:
                explain["via"] = match
        return StageResult({"key": key, "duplicate_of": root}, round(sim, 3), explain)

    def process(self, docs: Sequence[Doc]) -> list[StageResult]:
        """One result per document; copies within the same batch are found too."""
        results: list[StageResult] = []
        for doc in docs:
            try:
                results.append(self.check(str(doc.id), doc.clean or doc.text or ""))
            except Exception as exc:  # noqa: BLE001 - never break the batch
                results.append(
                    StageResult({"key": "", "duplicate_of": None}, 0.0, {"error": repr(exc)})
                )
        return results
