"""The fast paths of the stages give exactly what the straightforward code gives.

Speed work replaced per-text loops by batch numpy code, one-pass scans and cheap
pre-checks; these tests pin each fast path to a plain reference implementation.
"""

from __future__ import annotations

import numpy as np
import pytest
from datasketch import MinHash

from otklik.nlp import dedup

TEXTS = [
    "Третий день нет воды на ул. Ленина, д. 12. Водоканал трубку не берёт!",
    "третий день нет воды на улице Ленина дом 12, водоканал не отвечает",
    "Спасибо!",
    "Да",
    "",
    "   ...   ",
    "Ямы на дороге в с. Ивановка Льговского р-на, машины ломают подвеску. " * 40,
    "Мусор не вывозят вторую неделю, контейнерная площадка переполнена 🤬",
]


def _datasketch_values(text: str) -> np.ndarray | None:
    """The MinHash of a text computed the slow way, with datasketch itself."""
    shingles = dedup.shingle_hashes(text)
    if not len(shingles):
        return None
    m = MinHash(num_perm=dedup.NUM_PERM, hashfunc=lambda v: v,
                permutations=dedup._PROTO.permutations, scheme="affine32")
    m.update_batch(shingles.tolist())
    return (np.asarray(m.hashvalues, dtype=np.uint64) & 0xFFFF).astype(np.uint16)


def test_batch_minhash_is_bit_for_bit_datasketch() -> None:
    batch = dedup.hashvalues_batch(TEXTS)
    for text, got in zip(TEXTS, batch, strict=True):
        want = _datasketch_values(text)
        if want is None:
            assert got is None
        else:
            assert got is not None and np.array_equal(got, want), text[:40]
        single = dedup.hashvalues(text)
        assert (single is None) == (want is None)


def test_batch_minhash_across_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    # Force many small blocks so that texts are split across block boundaries.
    monkeypatch.setattr(dedup, "_BLOCK_SHINGLES", 50)
    for text, got in zip(TEXTS, dedup.hashvalues_batch(TEXTS), strict=True):
        want = _datasketch_values(text)
        assert (got is None and want is None) or np.array_equal(got, want)
