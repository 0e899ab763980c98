"""The participation pages' UI strings (Russian first, English), looked up before the
shared ones of :mod:`otklik.web.i18n`."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from otklik.web.i18n import translate
from otklik.web.rendering import locale_of

STRINGS: dict[str, dict[str, str]] = {
    "pt_nav": {"ru": "Участие", "en": "Participation"},
    "pt_lines": {"ru": "Прямые линии", "en": "Direct lines"},
    "pt_line": {"ru": "Прямая линия", "en": "Direct line"},
    "pt_new_line": {"ru": "Новая прямая линия", "en": "New direct line"},
    "pt_title": {"ru": "Название", "en": "Title"},
    "pt_opens": {"ru": "Приём вопросов с", "en": "Questions from"},
    "pt_closes": {"ru": "Приём вопросов до", "en": "Questions until"},
    "pt_air": {"ru": "Эфир", "en": "On air"},
    "pt_urls": {"ru": "Ссылки на анонсы (по одной в строке)",
                "en": "Announcement links (one per line)"},
    "pt_create": {"ru": "Создать", "en": "Create"},
    "pt_questions": {"ru": "Вопросы", "en": "Questions"},
    "pt_phase": {"ru": "Этап", "en": "Phase"},
    "pt_phase_collecting": {"ru": "сбор вопросов", "en": "collecting"},
    "pt_phase_closed": {"ru": "сбор закрыт, ждём эфир", "en": "closed, waiting for the air"},
    "pt_phase_on_air": {"ru": "эфир прошёл", "en": "aired"},
    "pt_phase_finished": {"ru": "завершена", "en": "finished"},
    "pt_groups": {"ru": "Группы вопросов", "en": "Question groups"},
    "pt_topic": {"ru": "Тема", "en": "Topic"},
    "pt_place": {"ru": "Территория", "en": "Place"},
    "pt_supporters": {"ru": "Поддержали", "en": "Supporters"},
    "pt_residents": {"ru": "Жителей", "en": "Residents"},
    "pt_picks": {"ru": "Вопросы для эфира", "en": "Questions for the air"},
    "pt_propose": {"ru": "Подобрать вопросы", "en": "Propose questions"},
    "pt_reasons": {"ru": "Почему выбран", "en": "Why chosen"},
    "pt_confirm": {"ru": "Подтвердить", "en": "Confirm"},
    "pt_withdraw": {"ru": "Снять", "en": "Withdraw"},
    "pt_confirmed": {"ru": "подтверждён", "en": "confirmed"},
    "pt_reason_most_urgent": {"ru": "самый срочный", "en": "most urgent"},
    "pt_reason_most_supported": {"ru": "больше всего поддержавших", "en": "most supported"},
    "pt_reason_most_typical": {"ru": "самый типичный", "en": "most typical"},
    "pt_reason_not_answered_elsewhere": {"ru": "ещё не получил ответа",
                                         "en": "not yet answered elsewhere"},
    "pt_reason_editor": {"ru": "выбран редактором", "en": "chosen by the editor"},
    "pt_collect": {"ru": "Собрать из сообщений", "en": "Collect from messages"},
    "pt_import": {"ru": "Импорт списка горячей линии (CSV, XLSX)",
                  "en": "Import the hotline's list (CSV, XLSX)"},
    "pt_upload": {"ru": "Загрузить", "en": "Upload"},
    "pt_sheet": {"ru": "Лист вопросов", "en": "Question sheet"},
    "pt_finish": {"ru": "Завершить: неотвеченные — на контроль",
                  "en": "Finish: unanswered go on control"},
    "pt_answer": {"ru": "Ответ в эфире", "en": "Answer on air"},
    "pt_save": {"ru": "Сохранить", "en": "Save"},
    "pt_promises": {"ru": "Обещания", "en": "Promises"},
    "pt_promise": {"ru": "Записать обещание", "en": "Record a promise"},
    "pt_owner": {"ru": "Ответственный", "en": "Owner"},
    "pt_due": {"ru": "Срок", "en": "Deadline"},
    "pt_or_days": {"ru": "или рабочих дней", "en": "or working days"},
    "pt_stages": {"ru": "Этапы (по одному в строке)", "en": "Stages (one per line)"},
    "pt_state_open": {"ru": "в работе", "en": "open"},
    "pt_state_done": {"ru": "выполнено", "en": "done"},
    "pt_state_overdue": {"ru": "просрочено", "en": "overdue"},
    "pt_case": {"ru": "Обращение на контроле", "en": "Case on control"},
    "pt_decision": {"ru": "Решение", "en": "Decision"},
    "pt_mark_done": {"ru": "Выполнено", "en": "Done"},
    "pt_report": {"ru": "Итоги", "en": "Report"},
    "pt_late": {"ru": "поздний", "en": "late"},
    "pt_all_questions": {"ru": "Все вопросы", "en": "All questions"},
    "pt_status": {"ru": "Статус", "en": "Status"},
    "pt_qstatus_new": {"ru": "новый", "en": "new"},
    "pt_qstatus_answered": {"ru": "отвечен в эфире", "en": "answered on air"},
    "pt_qstatus_promised": {"ru": "обещание", "en": "promised"},
    "pt_qstatus_control": {"ru": "на контроле", "en": "on control"},
    "pt_qstatus_in_case": {"ru": "в работе у исполнителя", "en": "with an executor"},
    "pt_proposals": {"ru": "Предложения жителей", "en": "Residents' proposals"},
    "pt_public": {"ru": "Публичная страница", "en": "Public page"},
    "pt_status_received": {"ru": "получено", "en": "received"},
    "pt_status_under_review": {"ru": "на рассмотрении", "en": "under review"},
    "pt_status_accepted": {"ru": "принято", "en": "accepted"},
    "pt_status_in_work": {"ru": "в работе", "en": "in work"},
    "pt_status_done": {"ru": "реализовано", "en": "done"},
    "pt_status_declined": {"ru": "отклонено", "en": "declined"},
    "pt_move": {"ru": "Перевести", "en": "Move"},
    "pt_reason": {"ru": "Причина (обязательна при отклонении)",
                  "en": "Reason (required to decline)"},
    "pt_notice": {"ru": "Сообщение автору (пусто — стандартное)",
                  "en": "Notice to the author (empty: the standard one)"},
    "pt_meeting": {"ru": "Встреча или обратная связь", "en": "Meeting or follow-up"},
    "pt_date": {"ru": "Дата", "en": "Date"},
    "pt_note": {"ru": "Итог", "en": "Outcome"},
    "pt_notices": {"ru": "Сообщения автору на модерации", "en": "Notices on moderation"},
    "pt_approve": {"ru": "Одобрить и отправить", "en": "Approve and send"},
    "pt_history": {"ru": "Путь предложения", "en": "The proposal's path"},
    "pt_body": {"ru": "Ответственный орган", "en": "Responsible body"},
    "pt_assign": {"ru": "Назначить", "en": "Assign"},
    "pt_public_intro": {"ru": "Предложения жителей и их статусы. Личные данные скрыты.",
                        "en": "Residents' proposals and their statuses. Personal data hidden."},
    "pt_nothing": {"ru": "Пока ничего нет", "en": "Nothing yet"},
    "pt_count": {"ru": "Всего", "en": "Total"},
    "pt_overdue_promises": {"ru": "Просроченные обещания", "en": "Overdue promises"},
}


def translator(request: Request) -> Callable[[str], str]:
    """``t`` for the participation templates: their strings first, then the shared ones."""
    locale = locale_of(request)

    def t(key: str) -> str:
        entry = STRINGS.get(key)
        if entry is None:
            return translate(key, locale)
        return entry.get(locale) or entry["ru"]

    return t
