"""Relevance (appeal vs ad/spam/greeting/chatter) and kind."""

from __future__ import annotations

import pytest

from otklik.nlp.base import Doc
from otklik.nlp.language import LanguageStage
from otklik.nlp.morph import prepare
from otklik.nlp.normalize import NormalizeStage
from otklik.nlp.relevance import KindStage, RelevanceStage, personal_signs

BAD_INPUTS = [
    "",
    "😂😂😂🔥",
    bytes(range(256)).decode("latin-1") * 20,
    "Нет воды " * 12_000,
    "Hello, when will you fix the road?",
    "Дорога Road 道路 ✓ ?",
]


def docs_for(*texts: str) -> list[Doc]:
    docs = [Doc(id=str(i), text=t) for i, t in enumerate(texts)]
    NormalizeStage().process(docs)
    LanguageStage().process(docs)
    for d in docs:
        prepare(d)
    return docs


@pytest.fixture(scope="module")
def relevance() -> RelevanceStage:
    return RelevanceStage()


@pytest.fixture(scope="module")
def kind() -> KindStage:
    return KindStage()


@pytest.mark.parametrize(
    "text",
    [
        "Добрый день! Когда починят дорогу на ул. Ленина? Ямы по колено, бьём подвески",
        "Третий день нет воды в доме 12 по Советской, в УК не отвечают, примите меры!!!",
        "Сколько можно терпеть, мусор не вывозят с контейнерной площадки вторую неделю",
        "Предлагаю установить светофор у школы №3, дети перебегают дорогу",
        "Огромное спасибо администрации и водоканалу за быстрый ремонт трубы!",
        "подскажите куда обращатся по поводу перерасчета за отопление?",  # typo
        "Почему в поликлинике нельзя записаться к врачу через госуслуги?",
    ],
)
def test_appeals_are_relevant(relevance: RelevanceStage, text: str) -> None:
    res = relevance.process(docs_for(text))[0]
    assert res.value == {"relevant": True, "category": "appeal"}
    assert res.confidence > 0.5
    assert res.explain["cues"]["appeal"]


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Продам гараж в районе школы, недорого, 150 000 руб. Звоните 8-912-345-67-89", "ad"),
        ("Сдам 1-комн. квартиру на длительный срок, пишите в лс", "ad"),
        ("Подписывайтесь на канал! Заработок от 5000 в день без вложений https://t.me/x", "spam"),
        ("Пассивный доход, переходи по ссылке в профиле 💰💰", "spam"),
        ("С днём рождения, Мариночка! Счастья, здоровья 🎉🎉", "greeting"),
        ("Доброе утро, друзья! Хорошего всем дня", "greeting"),
        ("С Новым годом, дорогие земляки!", "greeting"),
        ("ахахах лол 😂", "chatter"),
        ("жиза", "chatter"),
    ],
)
def test_noise_is_not_relevant(relevance: RelevanceStage, text: str, category: str) -> None:
    res = relevance.process(docs_for(text))[0]
    assert res.value == {"relevant": False, "category": category}
    assert res.explain["cues"][category]


def test_greeting_in_front_of_a_complaint_does_not_hide_it(relevance: RelevanceStage) -> None:
    res = relevance.process(docs_for("Здравствуйте! У нас в подъезде не горит свет уже месяц"))[0]
    assert res.value["relevant"] is True


@pytest.mark.parametrize("text", BAD_INPUTS)
def test_bad_input_is_irrelevant_with_low_confidence(
    relevance: RelevanceStage, kind: KindStage, text: str
) -> None:
    docs = docs_for(text)
    res = relevance.process(docs)[0]
    k = kind.process(docs)[0]
    if docs[0].language != "ru":
        assert res.value["relevant"] is False
        assert res.confidence <= 0.5
    assert k.value in {"complaint", "question", "proposal", "gratitude", "other"}
    assert 0.0 <= k.confidence <= 1.0


def test_works_without_pipeline_preparation(relevance: RelevanceStage) -> None:
    res = relevance.process([Doc(id="1", text="Когда отремонтируют дорогу?")])[0]
    assert res.value["relevant"] is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Сколько можно терпеть! Мусор не вывозят, кругом грязь", "complaint"),
        ("Лифт не работает третий день, жалуюсь уже второй раз", "complaint"),
        ("Подскажите, пожалуйста, когда будет график отключения горячей воды?", "question"),
        ("Будет ли ремонт дороги на улице Мира в этом году?", "question"),
        ("Предлагаю сделать пешеходный переход у рынка, было бы хорошо поставить светофор",
         "proposal"),
        ("Хорошо бы поставить лавочки в сквере", "proposal"),
        ("Выражаю благодарность бригаде водоканала за оперативную работу!", "gratitude"),
        ("Спасибо большое, дорогу сделали!", "gratitude"),
        ("Вчера был на концерте в ДК", "other"),
    ],
)
def test_kind(kind: KindStage, text: str, expected: str) -> None:
    res = kind.process(docs_for(text))[0]
    assert res.value == expected, res.explain


def test_polite_thanks_in_advance_is_not_gratitude(kind: KindStage) -> None:
    res = kind.process(docs_for("Когда уберут снег во дворе? Заранее спасибо"))[0]
    assert res.value == "question"


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("Уберите наконец строительный мусор у подъезда", "imperative:уберите"),
        ("Отремонтируйте лавочки в сквере на Садовой", "imperative:отремонтируйте"),
        # perfective: the same form as the future ("вы установите")
        ("Установите знак пешеходного перехода у школы", "imperative:установите"),
        ("Почините фонарь во дворе дома 7", "imperative:почините"),
    ],
)
def test_a_plural_imperative_is_a_request(kind: KindStage, text: str, cue: str) -> None:
    res = kind.process(docs_for(text))[0]
    assert res.value == "complaint", res.explain
    assert cue in res.explain["cues"]["complaint"]


@pytest.mark.parametrize(
    "text",
    [
        "Звоните, пишите, заказывайте — доставка бесплатно",  # an ad's imperatives
        "Подписывайтесь на наш канал и ставьте лайки",
        "Берегите себя и своих близких!",
        "Представьте себе, вчера видел лося",
    ],
)
def test_imperatives_of_ads_and_chatter_ask_nothing(kind: KindStage, text: str) -> None:
    res = kind.process(docs_for(text))[0]
    assert not any(c.startswith("imperative:") for c in res.explain.get("cues", {})
                   .get("complaint", [])), res.explain


@pytest.mark.parametrize(
    ("text", "cue"),
    [
        ("Во дворе дома 14 снег не убирается с декабря", "не убирается"),
        ("Тротуар на Заводской так и не очищен", "не очищен"),
        ("Нет крышки у колодца напротив аптеки", "нет крышки"),
        ("Фонари на мкр Северный не горели всю неделю", "не горели"),
    ],
)
def test_a_negated_state_is_a_reported_defect(kind: KindStage, text: str, cue: str) -> None:
    res = kind.process(docs_for(text))[0]
    assert res.value == "complaint", res.explain
    assert cue in res.explain["cues"]["complaint"]


@pytest.mark.parametrize(
    "text",
    ["Я не знаю, что подарить маме", "Не делай так больше, ладно?", "Туда не стоит ходить",
     "Мы не смогли приехать на концерт"],
)
def test_opinions_and_advice_are_not_defects(kind: KindStage, text: str) -> None:
    res = kind.process(docs_for(text))[0]
    assert res.value != "complaint", res.explain


@pytest.mark.parametrize(
    "text",
    [
        "Сломанные качели на детской площадке, ребёнок чуть не упал",  # declension
        "Засорилась ливнёвка на перекрёстке Мира и Ленина, вода стоит по щиколотку",
        "Поваленное дерево перегородило тротуар на ул. Школьной",
        "Провал асфальта у д. 5 по пр-ту Победы",  # abbreviations
        "Заросший кустами пешеходный переход, водители не видят детей",
    ],
)
def test_a_described_defect_is_a_complaint(kind: KindStage, text: str) -> None:
    res = kind.process(docs_for(text))[0]
    assert res.value == "complaint", res.explain


@pytest.mark.parametrize(
    ("text", "parts"),
    [
        # the examples: short reports with no appeal wording
        ("проржавевшие почтовые ящики . 7 парадная", ("ящик", "проржав")),
        ("Листва на газоне", ("листва",)),
        ("Решетка", ("решетка",)),
        ("Мусор у второго подъезда", ("подъезд", "мусор")),
        ("Реклама на стене дома", ("реклама",)),  # two things, neither enough alone
        ("Люк открыт", ("люк", "открыт")),  # a short participle is a state
        ("Разметки нет", ("разметка", "нет")),
        ("Очистить", ("очист",)),  # a fix asked for
        ("Необходима уборка", ("уборка",)),
        ("Сломано", ("слома",)),  # the fault alone
        ("Не светят", ("не свет",)),
        ("Отсутствие люка)", ("люк", "отсутств")),  # a stray bracket is no smile
    ],
)
def test_a_bare_report_is_an_appeal(relevance: RelevanceStage, text: str,
                                    parts: tuple[str, ...]) -> None:
    res = relevance.process(docs_for(text))[0]
    assert res.value == {"relevant": True, "category": "appeal"}, res.explain
    report = next(c for c in res.explain["cues"]["appeal"] if c.startswith("report:"))
    assert all(part in report for part in parts), report


@pytest.mark.parametrize(
    "text",
    [
        "застряли в лифте)) наржались)",
        "Ура, снег!!! 😍",
        "Ты моя крыша над головой",
        "Хочу снега и мандаринов",
        "Я сегодня красила забор у бабушки",  # the writer's own day
        "Опасная игрушка для детей",  # a word that may tell a fault is not a state
        "Чистка монитора",  # a fix that asks nothing of anyone
        "Весна пришла. На дорогах повылезали первые табуреточники",
    ],
)
def test_words_of_the_city_in_a_personal_post_make_no_report(relevance: RelevanceStage,
                                                            text: str) -> None:
    res = relevance.process(docs_for(text))[0]
    assert res.value["relevant"] is False, res.explain
    assert not any(str(c).startswith("report:")
                   for c in res.explain.get("cues", {}).get("appeal", []))


@pytest.mark.parametrize(
    ("text", "signs"),
    [
        ("Друзья, всем привет :)", {"друзья", "smile"}),
        ("ахахах ну ты даёшь", {"ты", "laughter"}),
        ("красота 😍", {"emoji"}),
        ("Реклама (на двери", {"bracket"}),
        ("1) мусор; 2) яма (большая)", set()),  # numbering and a closed remark
    ],
)
def test_personal_signs(text: str, signs: set[str]) -> None:
    from otklik.nlp.morph import tokenize
    from otklik.nlp.normalize import normalize_text

    clean = normalize_text(text)[0]
    found = personal_signs(text, clean, tokenize(clean), frozenset({"ты", "друзья"}))
    assert set(found) == signs


def test_a_post_to_friends_is_chatter(relevance: RelevanceStage) -> None:
    res = relevance.process(docs_for("Друзья, кто идёт сегодня в кино? :)"))[0]
    assert res.value == {"relevant": False, "category": "chatter"}
    assert any(c.startswith("personal:") for c in res.explain["cues"]["chatter"])


@pytest.mark.parametrize(
    "text",
    [
        "Мне звонили из поликлиники, сказали ждать ещё месяц, запись к врачу закрыта",
        "Соседи продают ёлки прямо на газоне у подъезда",
        "Сдала анализы три недели назад, результата нет, в поликлинике не отвечают",
    ],
)
def test_selling_and_calling_verbs_in_a_story_are_no_advert(relevance: RelevanceStage,
                                                            text: str) -> None:
    res = relevance.process(docs_for(text))[0]
    assert res.value["category"] != "ad", res.explain
    assert "ad" not in res.explain.get("cues", {}), res.explain


def test_links_to_earlier_reports_on_a_state_portal_are_no_spam(
        relevance: RelevanceStage) -> None:
    text = ("Незаконная рекламная конструкция. Предыдущие обращения: "
            "https://gorod.gov.spb.ru/problems/1/ https://gorod.gov.spb.ru/problems/2/")
    res = relevance.process(docs_for(text))[0]
    assert res.value == {"relevant": True, "category": "appeal"}, res.explain
    spam = relevance.process(docs_for("Лучшие скидки тут https://t.me/a https://t.me/b"))[0]
    assert any(c.startswith("links×") for c in spam.explain["cues"]["spam"])
