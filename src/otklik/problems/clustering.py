"""Problem clustering: group cases about one thing in one place over time.

A *problem* is what an operator calls "the overpass on Lavrov Street in Michurinsk" or
"the water intake in Lagan district": many cases, worded differently, from one place
within weeks. :func:`assign` puts one case into an existing problem or opens a new one;
it is incremental (a worker calls it as cases arrive) and the whole index can be rebuilt
from stored state (:meth:`ProblemIndex.add_problem`, :meth:`ProblemIndex.to_dict`).

How a case is matched, in order:

1. Candidates come from place buckets, never from a scan of everything: same topic and
   same street, same settlement, and - only for area-wide outages (no water, no power)
   in a short burst window, for villages of one district, or for a high text similarity -
   the same municipality. Different streets of one town are different problems for a
   subject at an address (potholes on Lenina and on Mira); any other subject is one
   problem per town (stray dogs), and a village's problems are its district's
   (:func:`~otklik.problems.clustering_state.street_bound`, ``is_rural``). In one place
   the same subject (one subtopic; the subtopics of one topic for things at an address,
   outages and structures apart) joins whatever words the residents chose.
2. Each candidate active within the window is scored:
   ``w_place * place + w_text * text + w_subtopic * subtopic``, where ``text`` is the
   larger of an IDF-weighted cosine between the case's lemmas and the problem's centroid
   and the MinHash Jaccard estimate against a few member texts. IDF is learned from every
   case the index has seen, so "дорога", "яма", "когда" weigh little and "путепровод",
   "водозабор", "контейнерная площадка", street names weigh a lot.
3. The best candidate at or above ``min_score`` wins (ties: latest activity, then the
   oldest problem), otherwise a new problem is opened. Cases without a topic or without
   any place join nothing, except a near-duplicate of a problem's member text, or a
   strong text match with a problem of the region (a whole-text one unless the case names
   the problem's street, town or district).

Operator corrections (:meth:`ProblemIndex.merge`, :meth:`ProblemIndex.split`,
:meth:`ProblemIndex.pin`) change the in-memory state; the caller persists them.
How the caller must handle pins: :mod:`otklik.problems.clustering_corrections`.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from otklik.nlp import dedup
from otklik.problems import clustering_corrections as corrections
from otklik.problems.clustering_corrections import decode_signatures
from otklik.problems.clustering_state import (
    AREA_SUBTOPICS,
    Assignment,
    Bucket,
    CaseFeatures,
    ClusterConfig,
    ProblemState,
    add_to,
    drop_from,
    is_rural,
    lean_minhash,
    one_subject,
    street_bound,
)
from otklik.problems.clustering_text import (
    OUTAGE_TITLES,
    case_terms,
    names_place,
    packaged_version,
    street_display,
    street_key,
    title_for,
)

if TYPE_CHECKING:
    from otklik.nlp.taxonomy.taxonomy import Taxonomy

__all__ = [
    "AREA_SUBTOPICS",
    "OUTAGE_TITLES",
    "Assignment",
    "CaseFeatures",
    "ClusterConfig",
    "ProblemIndex",
    "ProblemState",
    "assign",
    "case_terms",
    "street_display",
    "street_key",
    "title_for",
]

# How long a quiet problem stays open to new cases (an outage: ClusterConfig.area_window).
# Residents do not write about a street's potholes every month; a six-week silence is not
# a repair (the generated stream: B³ F1 0.641 → 0.647, single-case problems per case
# 0.320 → 0.280 against 30 days; the SPb reports 0.450 → 0.447).
DEFAULT_WINDOW = timedelta(days=45)
DEFAULT_MIN_SCORE = 0.5

# How well two places agree (see _place_level).
PLACE_STREET = 1.0
PLACE_SETTLEMENT = 0.7
PLACE_AREA = 1.0
PLACE_MUNICIPALITY = 0.2


# ---- the index ----------------------------------------------------------------------------
@dataclass(slots=True)
class Prepared:
    """A case with its terms, signature and street key computed once."""

    f: CaseFeatures
    terms: tuple[str, ...]
    sig: np.ndarray | None
    street: str | None
    inferred_street: bool = False


@dataclass(slots=True)
class _Match:
    rank: tuple[float, datetime, int]
    key: str
    score: float
    reasons: list[str]
    generalize: bool


_MIN_DEDUP_CHARS = 30
_PRUNE_EVERY = 2000
_REGION_SCAN = 300


class ProblemIndex:
    """Active problems keyed by place and topic for fast candidate lookup, with the
    document-frequency counters that give distinctive words their weight.

    ``taxonomy`` is the rubricator titles are written with (its subtopic names, and its
    lexicon for the phrases that tell problems of one subtopic and place apart); None means
    the packaged one. The caller may replace it when another version becomes active:
    matching does not depend on it.
    """

    def __init__(self, config: ClusterConfig | None = None,
                 taxonomy: Taxonomy | None = None) -> None:
        from datasketch import MinHashLSH

        self.config = config or ClusterConfig()
        self.taxonomy = taxonomy
        self.problems: dict[str, ProblemState] = {}
        self.documents = 0.0
        self.df: Counter[str] = Counter()
        self.pins: dict[int, str | None] = {}
        self._case_key: dict[int, str] = {}
        self._order: dict[str, int] = {}
        self._seq = 0
        self._sigs: dict[str, list[np.ndarray]] = {}
        self._lsh = MinHashLSH(threshold=0.5, num_perm=dedup.NUM_PERM, weights=(0.05, 0.95))
        self._by_street: dict[tuple[Any, ...], Bucket] = {}
        self._by_settlement: dict[tuple[Any, ...], Bucket] = {}
        self._no_street: dict[tuple[Any, ...], Bucket] = {}
        self._by_region: dict[tuple[Any, ...], Bucket] = {}
        self._by_muni: dict[tuple[Any, ...], Bucket] = {}
        # (region, municipality, settlement) -> street key -> street as written.
        self._streets: dict[tuple[Any, ...], dict[str, str]] = {}
        self._latest: datetime | None = None
        self._since_prune = 0
        # Keys of problems re-titled because a new problem shares their subtopic and place;
        # the caller stores their titles and clears the set.
        self.retitled: set[str] = set()

    def __len__(self) -> int:
        return len(self.problems)

    # ---- statistics -----------------------------------------------------------------------
    def idf(self, term: str) -> float:
        """Inverse document frequency of a term among the cases seen (always > 0)."""
        return math.log((self.documents + 2.0) / (self.df.get(term, 0.0) + 1.0))

    @property
    def taxonomy_version(self) -> str:
        """The version label of the rubricator titles are written with."""
        return packaged_version() if self.taxonomy is None else self.taxonomy.version

    def title(self, st: ProblemState) -> str:
        """The title of a problem by this index's statistics and rubricator."""
        return title_for(st, self.idf, self.taxonomy, self.siblings(st))

    def retitle(self, st: ProblemState) -> None:
        """Write a problem's title (and the rubricator version it follows)."""
        st.title = self.title(st)
        st.title_taxonomy = self.taxonomy_version

    def siblings(self, st: ProblemState) -> list[ProblemState]:
        """The other problems of the same subtopic and place: their titles would read the
        same, so each is refined (see :func:`title_for`)."""
        place = (st.topic, st.region, st.municipality_id, st.settlement_id)
        skey = st.street_key
        bucket = self._by_street.get((*place, skey)) if skey else self._no_street.get(place)
        return [other for key in bucket or ()
                if key != st.key and (other := self.problems[key]).subtopic == st.subtopic]

    def stale_titles(self) -> list[ProblemState]:
        """Problems whose title was written with another rubricator version."""
        version, packaged = self.taxonomy_version, packaged_version()
        return [st for st in self.problems.values()
                if (st.title_taxonomy or packaged) != version]

    def observe(self, terms: Iterable[str]) -> None:
        """Count one case's terms (assign does it; use it to warm up from stored cases)."""
        self.df.update(terms)
        self.documents += 1

    # ---- lookup ---------------------------------------------------------------------------
    def problem_of(self, case_id: int) -> str | None:
        """The key of the active problem holding a case, if any."""
        return self._case_key.get(case_id)

    def _buckets(self, st: ProblemState) -> list[tuple[dict[tuple[Any, ...], Bucket], Any]]:
        place = (st.topic, st.region, st.municipality_id, st.settlement_id)
        out: list[tuple[dict[tuple[Any, ...], Bucket], Any]] = [
            (self._by_settlement, place),
            (self._by_muni, place[:3]),
            (self._by_region, place[:2]),
        ]
        skey = st.street_key
        if skey:
            out.append((self._by_street, (*place, skey)))
        else:
            out.append((self._no_street, place))
        return out

    def _index(self, st: ProblemState) -> None:
        for buckets, bkey in self._buckets(st):
            add_to(buckets, bkey, st.key)
        skey = st.street_key
        if skey and st.street and st.settlement_id is not None:
            place = (st.region, st.municipality_id, st.settlement_id)
            self._streets.setdefault(place, {}).setdefault(skey, st.street)

    def _unindex(self, st: ProblemState) -> None:
        for buckets, bkey in self._buckets(st):
            drop_from(buckets, bkey, st.key)

    def _candidates(self, it: Prepared) -> Bucket:
        f = it.f
        place = (f.topic, f.region, f.municipality_id, f.settlement_id)
        out: Bucket = {}
        area = f.subtopic in self.config.area_subtopics
        if it.street and not area:
            out.update(self._by_street.get((*place, it.street), {}))
            out.update(self._no_street.get(place, {}))
        else:
            out.update(self._by_settlement.get(place, {}))
        if f.municipality_id is not None:
            # District-wide problems and other settlements of the district; _place_level
            # lets them through only for outages or a high text similarity.
            out.update(self._by_muni.get(place[:3], {}))
        return out

    def _active(self, st: ProblemState, at: datetime, window: timedelta) -> bool:
        return st.first_seen - window <= at <= st.last_seen + window

    def _window_for(self, it: Prepared, st: ProblemState, window: timedelta) -> timedelta:
        """How long ``st`` stays open to this case. An outage is an event: once it has been
        quiet for the burst window, a new report is a new outage. Heating not switched on,
        hot water off for the summer, a place's poor mobile signal, internet, TV or gas
        last rather than break: in one settlement the same one stays open for
        ClusterConfig.season_window (residents report it every few days or weeks, not
        every day; ``LASTING_SUBTOPICS``)."""
        f, cfg = it.f, self.config
        if f.subtopic not in cfg.area_subtopics and st.subtopic not in cfg.area_subtopics:
            return window
        if (f.subtopic == st.subtopic and f.subtopic in cfg.season_subtopics
                and f.settlement_id is not None and f.settlement_id == st.settlement_id):
            return min(window, max(cfg.area_window, cfg.season_window))
        return min(window, cfg.area_window)

    def _place_level(
        self, it: Prepared, st: ProblemState
    ) -> tuple[float, float, str, bool] | None:
        """(place score, minimal text similarity, reason, generalize place) or None."""
        f, cfg = it.f, self.config
        if f.municipality_id != st.municipality_id:
            return None
        area = (f.subtopic in cfg.area_subtopics or st.subtopic in cfg.area_subtopics) and (
            abs(f.created_at - st.last_seen) <= cfg.area_window
        )
        if f.settlement_id == st.settlement_id:
            skey = st.street_key
            if it.street and skey:
                if it.street == skey:
                    return PLACE_STREET, 0.0, "та же улица", False
                if area:
                    # In a town, outages on two streets are often two breaks: text must agree.
                    reason = "отключение на соседней улице"
                    return PLACE_SETTLEMENT, cfg.min_text_settlement, reason, True
                return None
            if it.street and st.streets and it.street not in st.streets and not area:
                # The problem's members already named another street.
                return None
            where = "тот же населённый пункт" if f.settlement_id else "тот же район"
            if not it.street and not skey and one_subject(f.subtopic, st.subtopic, cfg):
                # One subject in one place («бродячие собаки — Мичуринск»): the place and
                # the subtopic say it, whatever words the residents chose.
                return PLACE_STREET, 0.0, where + ", та же подтема", False
            return PLACE_SETTLEMENT, cfg.min_text_settlement, where, False
        if area:
            # One intake or substation feeds the district: a burst of the same outage in
            # its villages is one problem even when the words differ.
            gate = 0.0 if f.subtopic == st.subtopic else cfg.min_text_area
            return PLACE_AREA, gate, "отключение в том же районе", True
        if (one_subject(f.subtopic, st.subtopic, cfg)
                and (f.settlement_id is None or is_rural(f.settlement_population))
                and (st.settlement_id is None or st.rural)):
            # Villages are filed by district: the same subject in another village of the
            # district is the district's problem.
            return PLACE_STREET, 0.0, "та же подтема в сёлах района", True
        if it.street and st.street_key and it.street != st.street_key:
            return None
        # Another settlement: only an almost identical text (a road between two villages
        # named the same way, a copied petition) is the same problem.
        return PLACE_MUNICIPALITY, cfg.min_text_municipality, "тот же район", True

    def _similarity(
        self, it: Prepared, st: ProblemState, idf: dict[str, float], item_norm: float
    ) -> tuple[float, float, float, list[str]]:
        """(IDF cosine to the centroid, coverage of the problem's core, best MinHash
        Jaccard, the shared distinctive terms).

        The cosine is symmetric and strict: a short case that names the problem's one
        key word among its own words scores low. The coverage asks the other question -
        how much of the problem's core (the terms at least two members repeat) does this
        case mention - weighting each term by IDF and by the square of its share.
        """
        terms = st.terms
        shared = [t for t in it.terms if t in terms]
        cos = cover = 0.0
        if shared and item_norm > 0:
            size = float(max(st.size, 1))
            floor = 2.0 if st.size >= 2 and max(terms.values()) >= 2 else 1.0
            num = core_hit = 0.0
            for t in shared:
                w, c = idf[t], terms[t]
                num += w * w * c
                if c >= floor:
                    core_hit += w * (c / size) ** 2
            cnorm = core = 0.0
            for t, c in terms.items():
                known = idf.get(t)
                w = known if known is not None else idf.setdefault(t, self.idf(t))
                cnorm += (w * c) ** 2
                if c >= floor:
                    core += w * (c / size) ** 2
            if cnorm > 0:
                cos = num / (item_norm * math.sqrt(cnorm))
            if core > 0:
                # A core of one common word ("вода") must not make every mention a match:
                # it needs at least the weight of one fairly rare term to count in full.
                cover = core_hit / max(core, 0.6 * math.log(self.documents + 2.0))
        jac = 0.0
        if it.sig is not None:
            for values in self._sigs.get(st.key, ()):
                jac = max(jac, float(np.count_nonzero(values == it.sig)) / dedup.NUM_PERM)
        shared.sort(key=lambda t: (-terms[t] * idf[t], t))
        return cos, cover, jac, shared[:3]

    # ---- assignment -----------------------------------------------------------------------
    def _prepare(self, f: CaseFeatures) -> Prepared:
        sig = None
        if len(f.text or "") >= _MIN_DEDUP_CHARS:
            if f.signature:
                decoded = decode_signatures([f.signature])
                sig = decoded[0] if decoded else None
            if sig is None:
                sig = dedup.hashvalues(f.text)
        terms = case_terms(f.text or "", f.lemmas)
        # A street tells problems apart only for a subject at an address in a town.
        if not street_bound(f.subtopic or f.topic) or is_rural(f.settlement_population):
            return Prepared(f, terms, sig, None)
        skey = street_key(f.street)
        if skey is None and f.settlement_id is not None:
            f = self._infer_street(f, terms)
            skey = street_key(f.street)
            return Prepared(f, terms, sig, skey, inferred_street=skey is not None)
        return Prepared(f, terms, sig, skey)

    def _infer_street(self, f: CaseFeatures, terms: Sequence[str]) -> CaseFeatures:
        """A case whose street was not recognised but whose text names exactly one street
        the settlement's problems are on ("площадка на Гагарина") is placed on it."""
        known = self._streets.get((f.region, f.municipality_id, f.settlement_id))
        if not known:
            return f
        have = set(terms)
        named = [display for skey, display in known.items()
                 if all(word in have for word in skey.split(" "))]
        if len(named) != 1:
            return f
        return replace(f, street=named[0])

    def assign(
        self,
        item: CaseFeatures,
        *,
        window: timedelta = DEFAULT_WINDOW,
        min_score: float = DEFAULT_MIN_SCORE,
    ) -> Assignment:
        """Place one case (see :func:`assign`)."""
        cid = item.case_id
        if cid in self.pins:
            return Assignment(cid, self.pins[cid], False, 1.0, ["закреплено оператором"], True)
        known = self._case_key.get(cid)
        if known is not None:
            # A replayed job: the case is already counted, report where it is.
            return Assignment(cid, known, False, 1.0, ["уже в проблеме"])
        it = self._prepare(item)
        self._tick(item.created_at)
        try:
            return self._assign(it, window, min_score)
        finally:
            self.observe(it.terms)

    def _assign(self, it: Prepared, window: timedelta, min_score: float) -> Assignment:
        f, cfg = it.f, self.config
        cid = f.case_id
        if not f.topic or f.topic in cfg.ignore_topics:
            return self._near_duplicate(it, window) or Assignment(
                cid, None, False, 0.0, ["нет темы: проблему не образует"]
            )
        if f.municipality_id is None and f.settlement_id is None:
            return (
                self._near_duplicate(it, window)
                or self._region_match(it, window)
                or Assignment(cid, None, False, 0.0, ["не указано место: проблему не образует"])
            )
        idf: dict[str, float] = {t: self.idf(t) for t in it.terms}
        item_norm = math.sqrt(sum(w * w for w in idf.values()))
        best: _Match | None = None
        scored = 0
        for key in self._candidates(it):
            st = self.problems[key]
            # An outage is an event: once it has been quiet for the burst window, a new
            # report is a new outage, not a follow-up.
            if not self._active(st, f.created_at, self._window_for(it, st, window)):
                continue
            level = self._place_level(it, st)
            if level is None:
                continue
            scored += 1
            place, gate, place_reason, generalize = level
            cos, cover, jac, shared = self._similarity(it, st, idf, item_norm)
            # A copy overrides a weak text score, never a place conflict.
            near = jac >= cfg.near_duplicate and place != PLACE_MUNICIPALITY
            # Across settlements the place disagrees, so the whole texts must be alike.
            text = max(cos, jac) if place == PLACE_MUNICIPALITY else max(cos, cover, jac)
            if f.subtopic and st.subtopic:
                sub = 1.0 if one_subject(f.subtopic, st.subtopic, cfg) else 0.0
            else:
                sub = 0.5
            if sub == 0.0:
                gate = max(gate, cfg.min_text_other_subtopic)
            if text < gate and not near:
                continue
            score = cfg.w_place * place + cfg.w_text * text + cfg.w_subtopic * sub
            if near:
                score = max(score, 0.9)
            if score < min_score:
                continue
            rank = (round(score, 9), st.last_seen, -self._order[key])
            if best is None or rank > best.rank:
                reasons = [place_reason]
                if near:
                    reasons.append(f"почти дословный повтор ({jac:.2f})")
                if shared:
                    reasons.append("общие слова: " + ", ".join(shared))
                reasons.append(f"сходство текста {text:.2f}")
                if sub == 1.0:
                    reasons.append("та же подтема")
                best = _Match(rank, key, score, reasons, generalize)
        if best is not None:
            if it.inferred_street:
                best.reasons.append(f"улица по тексту: {f.street}")
            self._join(self.problems[best.key], it, generalize=best.generalize)
            return Assignment(cid, best.key, False, round(best.score, 4), best.reasons,
                              candidates=scored)
        st = self._open(it)
        reasons = ["нет подходящей активной проблемы"]
        if scored:
            reasons.append(f"кандидатов ниже порога: {scored}")
        return Assignment(cid, st.key, True, 1.0, reasons, candidates=scored)

    def _region_match(self, it: Prepared, window: timedelta) -> Assignment | None:
        """A case that names no place but the region joins an active problem of its topic
        there when it names that problem's street, town or district and its text matches
        strongly ("Путепровод на Лаврова разваливается" while the Lavrov Street overpass
        problem is open; see :func:`names_place`), or, naming none of them, when its whole
        text is alike (ClusterConfig.strong_text_unnamed); the problem's place is left as
        it is."""
        f, cfg = it.f, self.config
        bucket = self._by_region.get((f.topic, f.region)) if f.region else None
        if not bucket or not it.terms:
            return None
        idf: dict[str, float] = {t: self.idf(t) for t in it.terms}
        item_norm = math.sqrt(sum(w * w for w in idf.values()))
        best: _Match | None = None
        # The newest problems first, and a bounded number: a region may hold thousands.
        for n, key in enumerate(reversed(bucket)):
            if n >= _REGION_SCAN:
                break
            st = self.problems[key]
            outage = f.subtopic in cfg.area_subtopics or st.subtopic in cfg.area_subtopics
            if not self._active(st, f.created_at, min(window, cfg.area_window) if outage
                                else window):
                continue
            if f.subtopic and st.subtopic and f.subtopic != st.subtopic:
                continue
            named = names_place(it.terms, it.street, st)
            if not named and cfg.strong_text_unnamed > 1.0:
                continue
            cos, cover, jac, shared = self._similarity(it, st, idf, item_norm)
            # Without the problem's place named, the whole text must be alike (the cosine
            # or the MinHash of a near copy), not just cover the problem's core words.
            text = max(cos, cover, jac) if named else max(cos, jac)
            if text < (cfg.strong_text if named else cfg.strong_text_unnamed):
                continue
            rank = (round(text, 9), st.last_seen, -self._order[key])
            if best is None or rank > best.rank:
                reasons = ["место не названо, текст совпадает с проблемой региона"]
                if shared:
                    reasons.append("общие слова: " + ", ".join(shared))
                reasons.append(f"сходство текста {text:.2f}")
                best = _Match(rank, key, text, reasons, False)
        if best is None:
            return None
        self._join(self.problems[best.key], it, generalize=False, keep_place=True)
        return Assignment(f.case_id, best.key, False, round(best.score, 4), best.reasons)

    def _near_duplicate(self, it: Prepared, window: timedelta) -> Assignment | None:
        """Join a problem whose member text this case nearly repeats (topic and region
        agreeing when both are known); the problem's place is left as it is."""
        if it.sig is None or not self._sigs:
            return None
        f = it.f
        best: tuple[float, datetime, int] | None = None
        best_key = None
        for sig_key in sorted(self._lsh.query(lean_minhash(it.sig))):
            key = sig_key.rsplit("#", 1)[0]
            st = self.problems.get(key)
            if st is None or not self._active(st, f.created_at, window):
                continue
            if f.topic and f.topic not in self.config.ignore_topics and f.topic != st.topic:
                continue
            if f.region and st.region and f.region != st.region:
                continue
            jac = max(float(np.count_nonzero(v == it.sig)) / dedup.NUM_PERM
                      for v in self._sigs[key])
            if jac < self.config.near_duplicate:
                continue
            rank = (round(jac, 9), st.last_seen, -self._order[key])
            if best is None or rank > best:
                best, best_key = rank, key
        if best is None or best_key is None:
            return None
        self._join(self.problems[best_key], it, generalize=False, keep_place=True)
        return Assignment(f.case_id, best_key, False, round(best[0], 4),
                          [f"почти дословный повтор ({best[0]:.2f})"])

    # ---- state changes --------------------------------------------------------------------
    def _register(self, st: ProblemState) -> None:
        self._seq += 1
        if not st.key:
            st.key = f"p{st.problem_id}" if st.problem_id is not None else f"n{self._seq}"
            while st.key in self.problems:  # a seeded state may carry an "n" key already
                self._seq += 1
                st.key = f"n{self._seq}"
        if st.key in self.problems:
            raise ValueError(f"problem {st.key} is already in the index")
        self.problems[st.key] = st
        self._order[st.key] = self._seq
        self._sigs[st.key] = []
        for values in decode_signatures(st.signatures):
            self._add_signature(st, values, store=False)
        for cid in st.case_ids:
            self._case_key[cid] = st.key
        self._index(st)

    def _add_signature(self, st: ProblemState, values: np.ndarray, store: bool = True) -> None:
        sigs = self._sigs[st.key]
        if len(sigs) >= self.config.max_signatures:
            return
        self._lsh.insert(f"{st.key}#{len(sigs)}", lean_minhash(values), check_duplication=False)
        sigs.append(values)
        if store:
            st.signatures.append(dedup.encode_signature(values))

    def _drop_signatures(self, key: str) -> None:
        for i in range(len(self._sigs.get(key, ()))):
            self._lsh.remove(f"{key}#{i}")
        self._sigs.pop(key, None)

    def _open(self, it: Prepared) -> ProblemState:
        f = it.f
        st = ProblemState(
            topic=f.topic or "other",
            subtopic=f.subtopic,
            region=f.region,
            municipality_id=f.municipality_id,
            settlement_id=f.settlement_id,
            street=f.street if it.street else None,
            first_seen=f.created_at,
            last_seen=f.created_at,
            settlement_name=f.settlement_name if f.settlement_id is not None else None,
            municipality_name=f.municipality_name,
            rural=is_rural(f.settlement_population),
        )
        self._register(st)
        self._join(st, it, generalize=False)
        for sibling in self.siblings(st):
            self.retitle(sibling)
            self.retitled.add(sibling.key)
        return st

    def _join(
        self, st: ProblemState, it: Prepared, *, generalize: bool, keep_place: bool = False
    ) -> None:
        f = it.f
        place_changed = False
        if generalize and not keep_place:
            self._unindex(st)
            if f.settlement_id != st.settlement_id:
                st.settlement_id, st.settlement_name = None, None
            st.street = None
            self._index(st)
            place_changed = True
        self._add_member(st, it)
        if not keep_place and not generalize and st.street is None and it.street:
            place_changed |= self._maybe_adopt_street(st, it.street, f.street or "")
        if place_changed or st.size <= 4 or st.size & (st.size - 1) == 0:
            # Titles change only at sizes 1-4, 8, 16, ... so operators see them settle.
            self.retitle(st)

    def _maybe_adopt_street(self, st: ProblemState, skey: str, street: str) -> bool:
        """A settlement-wide problem whose cases mostly name one street moves onto it."""
        if st.settlement_id is None or st.subtopic in self.config.area_subtopics:
            return False
        votes = st.streets.get(skey, 0)
        if votes >= 2 and votes >= 0.6 * sum(st.streets.values()) and votes >= 0.5 * st.size:
            self._unindex(st)
            st.street = street
            self._index(st)
            return True
        return False

    def _add_member(self, st: ProblemState, it: Prepared, *, sign: int = 1) -> None:
        f = it.f
        terms = st.terms
        for t in it.terms:
            terms[t] = terms.get(t, 0.0) + sign
            if terms[t] <= 0:
                del terms[t]
        if it.street and st.street is None:
            votes = st.streets.get(it.street, 0) + sign
            if votes > 0:
                st.streets[it.street] = votes
            else:
                st.streets.pop(it.street, None)
            if len(st.streets) > 32:
                # A district-wide outage names many streets; only the leaders can win a vote.
                top = sorted(st.streets.items(), key=lambda kv: (-kv[1], kv[0]))[:16]
                st.streets = dict(top)
        if sign > 0:
            st.size += 1
            st.case_ids.add(f.case_id)
            self._case_key[f.case_id] = st.key
            st.first_seen = min(st.first_seen, f.created_at)
            st.last_seen = max(st.last_seen, f.created_at)
            if f.subtopic:
                st.subtopics[f.subtopic] = st.subtopics.get(f.subtopic, 0) + 1
            if it.sig is not None:
                self._add_signature(st, it.sig)
        else:
            st.size = max(st.size - 1, 0)
            st.case_ids.discard(f.case_id)
            self._case_key.pop(f.case_id, None)
            if f.subtopic and st.subtopics.get(f.subtopic, 0) > 1:
                st.subtopics[f.subtopic] -= 1
            else:
                st.subtopics.pop(f.subtopic or "", None)
        if st.subtopics:
            # The commonest subtopic names the problem; a tie keeps the current one.
            most = max(st.subtopics.values())
            if st.subtopics.get(st.subtopic or "", 0) < most:
                st.subtopic = min(k for k, v in st.subtopics.items() if v == most)
        if len(terms) > 2 * self.config.max_terms:
            self._trim_terms(st)

    def _trim_terms(self, st: ProblemState) -> None:
        """Keep the centroid bounded: the most frequent distinctive terms survive."""
        ranked = sorted(st.terms.items(), key=lambda kv: (-kv[1] * self.idf(kv[0]), kv[0]))
        st.terms = dict(ranked[: self.config.max_terms])

    def _tick(self, at: datetime) -> None:
        if self._latest is None or at > self._latest:
            self._latest = at
        self._since_prune += 1
        if self._since_prune >= _PRUNE_EVERY:
            self._since_prune = 0
            self.prune(self._latest - self.config.retention)

    def prune(self, before: datetime) -> list[str]:
        """Forget problems idle since before ``before`` (they stay stored); returns keys."""
        gone = [k for k, st in self.problems.items() if st.last_seen < before]
        for key in gone:
            self._remove(key)
        return gone

    def _remove(self, key: str) -> ProblemState:
        st = self.problems.pop(key)
        self._unindex(st)
        self._drop_signatures(key)
        self._order.pop(key, None)
        for cid in st.case_ids:
            if self._case_key.get(cid) == key:
                del self._case_key[cid]
        return st

    def forget(self, key: str) -> ProblemState | None:
        """Drop a problem from the index (it stays stored); None when it is not there."""
        return self._remove(key) if key in self.problems else None

    # ---- seeding and storage --------------------------------------------------------------
    def add_problem(self, state: ProblemState, *, count_terms: bool = True) -> str:
        """Seed a stored problem; returns its key ("p<id>" for stored ones).

        With ``count_terms`` its centroid also feeds the document frequencies, which
        rebuilds the IDF approximately when no :meth:`to_dict` snapshot was kept.
        """
        self._register(state)
        if count_terms:
            self.df.update(state.terms)
            self.documents += state.size
        if not state.title:
            self.retitle(state)
        return state.key

    def set_problem_id(self, key: str, problem_id: int) -> None:
        """Record the database id of a new problem; its key does not change."""
        self.problems[key].problem_id = problem_id

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe snapshot of the whole index (statistics, problems, pins)."""
        return {
            "version": 1,
            "documents": self.documents,
            "df": dict(self.df),
            "problems": [st.to_dict() for st in self.problems.values()],
            "pins": [[cid, key] for cid, key in self.pins.items()],
            "seq": self._seq,
            "latest": self._latest.isoformat() if self._latest else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any], config: ClusterConfig | None = None,
                  taxonomy: Taxonomy | None = None) -> ProblemIndex:
        """Rebuild an index from :meth:`to_dict`; assignments continue exactly as before."""
        index = cls(config, taxonomy)
        index.documents = float(data.get("documents") or 0.0)
        index.df = Counter({str(k): float(v) for k, v in (data.get("df") or {}).items()})
        for raw in data.get("problems") or ():
            index._register(ProblemState.from_dict(raw))
        # Keys keep their numbers, so new problems must not reuse them.
        index._seq = max(index._seq, int(data.get("seq") or 0))
        index.pins = {int(cid): key for cid, key in data.get("pins") or ()}
        latest = data.get("latest")
        index._latest = datetime.fromisoformat(latest) if latest else None
        return index


    # ---- operator corrections (otklik.problems.clustering_corrections) --------------------
    def merge(self, a: str, b: str) -> ProblemState:
        """Merge problem ``b`` into ``a``; see :func:`clustering_corrections.merge`."""
        return corrections.merge(self, a, b)

    def split(self, key: str, moved: Sequence[CaseFeatures],
              remaining: Sequence[CaseFeatures] | None = None) -> ProblemState:
        """Move cases into a new problem; see :func:`clustering_corrections.split`."""
        return corrections.split(self, key, moved, remaining)

    def pin(self, case_id: int, key: str | None,
            features: CaseFeatures | None = None) -> Assignment:
        """Place a case for good; see :func:`clustering_corrections.pin`."""
        return corrections.pin(self, case_id, key, features)

    def unpin(self, case_id: int) -> None:
        """Let automatic runs place the case again (its current problem is kept)."""
        self.pins.pop(case_id, None)

def assign(
    item: CaseFeatures,
    index: ProblemIndex,
    *,
    window: timedelta = DEFAULT_WINDOW,
    min_score: float = DEFAULT_MIN_SCORE,
) -> Assignment:
    """Put one case into the best active problem of ``index`` or open a new one.

    Updates the chosen problem (centroid, last_seen, size, title). Returns the problem's
    key, whether it is new, the score and the reasons in Russian for the operator. Cases
    without a topic or a place get ``problem_key=None`` unless they nearly repeat a
    member text of an active problem. A pinned case keeps its pinned problem.
    """
    return index.assign(item, window=window, min_score=min_score)
