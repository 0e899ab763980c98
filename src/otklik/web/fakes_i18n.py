"""The fakes pages' strings (Russian first, English), added to :data:`otklik.web.i18n.STRINGS`
when the pages load."""

from __future__ import annotations

from otklik.web.i18n import STRINGS

FAKES_STRINGS: dict[str, dict[str, str]] = {
    "fk_nav": {"ru": "Фейки", "en": "Fakes"},
    "fk_registry": {"ru": "Реестр фейков", "en": "Registry of fakes"},
    "fk_suspects": {"ru": "Подозрения", "en": "Suspects"},
    "fk_analytics": {"ru": "Аналитика фейков", "en": "Fakes analytics"},
    "fk_myths": {"ru": "Миф или правда", "en": "Myth or truth"},
    "fk_claim": {"ru": "Утверждение", "en": "Claim"},
    "fk_key_phrases": {"ru": "Ключевые фразы (через «;»)", "en": "Key phrases (split by ';')"},
    "fk_topic": {"ru": "Тема", "en": "Topic"},
    "fk_status": {"ru": "Статус", "en": "Status"},
    "fk_copies": {"ru": "Копии", "en": "Copies"},
    "fk_reach": {"ru": "Охват", "en": "Reach"},
    "fk_first_seen": {"ru": "Впервые замечен", "en": "First seen"},
    "fk_new": {"ru": "Новое утверждение", "en": "New claim"},
    "fk_add": {"ru": "Записать", "en": "Record"},
    "fk_save": {"ru": "Сохранить", "en": "Save"},
    "fk_search": {"ru": "Поиск", "en": "Search"},
    "fk_apply": {"ru": "Показать", "en": "Show"},
    "fk_all": {"ru": "все", "en": "all"},
    "fk_nothing": {"ru": "Ничего нет", "en": "Nothing here"},
    "fk_refutation": {"ru": "Опровержение", "en": "Refutation"},
    "fk_source_url": {"ru": "Официальный источник", "en": "Official source"},
    "fk_date": {"ru": "Дата", "en": "Date"},
    "fk_draft": {"ru": "Сохранить черновик", "en": "Save the draft"},
    "fk_submit": {"ru": "На согласование", "en": "Send for approval"},
    "fk_approve": {"ru": "Согласовать и опубликовать", "en": "Approve and publish"},
    "fk_return": {"ru": "Вернуть", "en": "Return"},
    "fk_comment": {"ru": "Что исправить", "en": "What to fix"},
    "fk_four_eyes": {"ru": "Опровержение публикуется только после согласования вторым "
                           "аналитиком (не автором).",
                     "en": "A refutation is published only once a second analyst (not its "
                           "author) approves it."},
    "fk_rstate_none": {"ru": "нет", "en": "none"},
    "fk_rstate_draft": {"ru": "черновик", "en": "draft"},
    "fk_rstate_on_approval": {"ru": "на согласовании", "en": "waiting for approval"},
    "fk_rstate_approved": {"ru": "согласовано и опубликовано", "en": "approved, published"},
    "fk_st_suspected": {"ru": "подозрение", "en": "suspected"},
    "fk_st_checking": {"ru": "на проверке", "en": "checking"},
    "fk_st_fake": {"ru": "фейк", "en": "fake"},
    "fk_st_true": {"ru": "правда", "en": "true"},
    "fk_st_partly_true": {"ru": "частично правда", "en": "partly true"},
    "fk_st_unconfirmed": {"ru": "не подтверждено", "en": "not confirmed"},
    "fk_spread": {"ru": "Распространение", "en": "Spread"},
    "fk_channels": {"ru": "Каналы", "en": "Channels"},
    "fk_channel": {"ru": "Канал", "en": "Channel"},
    "fk_source": {"ru": "Источник", "en": "Source"},
    "fk_score": {"ru": "Сходство", "en": "Score"},
    "fk_reason": {"ru": "Почему", "en": "Why"},
    "fk_origin": {"ru": "исходный пост", "en": "originating post"},
    "fk_seen_refutations": {"ru": "Опровержения в сети (не считаются распространением)",
                            "en": "Refutations seen in the wild (not counted as spread)"},
    "fk_history": {"ru": "История изменений", "en": "History"},
    "fk_who": {"ru": "Кто", "en": "Who"},
    "fk_what": {"ru": "Что", "en": "What"},
    "fk_replies": {"ru": "Ответы под копиями", "en": "Replies under copies"},
    "fk_reasons": {"ru": "Причины", "en": "Reasons"},
    "fk_authors": {"ru": "Авторов", "en": "Authors"},
    "fk_asked": {"ru": "Спрашивали", "en": "Asked"},
    "fk_promote": {"ru": "В реестр", "en": "To the registry"},
    "fk_dismiss": {"ru": "Не фейк", "en": "Not a fake"},
    "fk_region": {"ru": "Регион", "en": "Region"},
    "fk_period": {"ru": "Период", "en": "Period"},
    "fk_export": {"ru": "Выгрузить XLSX", "en": "Export XLSX"},
    "fk_by_topic": {"ru": "По темам", "en": "By topic"},
    "fk_by_territory": {"ru": "По территориям", "en": "By territory"},
    "fk_by_month": {"ru": "По месяцам", "en": "By month"},
    "fk_top_channels": {"ru": "Каналы, распространяющие фейки (первыми и чаще других)",
                        "en": "Channels spreading fakes (first and most often)"},
    "fk_seeded": {"ru": "Первым опубликовал", "en": "Seeded"},
    "fk_fakes": {"ru": "Фейков", "en": "Fakes"},
    "fk_fakes_spread": {"ru": "С копиями", "en": "With copies"},
    "fk_myths_intro": {"ru": "Утверждения, которые официально опровергнуты. Проверить текст "
                             "можно через API /api/v1/check или Телеграм-бот (/check).",
                       "en": "Claims officially refuted. Check a text with the API "
                             "/api/v1/check or the Telegram bot (/check)."},
}


def install() -> None:
    """Add the strings (existing keys stay as they are)."""
    for key, value in FAKES_STRINGS.items():
        STRINGS.setdefault(key, value)
