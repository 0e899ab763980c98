"""Operator corrections of the problem index: merge, split, pin.

Kept apart from :mod:`otklik.problems.clustering` (matching) so each reads on its own;
:class:`~otklik.problems.clustering.ProblemIndex` exposes them as methods. They change the
in-memory state only; the caller persists the result.

Pins - how the caller must handle them: an operator's manual placement of a case (moving
it to a problem, taking it out of any problem, the cases moved by a split) is returned as
an :class:`Assignment` with ``pinned=True``. Store that flag on the case-problem link.
An automatic run must never overwrite a pinned link: when rebuilding an index, register
the stored pins with :meth:`ProblemIndex.pin` (or restore a :meth:`~ProblemIndex.to_dict`
snapshot) *before* replaying cases; :func:`assign` then returns the pinned placement
unchanged (``pinned=True``, reason «закреплено оператором»), and the caller should skip
writing it. Only another operator action changes a pinned link.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from otklik.nlp import dedup
from otklik.problems.clustering_state import Assignment, CaseFeatures, ProblemState
from otklik.problems.clustering_text import street_key

if TYPE_CHECKING:
    from otklik.problems.clustering import Prepared, ProblemIndex


def decode_signatures(signatures: Iterable[str]) -> list[np.ndarray]:
    """MinHash signatures back from their stored form; unreadable ones are skipped."""
    out = []
    for sig in signatures:
        try:
            out.append(dedup.decode_signature(sig))
        except ValueError:
            continue
    return out


def _same(a: Any, b: Any) -> Any:
    return a if a == b else None


def merge(index: ProblemIndex, a: str, b: str) -> ProblemState:
    """Merge problem ``b`` into ``a`` and return ``a``; ``b`` leaves the index.

    The place becomes what both share (two streets of one town -> the town). The
    caller relinks b's cases to a and marks b as merged; pins on b now point to a.
    """
    if a == b:
        return index.problems[a]
    sa, sb = index.problems[a], index.problems[b]
    index._unindex(sa)
    index._remove(b)
    same_settlement = sa.settlement_id == sb.settlement_id
    if sa.street_key != sb.street_key or not same_settlement:
        sa.street = None
    if not same_settlement:
        sa.settlement_id, sa.settlement_name = None, None
    if sa.municipality_id != sb.municipality_id:
        sa.municipality_id, sa.municipality_name = None, None
    sa.region = _same(sa.region, sb.region)
    sa.subtopic = sa.subtopic or sb.subtopic
    for code, n in sb.subtopics.items():
        sa.subtopics[code] = sa.subtopics.get(code, 0) + n
    for t, c in sb.terms.items():
        sa.terms[t] = sa.terms.get(t, 0.0) + c
    for s, c in sb.streets.items():
        sa.streets[s] = sa.streets.get(s, 0) + c
    sa.size += sb.size
    sa.first_seen = min(sa.first_seen, sb.first_seen)
    sa.last_seen = max(sa.last_seen, sb.last_seen)
    sa.case_ids |= sb.case_ids
    for cid in sb.case_ids:
        index._case_key[cid] = a
    for values in decode_signatures(sb.signatures):
        index._add_signature(sa, values)
    for cid, key in index.pins.items():
        if key == b:
            index.pins[cid] = a
    if len(sa.terms) > index.config.max_terms:
        index._trim_terms(sa)
    index._index(sa)
    index.retitle(sa)
    return sa

def split(
    index: ProblemIndex,
    key: str,
    moved: Sequence[CaseFeatures],
    remaining: Sequence[CaseFeatures] | None = None,
) -> ProblemState:
    """Move ``moved`` cases out of problem ``key`` into a new problem and return it.

    The moved cases are pinned to the new problem (an operator decided). Pass the
    cases that stay as ``remaining`` to rebuild the old problem exactly; without them
    the moved cases' terms are subtracted from its centroid.
    """
    if not moved:
        raise ValueError("split needs at least one case to move")
    old = index.problems[key]
    prepared = [index._prepare(f) for f in moved]
    for it in prepared:
        if it.f.case_id in old.case_ids and remaining is None:
            index._add_member(old, it, sign=-1)
        else:
            old.case_ids.discard(it.f.case_id)
            index._case_key.pop(it.f.case_id, None)
    if remaining is not None:
        rebuild(index, old, [index._prepare(f) for f in remaining])
    first = prepared[0].f
    new = ProblemState(
        topic=first.topic or old.topic,
        subtopic=first.subtopic or old.subtopic,
        region=first.region,
        municipality_id=first.municipality_id,
        settlement_id=first.settlement_id,
        street=first.street if prepared[0].street else None,
        first_seen=min(f.created_at for f in moved),
        last_seen=max(f.created_at for f in moved),
        settlement_name=first.settlement_name,
        municipality_name=first.municipality_name,
    )
    for f in moved[1:]:
        same_place = f.settlement_id == new.settlement_id
        if not same_place or street_key(f.street) != street_key(new.street):
            new.street = None
        if f.settlement_id != new.settlement_id:
            new.settlement_id, new.settlement_name = None, None
        if f.municipality_id != new.municipality_id:
            new.municipality_id, new.municipality_name = None, None
        new.region = _same(new.region, f.region)
    index._register(new)
    for it in prepared:
        index._add_member(new, it)
        index.pins[it.f.case_id] = new.key
    index.retitle(new)
    index.retitle(old)
    return new

def rebuild(index: ProblemIndex, st: ProblemState, members: Sequence[Prepared]) -> None:
    """Recompute ``st`` from exactly ``members`` (after a split that names who stays)."""
    for cid in st.case_ids:
        if index._case_key.get(cid) == st.key:
            del index._case_key[cid]
    index._drop_signatures(st.key)
    index._sigs[st.key] = []
    st.terms, st.streets, st.case_ids, st.signatures, st.size = {}, {}, set(), [], 0
    st.subtopics = {}
    if members:
        st.first_seen = min(it.f.created_at for it in members)
        st.last_seen = max(it.f.created_at for it in members)
    for it in members:
        index._add_member(st, it)

def pin(
    index: ProblemIndex, case_id: int, key: str | None, features: CaseFeatures | None = None
) -> Assignment:
    """An operator puts a case into problem ``key`` (None: into no problem) for good.

    With ``features`` the centroids of the old and new problem follow the move.
    An old problem left empty leaves the index (the caller may delete or keep it).
    """
    old = index._case_key.get(case_id)
    if old != key:
        it = index._prepare(features) if features is not None else None
        if old is not None and old in index.problems:
            src = index.problems[old]
            if it is not None:
                index._add_member(src, it, sign=-1)
            else:
                src.case_ids.discard(case_id)
                src.size = max(src.size - 1, 0)
                index._case_key.pop(case_id, None)
            if src.size == 0:
                index._remove(old)
        if key is not None:
            dst = index.problems[key]
            if it is not None:
                index._add_member(dst, it)
            else:
                dst.case_ids.add(case_id)
                dst.size += 1
                index._case_key[case_id] = key
    index.pins[case_id] = key
    return Assignment(case_id, key, False, 1.0, ["закреплено оператором"], pinned=True)
