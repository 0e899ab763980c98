"""The whole enrichment pipeline on real-looking messages and on bad input."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

import pytest

from otklik.nlp.base import Doc, Stage, StageResult
from otklik.nlp.pipeline import PREPARE, Pipeline


@pytest.fixture(scope="module")
def pipeline() -> Pipeline:
    return Pipeline.default(region="46")


def test_a_real_complaint(pipeline: Pipeline) -> None:
    [rec] = pipeline.process([{
        "id": "vk-1",
        "text": "<p>Здравствуйте! Третий день нет воды на ул. Ленина, д. 12 в г. Льгове. "
                "Водоканал трубку не берёт, дети и старики без воды!!!</p>",
    }])
    assert rec["id"] == "vk-1"
    assert rec["language"] == "ru"
    assert rec["topic"]["code"] == "utilities"
    assert rec["subtopic"]["code"] == "utilities.no_water"
    assert rec["urgency"]["topic_default"] == "critical"
    assert rec["label"] is None
    assert rec["explain"]["topic"]["matched"]["utilities"]


def test_batch_keeps_order_and_finds_copies(pipeline: Pipeline) -> None:
    text = ("Во дворе дома 7 по ул. Гагарина огромная яма, машины не могут проехать, "
            "просим заасфальтировать двор")
    out = pipeline.process([{"id": "a", "text": text}, {"id": "b", "text": "Спасибо!"},
                            {"id": "c", "text": text + "!!"}])
    assert [r["id"] for r in out] == ["a", "b", "c"]
    assert out[2]["duplicate_of"] == "a"


@pytest.mark.parametrize(
    "text",
    ["", None, "😀😀😀🔥🔥🔥", "Hello! Buy cheap watches at example.com",
     "\x00\x01\x02ÿþ\ufffd" * 30, "яма " * 25_000, "Прівіт, як справи? Hello мир 123"],
)
def test_bad_input_never_raises(pipeline: Pipeline, text: str | None) -> None:
    [rec] = pipeline.process([{"id": "x", "text": text}])
    assert rec["id"] == "x"
    if not text or not any("а" <= ch <= "я" for ch in str(text).lower()):
        assert rec["relevant"] is False
        assert rec["topic"]["confidence"] < 0.3


def test_missing_id_gets_a_line_number(pipeline: Pipeline) -> None:
    [rec] = pipeline.process([{"text": "Нет света"}])
    assert rec["id"].startswith("#")


def test_timings_cover_every_stage(pipeline: Pipeline) -> None:
    pipeline.process([{"id": "t", "text": "Не работает светофор на перекрёстке"}])
    assert PREPARE in pipeline.timings
    assert {s.name for s in pipeline.stages} <= set(pipeline.timings)
    assert not pipeline.skipped


class _Exploding(Stage):
    name: ClassVar[str] = "sentiment"

    def process(self, docs: Sequence[Doc]) -> list[StageResult]:
        if any("взрыв" in d.text for d in docs):
            raise RuntimeError("boom")
        return [StageResult("neutral", 0.5) for _ in docs]


def test_a_failing_stage_only_loses_its_own_document() -> None:
    pipe = Pipeline([_Exploding()])
    out = pipe.process([{"id": "1", "text": "Всё хорошо"}, {"id": "2", "text": "взрыв"}])
    assert out[0]["sentiment"] == {"value": "neutral", "confidence": 0.5}
    assert out[1]["sentiment"]["value"] is None
    assert "boom" in out[1]["explain"]["sentiment"]["error"]


def test_iter_process_streams_in_batches(pipeline: Pipeline) -> None:
    records = ({"id": str(i), "text": f"Яма на дороге у дома {i}"} for i in range(7))
    out = list(pipeline.iter_process(records, batch_size=3))
    assert [r["id"] for r in out] == [str(i) for i in range(7)]


def test_questions_and_complaints_about_public_matters_are_relevant() -> None:
    from otklik.nlp.pipeline import Pipeline

    pipeline = Pipeline.default(region="68")
    texts = {
        "q": "Сколько денег выделили на ремонт путепровода на Лаврвоа и когад торги?",
        "c": "народ, на путепроводе по ул. Лаврова нвоые трещины, страшно ехать. "
             "Кто-нибудь вообще это видит?",
        "ad": "Продам гараж недорого, звоните",
        "hi": "Всем доброе утро! Хорошего дня ☀️",
        "chat": "Кто смотрел вчера футбол? Наши опять проиграли",
    }
    out = {r["id"]: r for r in pipeline.process([{"id": k, "text": v} for k, v in texts.items()])}
    assert out["q"]["relevant"] and out["c"]["relevant"]
    assert not out["ad"]["relevant"] and not out["hi"]["relevant"]
    assert not out["chat"]["relevant"]


def test_a_reported_hazard_is_a_relevant_complaint_even_without_appeal_words() -> None:
    from otklik.nlp.pipeline import Pipeline

    pipeline = Pipeline.default()
    texts = {
        "water": "В детском саду №5 нет горячей воды уже неделю, детей не во что помыть",
        "dogs": "Стая собак у остановки кидается на прохожих, ребёнка укусили",
        "lift": "Третий день не работает лифт в доме 12 на ул. Гагарина, пожилые люди "
                "не могут выйти из квартиры",
        "chat": "Собака соседа опять лает всю ночь, вот бы её на дачу увезли",
    }
    out = {r["id"]: r for r in pipeline.process([{"id": k, "text": v} for k, v in texts.items()])}
    for key in ("water", "dogs", "lift"):
        assert out[key]["relevant"], key
        assert out[key]["kind"]["value"] == "complaint", key
        assert out[key]["urgency"]["level"] in ("high", "critical"), key
    assert out["dogs"]["urgency"]["signals"] == ["animal_attack"]
    assert "people_trapped" in out["lift"]["urgency"]["signals"]
    assert out["chat"]["urgency"]["signals"] == []


def test_a_bare_report_of_a_defect_is_relevant_and_a_word_of_a_poem_is_not() -> None:
    """A resident's short report names the thing and what is wrong with it, without "прошу";
    a poem or a joke that happens to use a word of the rubricator ("крыша") is not a matter
    for the center: the rubricator must be sure of the subject."""
    from otklik.nlp.pipeline import Pipeline

    pipeline = Pipeline.default()
    texts = {
        "hatch": "Разбит люк смотрового колодца на проезжей части у дома 3 по ул. Мира",
        "drain": "Засорена ливневая канализация на остановке, после дождя не пройти",
        "grass": "Во дворе дома 8 по ул. Полевой не скошена трава, заросли выше человека",
        "poem": "Стучит по плоским крышам дождь до утра, и улица пуста, и мне не спится",
        "joke": "Подруга шлепнулась на льду, а потом и я сама, ну с кем не бывает",
    }
    out = {r["id"]: r for r in pipeline.process([{"id": k, "text": v} for k, v in texts.items()])}
    for key in ("hatch", "drain", "grass"):
        assert out[key]["relevant"], (key, out[key]["explain"])
        assert out[key]["kind"]["value"] == "complaint", key
    assert not out["poem"]["relevant"], out["poem"]["explain"]
    assert not out["joke"]["relevant"], out["joke"]["explain"]


def test_words_adverts_share_with_appeals_do_not_make_an_appeal_an_advert() -> None:
    """«требуется замена», «коммунальные услуги», «магазин» belong to appeals too; an advert
    is told by its selling words, prices and phones."""
    from otklik.nlp.pipeline import Pipeline

    pipeline = Pipeline.default()
    texts = {
        "hatch": "Разбит канализационный люк смотрового колодца у дома 4, требуется замена",
        "bill": "Горячая вода еле тёплая, а за услугу берут полную плату, отопление тоже "
                "ниже нормы",
        "shop": "Невозможно заехать на парковку у магазина на Мира, сплошная разметка",
        "job": "Требуются водители категории Д, зарплата от 60 тыс., звоните 8-900-111-22-33",
        "trade": "Услуги электрика, быстро и недорого, гарантия на работы",
    }
    out = {r["id"]: r for r in pipeline.process([{"id": k, "text": v} for k, v in texts.items()])}
    for key in ("hatch", "bill", "shop"):
        assert out[key]["relevant"], (key, out[key]["explain"].get("relevance"))
    for key in ("job", "trade"):
        assert not out[key]["relevant"] and out[key]["relevance"]["category"] == "ad", key


def test_a_post_to_friends_about_a_rubric_subject_is_no_public_matter(
        pipeline: Pipeline) -> None:
    """The rubric rule reads a complaint about a rubric subject as a public matter; a post
    with the signs of one to friends (a smile, laughter, "ты") is chatter and stays out."""
    texts = {
        "plain": "Опять новые трещины на путепроводе, страшно ездить",
        "smile": "Опять новые трещины на путепроводе, страшно ездить)))",
        "laugh": "ахахах опять новые трещины на путепроводе, страшно ездить",
    }
    out = {r["id"]: r for r in pipeline.process([{"id": k, "text": v} for k, v in texts.items()])}
    assert out["plain"]["relevant"]
    assert out["plain"]["explain"]["relevance"]["public_matter"] == "roads"
    for key in ("smile", "laugh"):
        assert not out[key]["relevant"], key
        assert out[key]["relevance"]["category"] == "chatter", key
        assert "public_matter" not in out[key]["explain"].get("relevance", {}), key
