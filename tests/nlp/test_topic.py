"""Lexicon topic classification on real-looking messages, and the model/lexicon blend."""

from __future__ import annotations

import pytest

from otklik.nlp.base import Doc
from otklik.nlp.topic import CombinedTopicStage, LexiconTopicStage, ModelTopicStage
from otklik.nlp.training import TrainOptions, train


@pytest.fixture(scope="module")
def stage() -> LexiconTopicStage:
    return LexiconTopicStage()


def classify(stage: LexiconTopicStage, text: str, **meta) -> dict:
    result = stage.process([Doc(id="1", text=text, clean=text, meta=meta)])[0]
    assert 0.0 <= result.confidence <= 1.0
    return {"topic": result.value["topic"]["code"],
            "subtopic": (result.value["subtopic"] or {}).get("code"),
            "confidence": result.confidence, "explain": result.explain}


@pytest.mark.parametrize(
    ("text", "topic", "subtopic"),
    [
        ("На ул. Садовой ямища на ямище, колдобины такие, что подвеску оставили", "roads",
         "roads.potholes"),
        ("Опять не чистят снег на дороге в мкр Северный, гололёд, машины буксуют", "roads",
         "roads.snow"),
        ("Свет вырубили третий раз за неделю, РЭС трубку не берёт", "utilities",
         "utilities.power"),
        ("В квартире +14, батареи еле тёплые, отопительный сезон начался", "utilities",
         "utilities.heating"),
        ("Мусорку не вывозят вторую неделю, контейнерка переполнена, ТКО валяются", "waste",
         None),
        ("УК не реагирует на заявки, в подъезде не убирают, жкх только деньги берёт",
         "housing", None),
        ("Когда капремонт крыши? Взносы платим, а кровля течёт", "housing", None),
        ("Стая бродячих собак покусала ребёнка у школы в р-не вокзала", "ecology",
         "ecology.stray_animals"),
        ("Маршрутку №5 ждали час, автобусы ходят битком", "transport", "transport.frequency"),
        ("Невозможно записаться к терапевту, талонов нет, регистратура не отвечает", "health",
         "health.appointments"),
        ("Детский сад: не дают место в саду, очередь третий год", "education",
         "education.kindergarten"),
        ("Мужа мобилизовали, выплаты семье военнослужащего не пришли", "social",
         "social.svo_families"),
        ("В деревне нет связи, мобильный интернет не ловит совсем", "communications", None),
        ("Не платят зарплату уже два месяца, задержка зарплаты", "employment",
         "employment.wages"),
    ],
)
def test_real_messages(stage: LexiconTopicStage, text: str, topic: str, subtopic: str | None):
    got = classify(stage, text)
    assert got["topic"] == topic, got
    if subtopic:
        assert got["subtopic"] == subtopic, got
    assert got["confidence"] > 0.4
    assert got["explain"]["matched"][topic]


def test_declensions_match_the_same_phrase(stage: LexiconTopicStage) -> None:
    forms = ["Яма на дороге", "Ямы на дорогах", "Про ямы на дороге", "Ямами вся дорога покрыта"]
    assert {classify(stage, t)["topic"] for t in forms} == {"roads"}


def test_two_spellings_of_one_phrase_score_once(stage: LexiconTopicStage) -> None:
    # roads.snow lists «не чистят» and «не чистит» (one lemma phrase); counted twice, a bare
    # «не чистит» outweighed the container site the text is about.
    got = classify(stage, "Контейнерная площадка по адресу ш. Южное бесхозная, её никто "
                   "не чистит")
    assert (got["topic"], got["subtopic"]) == ("waste", "waste.container_sites"), got
    counts = stage.index.scan(["никто", "не", "чистить"])
    assert sum(n for (code, _w, _p), n in counts.items() if code == "roads.snow") == 1


def test_more_evidence_means_more_confidence(stage: LexiconTopicStage) -> None:
    weak = classify(stage, "дорога")["confidence"]
    strong = classify(stage, "Разбитая дорога, ямы и выбоины, асфальт провалился")["confidence"]
    assert strong > weak


def test_season_bonus(stage: LexiconTopicStage) -> None:
    text = "снег и лёд во дворе"
    winter = stage.process([Doc(id="1", text=text, meta={"month": 1})])[0]
    summer = stage.process([Doc(id="1", text=text, meta={"month": 7})])[0]
    assert winter.explain["scores"] != summer.explain["scores"]


@pytest.mark.parametrize(
    "text",
    ["", "   ", "😀😀😀🔥🔥", "Hello, this is an English message about nothing",
     "\x00\x01\x02\ufffd" * 50, "а" * 100_000, "ыыы " * 25_000],
)
def test_bad_input_low_confidence_no_exception(stage: LexiconTopicStage, text: str) -> None:
    got = classify(stage, text)
    assert got["confidence"] < 0.3


@pytest.fixture(scope="module")
def topic_model():
    texts = [
        *(f"Яма на дороге по улице {s}, асфальт разбит" for s in ("Ленина", "Мира", "Садовой")),
        *(f"Выбоины на трассе в районе {s}, колея" for s in ("рынка", "школы", "моста")),
        *(f"Мусор не вывозят с площадки у дома {n}" for n in (1, 2, 3)),
        *(f"Контейнеры переполнены во дворе дома {n}" for n in (4, 5, 6)),
    ]
    labels = ["roads.potholes"] * 6 + ["waste.collection"] * 6
    return train(list(zip(texts, labels, strict=True)), TrainOptions(folds=2),
                 evaluate=False).model


def test_model_stage_reports_label_probability_and_features(topic_model) -> None:
    stage = ModelTopicStage(topic_model)
    assert stage.predicts_topics
    res = stage.process([Doc(id="1", text="Огромная яма на дороге, асфальт разбит")])[0]
    assert res.value["value"] == "roads.potholes"
    assert 0.5 < res.confidence <= 1.0
    assert res.explain["top_features"]


def test_combined_stage_uses_model_and_keeps_lexicon_explanation(stage, topic_model) -> None:
    combined = CombinedTopicStage(stage, ModelTopicStage(topic_model))
    res = combined.process([Doc(id="1", text="Мусор не вывозят, контейнер переполнен")])[0]
    assert res.value["topic"]["code"] == "waste"
    assert res.explain["source"] == "combined"
    assert combined.last_labels[0].value["value"] == "waste.collection"


def test_combined_without_model_is_lexicon(stage) -> None:
    combined = CombinedTopicStage(stage)
    res = combined.process([Doc(id="1", text="Нет горячей воды")])[0]
    assert res.value["topic"]["code"] == "utilities"
    assert res.explain["source"] == "lexicon"
