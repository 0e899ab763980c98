"""Urgency levels and signals."""

from __future__ import annotations

import pytest

from otklik.nlp.base import Doc
from otklik.nlp.normalize import NormalizeStage
from otklik.nlp.urgency import UrgencyStage


def assess(text: str) -> tuple[str, list[str], dict]:
    doc = Doc(id="1", text=text)
    NormalizeStage().process([doc])
    res = UrgencyStage().process([doc])[0]
    assert 0.0 <= res.confidence <= 1.0
    return res.value["level"], res.value["signals"], res.explain


@pytest.mark.parametrize(
    ("text", "signal"),
    [
        ("Нет воды третьи сутки", "no_water"),
        ("воды нет с утра, из крана не течёт", "no_water"),
        ("Сидим без света, уже вечер", "no_power"),
        ("Отключили отопление в мороз", "no_heating"),
        ("Батареи ледяные, в квартире +14 градусов", "no_heating"),
        ("Пахнет газом в подъезде!", "gas_smell"),
        ("Сильный запах газа на лестнице", "gas_smell"),
        ("Провалился асфальт, машина в яме", "collapse"),
        ("Дети идут в школу по проезжей части, тротуара нет", "children_at_risk"),
        ("Аварийное дерево над детской площадкой", "hazard_tree"),
        ("Горит дом на Садовой, дым валит", "fire"),
        ("ДТП на перекрёстке, пострадал пешеход", "accident"),
        ("Топит подвал, прорыв трубы", "flood"),
        ("Гололёд, люди падают, сосульки висят над входом", "ice_snow"),
        ("Оголённые провода висят у остановки", "live_wire"),
        ("Открытый люк возле школы", "open_manhole"),
        ("Рухнул балкон, трещины по стене дома", "collapse"),
        ("Бродячие собаки покусали двоих детей во дворе школы", "animal_attack"),
        ("Стая кидается на прохожих у рынка", "animal_attack"),
        ("Застряли в лифте с ребёнком, диспетчер не отвечает", "people_trapped"),
        ("Лифт не работает месяц, бабушка не может выйти из квартиры", "people_trapped"),
    ],
)
def test_signals(text: str, signal: str) -> None:
    level, signals, explain = assess(text)
    assert signal in signals
    assert level in {"high", "critical"}
    assert explain["matched"][signal]


@pytest.mark.parametrize(
    "text",
    [
        "Пахнет газом в подъезде дома 5",
        "12 тысяч жителей без воды",
        "Весь район без воды уже второй день",
        "Отключили отопление в мороз -30, дети мёрзнут",
        "Пожар в общежитии",
        "Угроза жизни: аварийный дом, сыплются кирпичи",
    ],
)
def test_critical(text: str) -> None:
    assert assess(text)[0] == "critical"


def test_mass_affected_and_duration_are_explained() -> None:
    level, signals, explain = assess("Уже 5 дней без воды 3 дома на улице Мира")
    assert "mass_affected" in signals
    assert explain["duration_days"] == 5
    assert explain["people_affected"] >= 100
    assert level == "critical"


def test_duration_raises_nothing_on_its_own() -> None:
    level, signals, _ = assess("Третий день жду ответа на письмо про благоустройство")
    assert level == "normal"
    assert signals == []


@pytest.mark.parametrize(
    ("text", "level"),
    [
        ("Когда отремонтируют дорогу на Ленина?", "normal"),
        ("Фонари не горят на улице Школьной", "normal"),
        ("Спасибо за ремонт дороги!", "low"),
        ("Предлагаю поставить лавочки в парке", "low"),
    ],
)
def test_ordinary_messages(text: str, level: str) -> None:
    assert assess(text)[0] == level


@pytest.mark.parametrize(
    "text",
    ["", "😡😡😡", bytes(range(256)).decode("latin-1") * 20, "Нет воды! " * 12_000,
     "No water for three days"],
)
def test_bad_input(text: str) -> None:
    level, _, _ = assess(text)
    assert level in {"critical", "high", "normal", "low"}
