"""The contract every language stage follows.

A stage is a small object with ``process(docs) -> results``: it takes a batch of
:class:`Doc` (already normalized and tokenized once by the pipeline), runs without a
database, and returns one :class:`StageResult` per document, each with a confidence
in [0, 1] and an explanation a person can read (matched terms, top features).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar


@dataclass
class Doc:
    """One message as the stages see it.

    ``text`` is what the resident wrote; ``clean`` is the normalized text (set by the
    normalization stage); ``tokens``/``lemmas`` are filled once by the pipeline so that
    every stage shares one morphological analysis. ``region`` is a hint: the OKTMO
    region code (2 digits, e.g. "86" Karelia) of the source the message came from.
    """

    id: str
    text: str
    region: str | None = None
    clean: str = ""
    language: str = ""
    tokens: list[str] = field(default_factory=list)
    lemmas: list[str] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)


@dataclass
class StageResult:
    """What a stage decided about one document."""

    value: Any
    confidence: float = 0.0
    explain: dict[str, Any] = field(default_factory=dict)


class Stage(ABC):
    """A language stage: pure, batch-oriented, explainable."""

    name: ClassVar[str]

    @abstractmethod
    def process(self, docs: Sequence[Doc]) -> list[StageResult]:
        """Return one result per document, in the same order."""
