"""The rubricator (topics and subtopics) shipped as data, with its loader."""

from otklik.nlp.taxonomy.taxonomy import (
    DEFAULT_PATH,
    OTHER_CODE,
    URGENCY_LEVELS,
    Subtopic,
    Taxonomy,
    TaxonomyError,
    Topic,
    load_taxonomy,
)

__all__ = [
    "DEFAULT_PATH",
    "OTHER_CODE",
    "URGENCY_LEVELS",
    "Subtopic",
    "Taxonomy",
    "TaxonomyError",
    "Topic",
    "load_taxonomy",
]
