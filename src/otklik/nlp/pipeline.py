"""The enrichment pipeline: every language stage in order, one output record per message.

Stages are found by module (normalize, language, relevance, kind, topic, sentiment,
urgency, territory, pii, dedup); a module that is missing is skipped and reported in
:attr:`Pipeline.skipped`, so the pipeline degrades instead of failing. A stage that
raises on a batch is retried document by document and the failing document gets an
empty result with the error in ``explain`` — one odd message never stops a run.
"""

from __future__ import annotations

import gc
import importlib
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from otklik.nlp.base import Doc, Stage, StageResult
from otklik.nlp.morph import prepare
from otklik.nlp.taxonomy import Taxonomy, load_taxonomy
from otklik.nlp.topic import CombinedTopicStage, LexiconTopicStage, ModelTopicStage
from otklik.nlp.urgency import HAZARD_SIGNALS

log = logging.getLogger(__name__)

# (stage name, module, class) in the order they run; topic is built here, not imported.
STAGE_CLASSES: tuple[tuple[str, str, str], ...] = (
    ("normalize", "otklik.nlp.normalize", "NormalizeStage"),
    ("language", "otklik.nlp.language", "LanguageStage"),
    ("relevance", "otklik.nlp.relevance", "RelevanceStage"),
    ("kind", "otklik.nlp.relevance", "KindStage"),
    ("topic", "otklik.nlp.topic", "CombinedTopicStage"),
    ("sentiment", "otklik.nlp.sentiment", "SentimentStage"),
    ("urgency", "otklik.nlp.urgency", "UrgencyStage"),
    ("territory", "otklik.nlp.territory", "TerritoryStage"),
    ("pii", "otklik.nlp.pii", "PiiStage"),
    ("dedup", "otklik.nlp.dedup", "DedupStage"),
)
PREPARE = "prepare"  # the shared tokenization/lemmatization step, timed like a stage
DEFAULT_BATCH = 256
# Only texts in these languages are treated as possible appeals.
APPEAL_LANGUAGES = frozenset({"ru"})


def _empty(error: str) -> StageResult:
    return StageResult(value=None, confidence=0.0, explain={"error": error})


#: Relevance categories that only mean "no appeal wording", not ads, spam, greetings or the
#: signs of a post to friends (chatter: "ты", smiles, laughter), which make no public matter.
PUBLIC_MATTER_UNSURE = frozenset({"other"})
#: How sure the rubricator must be of the subject: a word or two that happen to be in a
#: subtopic's lexicon ("крыша" in a poem) do not make a post a matter for the center.
PUBLIC_MATTER_MIN_TOPIC_CONFIDENCE = 0.4
#: Kinds of text that, about a rubric subject, make it a public matter.
PUBLIC_MATTER_KINDS = frozenset({"complaint", "proposal"})
#: Topics where even a bare question ("когда отремонтируют?") is addressed to the authorities.
PUBLIC_SERVICE_TOPICS = frozenset({"roads", "housing", "utilities", "improvement", "waste",
                                   "transport", "health", "education", "social", "safety"})


class Pipeline:
    """Runs the stages over batches of input records and builds enrich records."""

    def __init__(
        self,
        stages: Sequence[Stage],
        model: Any = None,
        region: str | None = None,
        taxonomy: Taxonomy | None = None,
        skipped: Sequence[str] = (),
    ) -> None:
        self.stages = list(stages)
        self.model = model
        self.region = region
        self.taxonomy = taxonomy or load_taxonomy()
        self.skipped = list(skipped)
        self.timings: dict[str, float] = {PREPARE: 0.0, **{s.name: 0.0 for s in self.stages}}
        self.processed = 0
        #: The clock of :attr:`timings` (benchmarks on a shared machine use CPU time).
        self.clock: Callable[[], float] = time.perf_counter

    @classmethod
    def default(
        cls,
        model_dir: str | Path | None = None,
        region: str | None = None,
        taxonomy: Taxonomy | None = None,
    ) -> Pipeline:
        """Build every available stage; ``model_dir`` adds a trained model, ``region``
        (a 2-digit OKTMO region code) is the hint for messages that carry none,
        ``taxonomy`` replaces the packaged rubricator (an admin's active version, see
        :func:`otklik.language.taxonomy_service.pipeline_for`)."""
        from otklik.nlp.training import load_model

        taxonomy = taxonomy or load_taxonomy()
        model = load_model(model_dir) if model_dir else None
        stages: list[Stage] = []
        skipped: list[str] = []
        for name, module_name, class_name in STAGE_CLASSES:
            if name == "topic":
                lexicon = LexiconTopicStage(taxonomy)
                wrapped = ModelTopicStage(model, taxonomy) if model is not None else None
                stages.append(CombinedTopicStage(lexicon, wrapped))
                continue
            try:
                stage_cls = getattr(importlib.import_module(module_name), class_name)
            except (ImportError, AttributeError) as exc:
                log.warning("stage %s is not available: %s", name, exc)
                skipped.append(name)
                continue
            stages.append(stage_cls())
        return cls(stages, model=model, region=region, taxonomy=taxonomy, skipped=skipped)

    # --- running ----------------------------------------------------------------------------
    def _run_stage(self, stage: Stage, docs: Sequence[Doc]) -> list[StageResult]:
        started = self.clock()
        try:
            results = stage.process(docs)
        except Exception:  # noqa: BLE001 - isolate the bad document, see module docstring
            results = []
            for doc in docs:
                try:
                    results.extend(stage.process([doc]))
                except Exception as exc:  # noqa: BLE001
                    log.exception("stage %s failed on document %s", stage.name, doc.id)
                    results.append(_empty(f"{type(exc).__name__}: {exc}"))
        self.timings[stage.name] = self.timings.get(stage.name, 0.0) + self.clock() - started
        return results

    def _docs(self, records: Sequence[dict[str, Any]]) -> list[Doc]:
        docs = []
        for i, rec in enumerate(records):
            text = rec.get("text")
            text = "" if text is None else str(text)
            meta = {k: rec[k] for k in ("created_at", "published_at") if rec.get(k)}
            doc_id = rec.get("id")
            docs.append(
                Doc(
                    id=str(doc_id) if doc_id not in (None, "") else f"#{self.processed + i + 1}",
                    text=text,
                    region=str(rec.get("region") or self.region or "") or None,
                    meta=meta,
                )
            )
        return docs

    def process(self, records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        """Enrich a batch of ``{"id", "text", ...}`` records; one output record each."""
        with _collector_paused():
            return self._process(records)

    def _process(self, records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
        docs = self._docs(records)
        results: dict[str, list[StageResult]] = {}
        for stage in self.stages:
            results[stage.name] = self._run_stage(stage, docs)
            if stage.name == "normalize":
                for doc, res in zip(docs, results["normalize"], strict=True):
                    if not doc.clean:
                        doc.clean = res.value if isinstance(res.value, str) else doc.text
                started = self.clock()
                for doc in docs:
                    prepare(doc)
                self.timings[PREPARE] += self.clock() - started
                results[PREPARE] = []
            elif stage.name == "language":
                for doc, res in zip(docs, results["language"], strict=True):
                    if not doc.language and isinstance(res.value, str):
                        doc.language = res.value
            elif stage.name == "topic" and isinstance(stage, CombinedTopicStage):
                if stage.model is not None:
                    results["label"] = stage.last_labels
        if PREPARE not in results:  # no normalization stage: analyse the raw text
            for doc in docs:
                doc.clean = doc.clean or doc.text
                prepare(doc)
        self.processed += len(docs)
        return [self._record(i, doc, results) for i, doc in enumerate(docs)]

    def iter_process(
        self, records: Iterable[dict[str, Any]], batch_size: int = DEFAULT_BATCH
    ) -> Iterator[dict[str, Any]]:
        """Stream enrich records for a stream of input records, in batches."""
        batch: list[dict[str, Any]] = []
        for rec in records:
            batch.append(rec)
            if len(batch) >= batch_size:
                yield from self.process(batch)
                batch = []
        if batch:
            yield from self.process(batch)

    # --- the output record -------------------------------------------------------------------
    def _record(self, i: int, doc: Doc, results: dict[str, list[StageResult]]) -> dict[str, Any]:
        def get(name: str) -> StageResult | None:
            rows = results.get(name)
            return rows[i] if rows else None

        explain: dict[str, Any] = {}
        for name, rows in results.items():
            if rows and rows[i].explain:
                explain[name] = rows[i].explain
        if self.skipped:
            explain["skipped_stages"] = self.skipped

        language = doc.language or None
        has_words = bool(doc.lemmas)
        rel = get("relevance")
        rel_value = rel.value if rel and isinstance(rel.value, dict) else {}
        relevant = bool(rel_value.get("relevant")) and has_words
        if language is not None and language not in APPEAL_LANGUAGES:
            relevant = False

        kind = get("kind")
        topic_res = get("topic")
        topic_value = topic_res.value if topic_res and isinstance(topic_res.value, dict) else {}
        topic = topic_value.get("topic") or {"code": "other", "name": self.taxonomy.name("other"),
                                             "confidence": 0.0}
        urgency = get("urgency")
        urgency_value = urgency.value if urgency and isinstance(urgency.value, dict) else {}
        hazards = [s for s in urgency_value.get("signals") or () if s in HAZARD_SIGNALS]
        kind_value = kind.value if kind else None
        kind_conf = _conf(kind)
        if hazards and kind_value == "other":
            # "В детском саду неделю нет горячей воды" names no complaint word, but a hazard
            # the urgency stage found is a problem being reported.
            kind_value, kind_conf = "complaint", 0.6
            explain.setdefault("kind", {})["hazard"] = hazards
        if (not relevant and has_words and rel_value.get("category") in PUBLIC_MATTER_UNSURE
                and (language is None or language in APPEAL_LANGUAGES)
                and topic["code"] != "other"
                and (hazards or (topic_value.get("subtopic")
                                 and topic["confidence"] >= PUBLIC_MATTER_MIN_TOPIC_CONFIDENCE))
                and kind_value is not None and (kind_value in PUBLIC_MATTER_KINDS or (
                    kind_value == "question" and topic["code"] in PUBLIC_SERVICE_TOPICS))):
            # "New cracks on the overpass, scary to drive" has no "прошу" in it, but a
            # complaint or question about a rubric subject is a matter the center must see.
            relevant = True
            explain.setdefault("relevance", {})["public_matter"] = topic["code"]
        subtopic = topic_value.get("subtopic")
        label_res = get("label")
        label = None
        if label_res is not None and isinstance(label_res.value, dict):
            label = {"value": label_res.value["value"],
                     "confidence": label_res.value["confidence"]}

        sentiment = get("sentiment")
        default_urgency = self.taxonomy[(subtopic or topic)["code"]].urgency
        pii = get("pii")
        dedup = get("dedup")
        dedup_value = dedup.value if dedup and isinstance(dedup.value, dict) else {}
        return {
            "id": doc.id,
            "language": language,
            "relevant": relevant,
            "relevance": {
                "category": rel_value.get("category"),
                "confidence": _conf(rel) if has_words else 0.0,
            },
            "kind": {"value": kind_value, "confidence": kind_conf},
            "topic": topic,
            "subtopic": subtopic,
            "label": label,
            "sentiment": {
                "value": sentiment.value if sentiment else None,
                "confidence": _conf(sentiment),
            },
            "urgency": {
                "level": urgency_value.get("level") or "normal",
                "signals": list(urgency_value.get("signals") or []),
                "confidence": _conf(urgency),
                "topic_default": default_urgency,
            },
            "territory": self._territory(get("territory")),
            "pii": [
                {"type": s["type"], "start": int(s["start"]), "end": int(s["end"])}
                for s in (pii.value if pii and isinstance(pii.value, list) else [])
            ],
            "duplicate_of": dedup_value.get("duplicate_of"),
            "dedup_key": dedup_value.get("key") or None,
            "explain": explain,
        }

    @staticmethod
    def _territory(res: StageResult | None) -> dict[str, Any]:
        value = res.value if res and isinstance(res.value, dict) else {}

        def place(item: Any) -> dict[str, Any] | None:
            if not isinstance(item, dict):
                return None
            return {"name": item.get("name"), "oktmo": item.get("oktmo")}

        region = value.get("region")
        return {
            "region": ({"code": region.get("code"), "name": region.get("name")}
                       if isinstance(region, dict) else None),
            "municipality": place(value.get("municipality")),
            "settlement": place(value.get("settlement")),
            "street": value.get("street"),
            "house": value.get("house"),
            "confidence": _conf(res),
        }


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Hold Python's cyclic garbage collector for the duration of one batch.

    A batch allocates tens of thousands of small dicts and lists (results, explanations)
    that are freed by reference counting; they still trigger a collection every 700
    allocations, and every hundredth of those is a full one over every object of the
    process (the imported libraries alone are ~130,000 objects: ~60 ms each time). That
    cost ~0.1 ms per message, a fifth of the pipeline. Collections resume after the batch
    (at most one batch's cyclic garbage waits for them) with one young-generation collection
    at once, so that the batch pays for the work it deferred (whatever ran next would pay
    for it otherwise); a collector that was off is left off.
    """
    enabled = gc.isenabled()
    if enabled:
        gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            gc.collect(0)


def _conf(res: StageResult | None) -> float:
    if res is None:
        return 0.0
    return round(min(max(float(res.confidence or 0.0), 0.0), 1.0), 4)
