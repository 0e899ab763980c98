"""Residents' replies to a published answer: reopen, close, question, neutral."""

from __future__ import annotations

import pytest

from otklik.answers.feedback import Feedback, classify_feedback, rating_from_reaction

REOPEN = [
    "ничего не сделано",
    "Как была яма так и есть",
    "как лежал мусор у гаражей, так и лежит",
    "Опять отписка.",
    "враньё, никто не приезжал",
    "Вы издеваетесь?",
    "Ничего не изменилось, вода ржавая как и была",
    "Никого не было, фото в ответе вообще не с нашего двора",
    "Так и не починили, третий месяц без света в подъезде",
    "Ответ не соответствует действительности, контейнеры переполнены",
    "Обещали до пятницы, а воз и ныне там",
    "Когда уже сделаете?! Сколько можно ждать",
    "Очередная отписка для галочки 😡",
    "Яма на месте, машины бьют колёса каждый день",
    "Сделали кое-как, через неделю опять развалилось",
]

CLOSE = [
    "Спасибо, починили!",
    "Сделали, благодарю",
    "вывезли, спасибо!",
    "Свет дали, спасибо большое",
    "Огромное спасибо, всё работает 👍",
    "Молодцы, оперативно!",
    "Яму заделали, спасибо администрации",
    "Батареи горячие, проблема решена. Благодарим!",
]


@pytest.mark.parametrize("text", REOPEN)
def test_complaints_reopen(text: str) -> None:
    fb = classify_feedback(text)
    assert fb.value == "negative", fb
    assert fb.reopen and not fb.close
    assert fb.evidence


@pytest.mark.parametrize("text", CLOSE)
def test_confirmations_close(text: str) -> None:
    fb = classify_feedback(text)
    assert fb.value == "positive", fb
    assert fb.close and not fb.reopen
    assert fb.confidence >= 0.6


@pytest.mark.parametrize("text", [
    "а когда именно?",
    "А в какой срок сделают?",
    "Спасибо! А когда сделают тротуар?",
    "Скажите, кто ответственный за ремонт?",
])
def test_questions_neither_reopen_nor_close(text: str) -> None:
    fb = classify_feedback(text)
    assert fb.value == "question", fb
    assert not fb.reopen and not fb.close


@pytest.mark.parametrize("text", [
    "Спасибо, ждём",
    "Понятно",
    "ок",
    "Посмотрим",
    "Спасибо за ответ",
    "",
])
def test_acknowledgements_are_neutral(text: str) -> None:
    fb = classify_feedback(text)
    assert fb.value == "neutral", fb
    assert not fb.reopen and not fb.close


@pytest.mark.parametrize("text", [
    "спасибо, конечно, но ничего не изменилось",
    "Спасибо за ответ, однако яма на месте",
    "Ну спасибо, как текло с крыши так и течёт",
    "Благодарю, но никто не приезжал",
    "Спасибо большое за очередную отписку",
])
def test_thanks_with_a_complaint_is_negative(text: str) -> None:
    fb = classify_feedback(text)
    assert fb.value == "negative", fb
    assert fb.reopen


def test_contrast_makes_the_last_part_decide() -> None:
    late_fix = classify_feedback("Долго ничего не делали, но сегодня приехали и починили, спасибо")
    assert late_fix.value == "positive" and late_fix.close
    fixed_badly = classify_feedback("Починили, спасибо, но криво, уже развалилось")
    assert fixed_badly.value == "negative" and fixed_badly.reopen


def test_sarcastic_quotes_around_the_fix_are_negative() -> None:
    fb = classify_feedback("«Отремонтировали», ага. Засыпали щебнем, через день всё смыло")
    assert fb.value == "negative"
    assert "«отремонтировали»" in fb.evidence


def test_negated_fix_is_a_complaint() -> None:
    fb = classify_feedback("до сих пор не заменили лампу в подъезде")
    assert fb.value == "negative"
    assert any("не заменили" in e for e in fb.evidence)


def test_surprise_is_not_a_negation() -> None:
    fb = classify_feedback("Ничего себе, быстро сделали!")
    assert fb.value == "positive" and fb.close
    partly = classify_feedback("Не совсем убрали, половина мусора осталась")
    assert partly.value == "negative" and "не совсем убрали" in partly.evidence


def test_future_fix_is_not_a_report_of_work_done() -> None:
    fb = classify_feedback("Когда уже сделаете?!")
    assert fb.value == "negative" and "сделаете" not in fb.evidence


@pytest.mark.parametrize(("text", "value"), [
    ("спосибо большое, пачинили!!!", "positive"),
    ("Спасибооо, вывизли наконец", "positive"),
    ("нечего не зделали", "negative"),
    ("атписка опять", "negative"),
    ("вы издеваитесь??", "negative"),
    ("ниче не поменялось", "negative"),
])
def test_typos_and_letter_repeats(text: str, value: str) -> None:
    assert classify_feedback(text).value == value


@pytest.mark.parametrize(("text", "value"), [
    ("👍", "positive"),
    ("🙏🙏🙏", "positive"),
    ("😡😡😡", "negative"),
    ("👎", "negative"),
    ("Сделали)))", "positive"),
    ("опять ничего(((", "negative"),
])
def test_emoji_and_emoticons(text: str, value: str) -> None:
    assert classify_feedback(text).value == value


def test_feedback_is_serialisable() -> None:
    data = classify_feedback("Спасибо, починили!").to_dict()
    assert data["value"] == "positive" and data["close"] is True
    assert isinstance(data["evidence"], list) and 0.5 <= data["confidence"] <= 1


@pytest.mark.parametrize(("rating", "value", "reopen", "close"), [
    (1, "negative", True, False),
    (2, "negative", True, False),
    (3, "neutral", False, False),
    (4, "positive", False, True),
    (5, "positive", False, True),
    ("5", "positive", False, True),
    ("2/5", "negative", True, False),
    ("9/10", "positive", False, True),
    ("★★★★☆", "positive", False, True),
    ("★☆☆☆☆", "negative", True, False),
    (4.5, "positive", False, True),
])
def test_star_ratings(rating: str | int | float, value: str, reopen: bool, close: bool) -> None:
    fb = rating_from_reaction(rating)
    assert (fb.value, fb.reopen, fb.close) == (value, reopen, close)


def test_extreme_stars_are_more_certain_than_middle_ones() -> None:
    assert rating_from_reaction(1).confidence > rating_from_reaction(2).confidence
    assert rating_from_reaction(5).confidence > rating_from_reaction(4).confidence


@pytest.mark.parametrize(("reaction", "value"), [
    ("👍", "positive"), ("like", "positive"), ("❤️", "positive"), ("+1", "positive"),
    ("👎", "negative"), ("dislike", "negative"), ("😡", "negative"), ("-1", "negative"),
    ("wow", "neutral"), ("😂", "neutral"),
])
def test_reactions(reaction: str, value: str) -> None:
    fb: Feedback = rating_from_reaction(reaction)
    assert fb.value == value
    assert fb.reopen == (value == "negative") and fb.close == (value == "positive")


@pytest.mark.parametrize("bad", [0, 6, "7/5", True])
def test_ratings_outside_the_scale_are_refused(bad: int | str | bool) -> None:
    with pytest.raises(ValueError):
        rating_from_reaction(bad)
