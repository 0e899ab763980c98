"""Near-duplicate detection across batches."""

from __future__ import annotations

import pytest

from otklik.nlp.base import Doc
from otklik.nlp.dedup import (
    DedupStage,
    decode_signature,
    encode_signature,
    hashvalues,
    signature,
    similarity,
)

ORIGINAL = (
    "Третий день нет воды в доме 12 по улице Советской, управляющая компания не отвечает "
    "на звонки. Примите меры!"
)
EDITED = (
    "Третий день нет воды в доме 14 по улице Советской, управляющая компания не отвечает "
    "на звонки!!! Примите меры"
)
OTHER = "Продам гараж недорого в районе школы номер пять, звоните вечером"


def docs(*pairs: tuple[str, str]) -> list[Doc]:
    return [Doc(id=i, text=t) for i, t in pairs]


def test_signature_is_stable_compact_and_round_trips() -> None:
    sig = signature(ORIGINAL)
    assert sig == signature(ORIGINAL)
    assert len(sig) == 171
    assert encode_signature(decode_signature(sig)) == sig
    values = hashvalues(ORIGINAL)
    assert values is not None and len(values) == 64
    assert signature("") == ""


def test_similarity_estimates_jaccard() -> None:
    assert similarity(signature(ORIGINAL), signature(ORIGINAL.upper())) == 1.0
    assert similarity(signature(ORIGINAL), signature(EDITED)) > 0.75
    assert similarity(signature(ORIGINAL), signature(OTHER)) < 0.2


def test_copies_and_small_edits_point_to_the_first_seen() -> None:
    stage = DedupStage()
    out = stage.process(docs(("a", ORIGINAL), ("b", OTHER), ("c", EDITED),
                             ("d", "Репост: " + ORIGINAL)))
    assert out[0].value["duplicate_of"] is None
    assert out[1].value["duplicate_of"] is None
    assert out[2].value["duplicate_of"] == "a"
    assert out[3].value["duplicate_of"] == "a"
    assert 0.75 < out[2].confidence <= 1.0


def test_index_persists_across_batches() -> None:
    stage = DedupStage()
    stage.process(docs(("a", ORIGINAL)))
    assert stage.process(docs(("b", EDITED)))[0].value["duplicate_of"] == "a"
    assert len(stage) == 2


def test_replaying_a_message_does_not_make_it_its_own_copy() -> None:
    stage = DedupStage()
    stage.process(docs(("a", ORIGINAL), ("b", EDITED)))
    again = stage.process(docs(("a", ORIGINAL), ("b", EDITED)))
    assert again[0].value["duplicate_of"] is None
    assert again[1].value["duplicate_of"] == "a"


def test_seed_from_stored_pairs_resumes() -> None:
    stage = DedupStage()
    added = stage.seed([("a", signature(ORIGINAL)), ("b", signature(OTHER)), ("x", "garbage"),
                        ("y", "")])
    assert added == 2
    assert stage.process(docs(("c", EDITED)))[0].value["duplicate_of"] == "a"


def test_threshold_is_configurable() -> None:
    strict = DedupStage(threshold=0.99)
    strict.process(docs(("a", ORIGINAL)))
    assert strict.process(docs(("b", EDITED)))[0].value["duplicate_of"] is None


def test_short_texts_are_not_linked() -> None:
    out = DedupStage().process(docs(("a", "Спасибо!"), ("b", "Спасибо!")))
    assert out[1].value["duplicate_of"] is None
    assert out[1].explain["reason"] == "too short to compare"


@pytest.mark.parametrize(
    "text",
    ["", "😡😡", bytes(range(256)).decode("latin-1") * 20, "Нет воды. " * 10_000, "Hello world!"],
)
def test_bad_input(text: str) -> None:
    res = DedupStage().process(docs(("a", text)))[0]
    assert set(res.value) == {"key", "duplicate_of"}
    assert 0.0 <= res.confidence <= 1.0
