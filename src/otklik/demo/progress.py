"""How far the demo's load is: one tracker per process, shown in the terminal (Rich) and on
every page (a banner polling ``/demo/progress``) while ``otklik demo`` serves and loads the
rest behind the first page.

The overall percent weighs each stage by what it costs (seconds per item measured on the
2-core machine, docs/performance.md), so the bar moves evenly rather than racing through the
import and stalling on the cases.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

#: Stages in load order: key, Russian label, English label, relative cost per item.
STAGES: tuple[tuple[str, str, str, float], ...] = (
    ("messages", "сообщения", "messages", 1.0),
    ("enrichment", "обогащение", "enrichment", 5.5),
    ("cases", "обращения", "cases", 12.0),
    ("work", "90 дней работы", "90 days of work", 46.0),
    ("archive", "архив Карелии", "Karelia's archive", 3.0),
    ("extras", "решения, конкурс, копии фейков", "decisions, contest, fakes", 1.0),
    ("pages", "официальные страницы", "official pages", 40.0),
)
LABELS = {key: (ru, en) for key, ru, en, _ in STAGES}
_COST = {key: cost for key, _, _, cost in STAGES}


@dataclass
class _Stage:
    total: int = 0
    done: int = 0


@dataclass
class LoadTracker:
    """Thread-safe progress of one load (the loader thread writes, requests read)."""

    stages: dict[str, _Stage] = field(default_factory=dict)
    current: str = ""
    running: bool = False
    finished: bool = False
    error: str = ""
    started_at: float = 0.0
    _shown: int = 0  # never goes back when a stage is re-sized
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def begin(self, totals: dict[str, int]) -> None:
        """A load starts with these expected items per stage (a stage may be re-sized)."""
        with self._lock:
            self.stages = {key: _Stage(totals.get(key, 0)) for key, *_ in STAGES}
            self.current, self.running, self.finished, self.error = "", True, False, ""
            self.started_at, self._shown = time.monotonic(), 0

    def resize(self, stage: str, total: int) -> None:
        with self._lock:
            if stage in self.stages:
                self.stages[stage].total = total

    def advance(self, stage: str, n: int = 1) -> None:
        with self._lock:
            if stage in self.stages:
                self.stages[stage].done += n
                self.current = stage

    def finish(self) -> None:
        with self._lock:
            for stage in self.stages.values():
                stage.done = max(stage.done, stage.total)
            self.running, self.finished, self.current = False, True, ""

    def fail(self, message: str) -> None:
        with self._lock:
            self.running, self.error = False, message

    def percent(self) -> int:
        """0-100, weighted by each stage's cost; 100 only once the load has finished."""
        with self._lock:
            if self.finished:
                return 100
            weights = {k: _COST[k] * max(s.total, 1) for k, s in self.stages.items()}
            whole = sum(weights.values())
            if not whole:
                return 0
            done = sum(weights[k] * min(s.done / s.total, 1.0) if s.total else 0.0
                       for k, s in self.stages.items())
            self._shown = max(self._shown, min(99, int(100 * done / whole)))
            return self._shown

    def snapshot(self) -> dict[str, object]:
        """What the banner and the JSON endpoint show."""
        percent = self.percent()
        with self._lock:
            ru, en = LABELS.get(self.current, ("", ""))
            return {"loading": self.running, "finished": self.finished, "percent": percent,
                    "stage": self.current, "stage_ru": ru, "stage_en": en,
                    "error": self.error,
                    "seconds": round(time.monotonic() - self.started_at, 1)
                    if self.started_at else 0.0}


#: The process's tracker: idle (not loading) unless ``otklik demo`` loads behind the pages.
tracker = LoadTracker()
