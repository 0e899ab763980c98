"""The brush-off (отписка) detector on real-looking Russian answers of both kinds."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import pytest

from otklik.answers.quality import (
    BLOCKING_FLAGS,
    WARNING_FLAGS,
    QualityReport,
    RecentAnswer,
    check_answer,
    split_sentences,
)
from otklik.answers.terms import find_terms
from otklik.nlp.dedup import signature

NOW = date(2026, 11, 20)

# (topic, subtopic, answer): concrete answers that must pass with no blocking flag.
GOOD_ANSWERS: list[tuple[str, str, str]] = [
    ("roads", "roads.potholes",
     "Уважаемый Иван Петрович! По Вашему обращению сообщаем, что 18.11.2026 подрядной "
     "организацией ООО «Дорстрой» выполнен ямочный ремонт проезжей части ул. Ленина у д. 15 "
     "площадью 42 кв. м. С уважением, МКУ «Управление дорог»."),
    ("roads", "roads.potholes",
     "Рассмотрев Ваше обращение, сообщаем, что ремонт дорожного покрытия на ул. Советской "
     "будет выполнен до 15 декабря 2026 года в рамках муниципального контракта № 17."),
    ("roads", "roads.snow",
     "Сообщаем, что 19 ноября силами МБУ «Горсервис» проведена механизированная очистка "
     "проезжей части и тротуаров по ул. Мира от снега, выполнена подсыпка "
     "противогололедными материалами."),
    ("roads", "roads.unpaved",
     "Грейдирование дороги по ул. Полевой в д. Никольское будет выполнено в течение "
     "5 рабочих дней, подсыпка щебнем — до 30 ноября 2026 г."),
    ("housing", "housing.roof",
     "Управляющей организацией ООО «УК Жилсервис» 17.11.2026 устранена протечка кровли над "
     "кв. 48 дома № 7 по ул. Гоголя: заменено 12 кв. м рулонного покрытия. Ремонт "
     "потолка в квартире будет выполнен до 5 декабря 2026 года."),
    ("housing", "housing.elevators",
     "Специалистами подрядной организации ООО «Лифтсервис» 16.11.2026 заменён тяговый канат "
     "лифта в подъезде № 2 дома 14 по пр. Победы, лифт запущен в работу."),
    ("housing", "housing.payments",
     "По результатам проверки управляющей компанией произведён перерасчёт платы за "
     "содержание жилого помещения за октябрь 2026 года, сумма будет отражена в квитанции за "
     "ноябрь."),
    ("waste", "waste.collection",
     "Сообщаем, что 19.11.2026 региональным оператором вывезен мусор с контейнерной "
     "площадки по ул. Гагарина, 12, дополнительно установлен контейнер для КГО. График "
     "вывоза ТКО увеличен до ежедневного."),
    ("waste", "waste.illegal_dumps",
     "Несанкционированная свалка в районе гаражного кооператива «Северный» ликвидирована "
     "20 ноября 2026 года: вывезено 18 куб. м отходов, территория огорожена."),
    ("utilities", "utilities.heating",
     "На место направлена аварийная бригада ресурсоснабжающей организации, ведутся работы "
     "по устранению порыва теплосети. Подача отопления будет возобновлена до 18:00 "
     "сегодняшнего дня."),
    ("utilities", "utilities.no_water",
     "Водоснабжение по ул. Заречной восстановлено 19.11.2026 в 16:40 после замены участка "
     "трубопровода длиной 6 м. Благодарим за терпение."),
    ("improvement", "improvement.trees",
     "В ходе обследования установлено, что дерево по адресу ул. Пушкина, 3 является "
     "аварийным. Спил дерева будет произведён подрядной организацией в течение 10 рабочих "
     "дней."),
    ("improvement", "improvement.street_lighting",
     "Заменены 4 светильника уличного освещения на опорах по ул. Школьной, освещение "
     "включено 18 ноября. Восстановление кабельной линии у дома 9 запланировано на "
     "IV квартал 2026 года."),
    ("transport", "transport.frequency",
     "С 1 декабря 2026 года на маршруте № 12 перевозчиком будут добавлены два рейса в "
     "часы пик: отправление от остановки «Вокзал» в 7:10 и 17:40."),
    ("ecology", "ecology.stray_animals",
     "По заявке отловлены 3 собаки без владельцев в районе школы № 5, животные доставлены в "
     "приют для стерилизации и вакцинации. Повторный выезд бригады — до 27 ноября."),
    ("health", "health.appointments",
     "Вы записаны на приём к врачу-эндокринологу поликлиники № 2 на 25 ноября 2026 г. в "
     "10:30, кабинет 214. Талон можно получить в регистратуре."),
    ("social", "social.benefits",
     "Уважаемая Мария Ивановна! Ваше заявление о назначении ежемесячной выплаты на ребенка "
     "рассмотрено, выплата назначена с 1 ноября 2026 года, первое перечисление будет "
     "произведено до 25 ноября 2026 года."),
    ("education", "education.kindergarten",
     "Сообщаем, что Вашему ребенку предоставлено место в МАДОУ «Детский сад № 12» с "
     "1 декабря 2026 года. Направление выдано, для зачисления необходимо обратиться в "
     "детский сад до 28 ноября."),
    ("utilities", "utilities.power",
     "По информации ПАО «Россети Центр», причина отключения — повреждение провода "
     "ВЛ-0,4 кВ. Аварийная бригада восстановила электроснабжение 19.11.2026 в 21:15. Замена "
     "участка провода будет выполнена до 30 ноября 2026 года."),
    ("transport", "transport.stops",
     "Остановочный павильон «Школа» на маршруте № 3 будет установлен в течение 14 дней, "
     "подрядчик определён по итогам закупки."),
]

# (topic, subtopic, answer, expected blocking flags among the raised ones).
BAD_ANSWERS: list[tuple[str, str, str, set[str]]] = [
    ("roads", "roads.potholes",
     "Уважаемый житель! Ваше обращение рассмотрено. Информация принята к сведению. Вопрос "
     "находится на контроле администрации. Работа в данном направлении ведется.",
     {"no_action"}),
    ("housing", "housing.roof",
     "Ваше обращение рассмотрено. По вопросу протечки кровли рекомендуем обратиться в "
     "управляющую компанию ООО «УК Жилсервис», которая в соответствии с действующим "
     "законодательством обязана содержать общее имущество многоквартирного дома.",
     {"redirect_only"}),
    ("waste", "waste.collection",
     "Вывоз твердых коммунальных отходов по указанному адресу будет организован в "
     "ближайшее время. Вопрос находится на контроле регионального оператора.",
     {"no_date"}),
    ("roads", "roads.potholes",
     "Вопрос о проведении ремонта дороги по ул. Садовой будет рассмотрен при формировании "
     "плана работ на 2027 год. Рассмотрим возможность включения участка в программу.",
     {"no_action"}),
    ("roads", "roads.potholes",
     "Ваше обращение направлено по компетенции в Министерство транспорта и автомобильных "
     "дорог области для рассмотрения и принятия мер в рамках полномочий.",
     {"redirect_only"}),
    ("utilities", "utilities.heating",
     "Администрацией в рамках своей компетенции проводится работа по данному вопросу. "
     "Принимаются все необходимые меры. О результатах будет сообщено дополнительно.",
     {"no_action"}),
    ("improvement", "improvement.playgrounds",
     "Установка детской площадки во дворе дома № 4 по ул. Лесной будет выполнена в "
     "плановом порядке. Благодарим за активную гражданскую позицию.",
     {"no_date"}),
    ("roads", "roads.potholes",
     "Проведены работы.",
     {"too_short"}),
    ("housing", "housing.mc_inaction",
     "Указанный вопрос не входит в компетенцию администрации района. Для решения вопроса "
     "Вам необходимо обратиться в Государственную жилищную инспекцию области.",
     {"redirect_only"}),
    ("roads", "roads.snow",
     "По вопросу уборки снега сообщаем, что ситуация находится на особом контроле, "
     "подрядчику поставлена задача, даны поручения профильным службам.",
     {"no_action"}),
    ("transport", "transport.frequency",
     "Ваше предложение об увеличении количества рейсов будет учтено при формировании "
     "расписания. Информация принята к сведению, вопрос прорабатывается.",
     {"no_action"}),
    ("roads", "roads.potholes",
     "Сообщаем, что ремонт не представляется возможным выполнить в текущем году в связи с "
     "отсутствием финансирования. Информация принята к сведению.",
     {"no_action"}),
    ("social", "social.benefits",
     "Ваше обращение рассмотрено в установленном порядке. По вопросу назначения выплаты Вам "
     "необходимо обратиться в клиентскую службу Социального фонда по месту жительства.",
     {"redirect_only"}),
    ("education", "education.school_conditions",
     "Информация о состоянии спортивного зала принята к сведению. Вопрос ремонта будет "
     "рассмотрен при наличии финансирования. Администрация школы держит ситуацию на контроле.",
     {"no_action"}),
    ("utilities", "utilities.water_quality",
     "Качество питьевой воды соответствует требованиям. Благодарим за обращение.",
     {"no_action", "too_short"}),
    ("improvement", "improvement.playgrounds",
     "Благоустройство дворовой территории возможно в рамках программы «Формирование "
     "комфортной городской среды» при условии подачи заявки собственниками. Рекомендуем "
     "провести общее собрание.",
     {"no_action"}),
]


def _check(topic: str, subtopic: str, answer: str, **kw: Any) -> QualityReport:
    return check_answer(answer, topic=topic, subtopic=subtopic, now=NOW, **kw)


@pytest.mark.parametrize(("topic", "subtopic", "answer"), GOOD_ANSWERS)
def test_concrete_answers_pass(topic: str, subtopic: str, answer: str) -> None:
    report = _check(topic, subtopic, answer)
    assert report.ok, [(f.code, f.evidence) for f in report.flags]
    assert report.score >= 0.7
    assert report.details["actions"], "a concrete answer must show the action it found"


@pytest.mark.parametrize(("topic", "subtopic", "answer", "expected"), BAD_ANSWERS)
def test_brush_offs_are_blocked(topic: str, subtopic: str, answer: str,
                                expected: set[str]) -> None:
    report = _check(topic, subtopic, answer)
    assert not report.ok
    assert expected <= set(report.codes), report.codes
    assert report.score < 0.7
    for flag in report.flags:
        assert flag.message_ru and flag.message_en


def test_detector_separates_good_from_bad_by_score() -> None:
    good = [_check(t, s, a).score for t, s, a in GOOD_ANSWERS]
    bad = [_check(t, s, a).score for t, s, a, _ in BAD_ANSWERS]
    assert min(good) > max(bad)


def test_no_action_message_tells_what_is_missing() -> None:
    report = _check("roads", "roads.potholes", BAD_ANSWERS[0][2])
    flag = report.flag("no_action")
    assert flag is not None and flag.blocking
    assert flag.message_ru == "Нет конкретного действия: что сделано или будет сделано?"
    assert "информация принята к сведению" in flag.evidence


def test_boilerplate_answer_is_flagged_generic_with_phrases_as_evidence() -> None:
    report = _check("roads", "roads.potholes", BAD_ANSWERS[0][2])
    flag = report.flag("generic_phrases")
    assert flag is not None and not flag.blocking
    assert "находится на контроле" in flag.evidence
    assert report.details["generic_share"] >= 0.5


def test_redirect_only_names_the_redirect() -> None:
    report = _check("housing", "housing.roof", BAD_ANSWERS[1][2])
    flag = report.flag("redirect_only")
    assert flag is not None
    assert any("обратиться" in e for e in flag.evidence)
    # The more specific reason replaces the generic "no action".
    assert "no_action" not in report.codes


def test_redirect_with_own_action_is_not_redirect_only() -> None:
    answer = (
        "Специалистами администрации 18.11.2026 проведено обследование подъезда № 3, "
        "управляющей компании выдано предписание об устранении протечки до 1 декабря 2026 "
        "года. По вопросу перерасчёта Вы можете обратиться в расчётный центр."
    )
    report = _check("housing", "housing.roof", answer)
    assert "redirect_only" not in report.codes
    assert report.ok, report.codes


def test_planned_work_without_a_date_is_no_date() -> None:
    report = _check("roads", "roads.potholes",
                    "Ремонт участка дороги по ул. Кирова у дома 21 будет выполнен подрядной "
                    "организацией после завершения работ на соседнем участке.")
    flag = report.flag("no_date")
    assert flag is not None and flag.blocking
    assert flag.message_ru.startswith("Нет срока")


def test_done_work_needs_no_date() -> None:
    report = _check("waste", "waste.collection",
                    "Мусор с контейнерной площадки у дома 8 по ул. Чапаева вывезен, "
                    "площадка убрана, с региональным оператором согласован ежедневный "
                    "вывоз.")
    assert "no_date" not in report.codes
    assert report.ok, report.codes


def test_date_of_finished_work_does_not_cover_a_promise() -> None:
    report = _check("roads", "roads.potholes",
                    "18.11.2026 проведено обследование участка дороги по ул. Лесной. "
                    "Ямочный ремонт будет выполнен подрядчиком, о чём Вам сообщат.")
    assert "no_date" in report.codes


def test_season_with_year_is_a_vague_term_not_a_missing_one() -> None:
    report = _check("roads", "roads.potholes",
                    "Ремонт автомобильной дороги по ул. Мира включён в план и будет выполнен "
                    "в летний период 2027 года подрядной организацией по муниципальному "
                    "контракту.")
    assert "no_date" not in report.codes
    assert "vague_date" in report.codes
    assert report.ok  # vague term only warns


def test_season_without_year_is_no_term() -> None:
    report = _check("roads", "roads.potholes",
                    "Ремонт автомобильной дороги по ул. Мира будет выполнен в летний период "
                    "подрядной организацией по муниципальному контракту.")
    flag = report.flag("no_date")
    assert flag is not None
    assert "в летний период" in flag.evidence


def test_conditional_promise_is_warned() -> None:
    report = _check("roads", "roads.potholes",
                    "Ремонт дорожного покрытия по ул. Мира запланирован на май 2027 года при "
                    "наличии финансирования из областного дорожного фонда.")
    assert report.flag("conditional") is not None
    assert report.ok  # has an action and an exact term; the condition only warns


def test_promised_date_already_passed_is_warned() -> None:
    report = _check("roads", "roads.potholes",
                    "Ямочный ремонт проезжей части по ул. Лермонтова будет выполнен в срок "
                    "до 01.10.2026 силами подрядной организации ООО «Дорстрой».")
    flag = report.flag("date_passed")
    assert flag is not None and not flag.blocking
    assert "01.10.2026" in flag.evidence


def test_reference_date_is_not_a_term() -> None:
    report = _check("roads", "roads.potholes",
                    "На Ваше обращение от 12.11.2026 № 45-ОГ сообщаем, что ямочный ремонт по "
                    "ул. Лермонтова будет выполнен подрядной организацией.")
    assert "no_date" in report.codes


def test_off_topic_answer_is_blocked() -> None:
    answer = ("Сообщаем, что специалистами управляющей компании проведена очистка подвала и "
              "дезинфекция, мусор из подвала вывезен 14.11.2026 года.")
    report = _check("roads", "roads.potholes", answer)
    flag = report.flag("off_topic")
    assert flag is not None and flag.blocking
    assert "Ямы и разрушение дорожного покрытия" in flag.message_ru
    assert _check("housing", "housing.common_property", answer).flag("off_topic") is None


def test_question_overlap_keeps_answer_on_topic() -> None:
    question = "Когда починят качели на площадке во дворе дома 12 по улице Строителей?"
    answer = ("Качели на площадке во дворе дома 12 по ул. Строителей отремонтированы "
              "18 ноября силами управляющей компании.")
    report = check_answer(answer, topic=None, subtopic=None, question=question, now=NOW)
    assert "off_topic" not in report.codes
    assert report.details["question_overlap"] > 0.3


def test_answer_unrelated_to_question_without_topic_is_off_topic() -> None:
    question = "Когда починят качели на детской площадке во дворе дома 12 по улице Строителей?"
    answer = ("Сообщаем, что график приёма граждан главой района изменён, приём будет "
              "проводиться по вторникам с 10:00 до 12:00 в кабинете 5.")
    report = check_answer(answer, topic=None, subtopic=None, question=question, now=NOW)
    assert "off_topic" in report.codes


def test_unknown_topic_code_does_not_crash_or_flag() -> None:
    report = check_answer(GOOD_ANSWERS[0][2], topic="no_such_topic", subtopic=None, now=NOW)
    assert "off_topic" not in report.codes


def test_too_short_reports_length_and_threshold() -> None:
    report = _check("roads", "roads.potholes", "Яма заделана 18.11.2026.", min_length=80)
    flag = report.flag("too_short")
    assert flag is not None
    assert "24 знаков при минимуме 80" in flag.message_ru


def test_min_length_is_configurable() -> None:
    answer = "Яма у дома 5 по ул. Мира заделана 18.11.2026."
    assert "too_short" in _check("roads", "roads.potholes", answer).codes
    assert "too_short" not in _check("roads", "roads.potholes", answer, min_length=20).codes


def _template_text(address: str) -> str:
    return ("Уважаемый заявитель! Ваше обращение рассмотрено. Информация о ненадлежащем "
            f"содержании территории по адресу {address} принята к сведению и направлена в "
            "профильные службы для принятия мер в рамках компетенции. Вопрос находится на "
            "контроле администрации городского округа.")


def test_same_text_to_many_problems_is_mass_copy() -> None:
    recent = [
        RecentAnswer(text=_template_text(f"ул. Ленина, {n}"), problem_id=f"P-{n}",
                     sent_at=datetime(2026, 11, 1 + n, 10, 0))
        for n in range(1, 5)
    ]
    report = _check("improvement", "improvement.cleaning", _template_text("ул. Мира, 7"),
                    recent=recent)
    flag = report.flag("mass_copy")
    assert flag is not None and not flag.blocking
    assert flag.evidence == ["P-1", "P-2", "P-3", "P-4"]
    assert "по 4 другим проблемам за 30 дней" in flag.message_ru


def test_mass_copy_uses_stored_signatures_window_and_distinct_problems() -> None:
    text = _template_text("ул. Мира, 7")
    old = NOW - timedelta(days=45)
    recent = [
        RecentAnswer(signature=signature(_template_text("ул. Мира, 9")), problem_id="P-1",
                     sent_at=NOW),
        RecentAnswer(signature=signature(_template_text("ул. Мира, 11")), problem_id="P-1",
                     sent_at=NOW),  # the same problem twice counts once
        RecentAnswer(text=_template_text("ул. Мира, 13"), problem_id="P-2", sent_at=old),
        RecentAnswer(text=GOOD_ANSWERS[0][2], problem_id="P-3", sent_at=NOW),
        RecentAnswer(text=_template_text("ул. Мира, 15"), problem_id="P-9", sent_at=NOW),
    ]
    report = _check("improvement", "improvement.cleaning", text, recent=recent,
                    problem_id="P-9")
    assert "mass_copy" not in report.codes
    assert report.details["copies"] == 1


def test_blocking_and_warning_sets_are_disjoint_and_decide_ok() -> None:
    assert not BLOCKING_FLAGS & WARNING_FLAGS
    report = _check("roads", "roads.potholes", BAD_ANSWERS[0][2])
    assert report.ok is not any(f.code in BLOCKING_FLAGS for f in report.flags)
    data = report.to_dict()
    assert data["flags"][0]["code"] == report.flags[0].code
    assert set(data) == {"ok", "score", "flags", "details"}


def test_empty_answer_is_blocked_not_crashing() -> None:
    report = _check("roads", "roads.potholes", "")
    assert not report.ok
    assert {"too_short", "no_action"} <= set(report.codes)
    assert report.score <= 0.4


def test_sentence_split_keeps_abbreviations() -> None:
    parts = split_sentences("Выполнен ремонт у д. 5 по ул. Ленина. Срок — до 01.12.2026 г. "
                            "Ответственный — Иванов И. И., тел. 2-22-33. Спасибо!")
    assert parts == ["Выполнен ремонт у д. 5 по ул. Ленина.", "Срок — до 01.12.2026 г.",
                     "Ответственный — Иванов И. И., тел. 2-22-33.", "Спасибо!"]


@pytest.mark.parametrize(("text", "kind"), [
    ("до 15 декабря", "exact"),
    ("в срок до 01.12.2026", "exact"),
    ("в течение 3 (трёх) рабочих дней", "exact"),
    ("в IV квартале 2026 года", "exact"),
    ("в мае 2027 года", "exact"),
    ("до 18:00", "exact"),
    ("на следующей неделе", "exact"),
    ("в летний период 2027 года", "vague"),
    ("в 2027 году", "vague"),
    ("до конца года", "vague"),
    ("в летний период", "none"),
    ("в ближайшее время", "none"),
])
def test_term_kinds(text: str, kind: str) -> None:
    terms = find_terms(f"Работы будут выполнены {text}.", NOW)
    assert [t.kind for t in terms] == [kind]


def test_term_without_year_rolls_over_new_year() -> None:
    [term] = find_terms("до 15 января", date(2026, 12, 20))
    assert term.when == date(2027, 1, 15) and term.deadline
