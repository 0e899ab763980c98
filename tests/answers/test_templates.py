"""Answer templates: placeholders, defaults, Russian dates, errors, no code execution."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from otklik.answers.quality import check_answer
from otklik.answers.templates import (
    STANDARD_FIELDS,
    TEMPLATE_CODES,
    MissingPlaceholderError,
    TemplateError,
    default_templates,
    describe,
    format_date_ru,
    get_template,
    placeholders,
    render_default,
    render_template,
    required_placeholders,
    validate_template,
)
from otklik.errors import InvalidInput

CONTEXT: dict[str, object] = {
    "resident_name": "Анна Сергеевна",
    "case_number": "ЦУР-2026-004512",
    "topic": "Ямы и разрушение дорожного покрытия",
    "address": "г. Мичуринск, ул. Лаврова, 12",
    "executor": "МКУ «Управление дорожного хозяйства»",
    "deadline": date(2026, 12, 15),
    "reply_until": datetime(2026, 11, 23, 18, 0),
    "question": "укажите номер дома, возле которого находится яма",
    "action": "Выполнен ямочный ремонт проезжей части у дома 12 по ул. Лаврова, площадь 36 кв. м.",
    "reason": "требуется замена участка трубопровода, работы согласуются с владельцем сетей",
    "original_number": "ЦУР-2026-004377",
}


def test_placeholders_are_filled_and_dates_written_in_russian() -> None:
    text = render_template(
        "{{ resident_name }}, ответственный — {{ executor }}, срок — до {{ deadline }}.",
        CONTEXT,
    )
    assert text == ("Анна Сергеевна, ответственный — МКУ «Управление дорожного хозяйства», "
                    "срок — до 15 декабря 2026 г..")


def test_datetime_and_date_filters() -> None:
    ctx = {"at": datetime(2026, 3, 1, 9, 5), "midnight": datetime(2026, 5, 9, 0, 0),
           "iso": "2026-01-07"}
    assert render_template("{{ at }}", ctx) == "1 марта 2026 г., 09:05"
    assert render_template("{{ midnight }}", ctx) == "9 мая 2026 г."
    assert render_template("{{ at | date }}", ctx) == "1 марта 2026 г."
    assert render_template("{{ at | short_date }}", ctx) == "01.03.2026"
    assert render_template("{{ at | time }}", ctx) == "09:05"
    assert render_template("{{ iso | date }}", ctx) == "7 января 2026 г."
    assert format_date_ru(date(2027, 2, 28)) == "28 февраля 2027 г."


def test_spacing_inside_braces_does_not_matter() -> None:
    assert render_template("{{case_number}}/{{   case_number   }}", CONTEXT) == (
        "ЦУР-2026-004512/ЦУР-2026-004512")


def test_default_is_used_for_absent_none_or_empty_values() -> None:
    tpl = "Здравствуйте, {{ resident_name | default('житель') }}!"
    assert render_template(tpl, {}) == "Здравствуйте, житель!"
    assert render_template(tpl, {"resident_name": None}) == "Здравствуйте, житель!"
    assert render_template(tpl, {"resident_name": "  "}) == "Здравствуйте, житель!"
    assert render_template(tpl, {"resident_name": "Олег"}) == "Здравствуйте, Олег!"
    assert render_template('{{ x | default("") }}.', {}) == "."


def test_missing_placeholders_are_all_named() -> None:
    with pytest.raises(MissingPlaceholderError) as info:
        render_template("{{ executor }} до {{ deadline }}, {{ executor }}; {{ topic }}",
                        {"topic": "Дороги"})
    assert info.value.names == ["executor", "deadline"]
    assert "executor, deadline" in str(info.value)
    assert isinstance(info.value, InvalidInput)  # rendered as a 400 by the API handler


@pytest.mark.parametrize("evil", [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ resident_name.__class__ }}",
    "{{ config['SECRET_KEY'] }}",
    "{{ lipsum.__globals__ }}",
    "{{ 7*7 }}",
    "{{ resident_name | default(''.__class__) }}",
    "{% for x in range(3) %}{{ x }}{% endfor %}",
    "{{ __import__('os').system('id') }}",
])
def test_no_code_execution(evil: str) -> None:
    with pytest.raises(TemplateError) as info:
        render_template(evil, {"resident_name": "Анна", "config": {"SECRET_KEY": "x"}})
    message = str(info.value)
    assert "49" not in message and "<class" not in message
    assert validate_template(evil, STANDARD_FIELDS)


def test_values_are_inserted_literally_not_rendered_again() -> None:
    text = render_template("Ответ: {{ action }}", {"action": "{{ ''.__class__ }} {{ deadline }}"})
    assert text == "Ответ: {{ ''.__class__ }} {{ deadline }}"


def test_unknown_filter_and_filter_on_wrong_value_are_errors() -> None:
    with pytest.raises(TemplateError, match="неизвестный фильтр «safe»"):
        render_template("{{ action | safe }}", CONTEXT)
    with pytest.raises(TemplateError, match="ожидает дату"):
        render_template("{{ executor | date }}", CONTEXT)


def test_unbalanced_braces_are_reported() -> None:
    assert any("незакрытая" in e for e in validate_template("Срок — {{ deadline", {"deadline"}))
    assert any("лишняя" in e for e in validate_template("Срок — deadline }}", {"deadline"}))


def test_validate_template_lists_unknown_fields() -> None:
    errors = validate_template("{{ resident_name }}: {{ secret }} {{ deadline | date }}",
                               {"resident_name", "deadline"})
    assert errors == ["неизвестное поле «secret» (допустимы: deadline, resident_name)"]
    assert validate_template("{{ deadline | date }}", {"deadline"}) == []
    assert validate_template("   ", set()) == ["шаблон пуст"]


def test_placeholders_and_required_fields() -> None:
    tpl = "{{ a }} {{ b | default('x') }} {{ a | upper }} {{ c }}"
    assert placeholders(tpl) == ["a", "b", "c"]
    assert required_placeholders(tpl) == ["a", "c"]


def test_lists_and_bools_are_formatted() -> None:
    ctx = {"streets": ["ул. Мира", "ул. Ленина"], "urgent": True}
    assert render_template("{{ streets }}; срочно: {{ urgent }}", ctx) == (
        "ул. Мира, ул. Ленина; срочно: да")


def test_builtin_templates_exist_and_use_standard_fields() -> None:
    templates = default_templates()
    assert set(TEMPLATE_CODES) == set(templates)
    for tpl in templates.values():
        assert validate_template(tpl.text, STANDARD_FIELDS) == []
        assert tpl.name_ru
    assert [d["code"] for d in describe()] == list(TEMPLATE_CODES)


def test_interim_answer() -> None:
    text = render_default("interim", CONTEXT)
    assert text.startswith("Здравствуйте, Анна Сергеевна! Ваше обращение № ЦУР-2026-004512")
    assert "взято в работу" in text
    assert ("Ответственный — МКУ «Управление дорожного хозяйства», срок ответа — до "
            "15 декабря 2026 г.") in text
    assert "{{" not in text


def test_interim_answer_without_resident_name_uses_the_default() -> None:
    ctx = {k: v for k, v in CONTEXT.items() if k != "resident_name"}
    assert render_default("interim", ctx).startswith("Здравствуйте, уважаемый житель!")


def test_clarification_request_names_the_reply_window() -> None:
    text = render_default("clarification", CONTEXT)
    assert "укажите номер дома" in text
    assert "до 23 ноября 2026 г., 18:00" in text


def test_extension_and_rejections() -> None:
    assert "продлён до 15 декабря 2026 г." in render_default("extension", CONTEXT)
    assert "ЦУР-2026-004377" in render_default("reject_duplicate", CONTEXT)
    spam = render_default("reject_spam", {})
    assert "не зарегистрировано как обращение" in spam
    not_ours = render_default("reject_not_authority", CONTEXT)
    assert "Если у вас есть вопрос к органам власти" in not_ours
    with pytest.raises(MissingPlaceholderError) as info:
        render_default("extension", {"case_number": "1"})
    assert info.value.names == ["deadline", "reason", "executor"]


def test_filled_final_skeleton_passes_the_quality_check() -> None:
    text = render_default("final", {**CONTEXT, "deadline": date(2026, 11, 18)})
    report = check_answer(text, topic="roads", subtopic="roads.potholes",
                          now=date(2026, 11, 20))
    assert report.ok, report.codes


def test_unknown_template_code_is_refused() -> None:
    with pytest.raises(TemplateError, match="нет шаблона «thanks»"):
        get_template("thanks")
