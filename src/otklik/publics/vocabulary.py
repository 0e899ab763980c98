"""The words of the registry and the methodology: page types, classes, statuses, criteria,
and the advice a failing criterion gives. Pure: no database."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from otklik.ru import plural

#: Page types: code -> (Russian, English). Imports accept either label or the code.
PAGE_TYPES: dict[str, tuple[str, str]] = {
    "government": ("Орган власти", "Government body"),
    "municipality": ("Администрация муниципалитета", "Municipality"),
    "school": ("Школа", "School"),
    "kindergarten": ("Детский сад", "Kindergarten"),
    "college": ("Колледж, техникум", "College"),
    "hospital": ("Больница, поликлиника", "Hospital"),
    "sport": ("Спорт", "Sport"),
    "culture": ("Культура", "Culture"),
    "social": ("Социальная защита", "Social service"),
    "youth": ("Молодёжная политика", "Youth"),
    "other": ("Другое учреждение", "Other institution"),
}

PAGE_CLASSES: dict[str, tuple[str, str]] = {
    "flagship": ("Флагман", "Flagship"),
    "active": ("Активная", "Active"),
    "card": ("Визитка", "Business card"),
}

PAGE_STATUSES: dict[str, tuple[str, str]] = {
    "active": ("Действует", "Active"),
    "abandoned": ("Заброшена", "Abandoned"),
    "duplicate": ("Дубль", "Duplicate"),
    "closed": ("Закрыта", "Closed"),
}

PLATFORM_NAMES: dict[str, tuple[str, str]] = {
    "vk": ("ВКонтакте", "VK"),
    "ok": ("Одноклассники", "OK"),
    "telegram": ("Telegram", "Telegram"),
}

#: Profile facts a snapshot records, with the advice when one is missing.
PROFILE_FACTS: dict[str, tuple[str, str]] = {
    "avatar": ("загрузите аватар", "upload an avatar"),
    "cover": ("добавьте обложку", "add a cover"),
    "description": ("заполните описание страницы", "fill in the description"),
    "contacts": ("укажите контакты учреждения", "give the institution's contacts"),
    "state_mark": ("подключите отметку государственной организации",
                   "get the state-organization mark"),
    "comments_open": ("откройте комментарии", "open the comments"),
    "pinned_post": ("закрепите пост с контактами", "pin a post with the contacts"),
}


@dataclass(frozen=True)
class Criterion:
    """A criterion of the methodology: what it measures and which way is better.

    ``at_least``: the value should reach the threshold (part met = value / threshold);
    otherwise the value should stay under it (part met falls as it grows past).
    """

    code: str
    at_least: bool
    unit: str
    ru: str
    en: str
    weight: float
    threshold: float


CRITERIA: dict[str, Criterion] = {c.code: c for c in (
    Criterion("posts_per_week", True, "", "Регулярность: постов за неделю",
              "Regularity: posts a week", 20, 3),
    Criterion("engagement_rate", True, "%", "Вовлечённость (реакции к просмотрам)",
              "Engagement (reactions per view)", 15, 2),
    Criterion("subscriber_growth", True, "%", "Прирост подписчиков за неделю",
              "Subscriber growth in the week", 10, 0.5),
    Criterion("answered_share", True, "%", "Доля вопросов жителей с ответом",
              "Share of residents' questions answered", 15, 90),
    Criterion("answer_hours", False, "ч", "Медианное время ответа, ч",
              "Median time to answer, h", 10, 8),
    Criterion("unanswered_24h", False, "", "Вопросы без ответа старше 24 ч",
              "Questions unanswered after 24 h", 15, 0),
    Criterion("profile_completeness", True, "%", "Заполненность профиля",
              "Profile completeness", 10, 100),
    Criterion("content_mix", True, "", "Разнообразие контента: видов постов",
              "Content mix: kinds of posts", 5, 3),
)}

#: The first methodology: the defaults above for every page, with stricter regularity for
#: flagships and a lighter one for business cards: (code, page_type, page_class, weight,
#: threshold).
DEFAULT_OVERRIDES: tuple[tuple[str, str, str, float, float], ...] = (
    ("posts_per_week", "*", "flagship", 25, 7),
    ("answer_hours", "*", "flagship", 10, 4),
    ("posts_per_week", "*", "card", 10, 1),
    ("content_mix", "*", "card", 0, 1),
)


def label(table: Mapping[str, tuple[str, str]], code: str, locale: str = "ru") -> str:
    """The Russian or English label of a code (the code itself when unknown)."""
    pair = table.get(code)
    if pair is None:
        return code
    return pair[1] if locale == "en" else pair[0]


def read_choice(table: Mapping[str, tuple[str, str]], value: Any) -> str | None:
    """The code a cell names (its code or its Russian or English label), or None."""
    text = str(value or "").strip().lower()
    if not text:
        return None
    for code, (ru, en) in table.items():
        if text in (code, ru.lower(), en.lower()):
            return code
    return None


def part_met(at_least: bool, value: float | None, threshold: float) -> float | None:
    """The part of the norm a value meets (0…1); None when there is no value.

    The rating job computes the same in SQL; this is the rule written once for people and
    tests to read.
    """
    if value is None:
        return None
    if at_least:
        if threshold <= 0 or value >= threshold:
            return 1.0
        return 0.0 if value <= 0 else value / threshold
    if value <= threshold:
        return 1.0
    return 1.0 / (1.0 + (value - threshold) / max(threshold, 1.0))


def _num(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value != int(value) else str(int(value))


def advice(code: str, value: float | None, threshold: float,
           facts: Mapping[str, Any] | None = None, locale: str = "ru") -> str | None:
    """What to do about a criterion a page fails, in concrete words (None: nothing to say)."""
    if value is None:
        return None
    en = locale == "en"
    v, t = _num(value), _num(threshold)
    if code == "posts_per_week":
        return (f"Post at least {t} times a week: {v} this week." if en else
                f"Публикуйте не реже {t} {plural(int(threshold), 'поста', 'постов', 'постов')} "
                f"в неделю: на этой неделе {v}.")
    if code == "engagement_rate":
        return (f"Engagement {v}% is under the norm of {t}%: ask readers questions, show photos "
                "and videos of events." if en else
                f"Вовлечённость {v}% ниже нормы {t}%: задавайте читателям вопросы, показывайте "
                "фото и видео с событий.")
    if code == "subscriber_growth":
        return (f"Subscribers grew {v}% (norm {t}%): link the page from the website and "
                "notice boards." if en else
                f"Подписчиков прибавилось {v}% (норма {t}%): разместите ссылку на страницу на "
                "сайте и стендах учреждения.")
    if code == "answered_share":
        return (f"{v}% of residents' questions answered (norm {t}%): answer every comment "
                "with a question." if en else
                f"Отвечено {v}% вопросов жителей (норма {t}%): ответьте на каждый комментарий "
                "с вопросом.")
    if code == "answer_hours":
        return (f"Median time to answer {v} h (norm {t} h): answer within the working day."
                if en else
                f"Медианное время ответа {v} ч (норма {t} ч): отвечайте жителям в течение "
                "рабочего дня.")
    if code == "unanswered_24h":
        n = int(value)
        return (f"Answer the {n} residents' comments older than 24 hours." if en else
                f"Ответьте на {n} {plural(n, 'комментарий', 'комментария', 'комментариев')} "
                "жителей старше 24 часов.")
    if code == "profile_completeness":
        # Only the facts the platform reports (Telegram has no cover, OK no open-comments
        # switch): advice to fix what a page cannot have would be noise.
        missing = [pair[1] if en else pair[0] for fact, pair in PROFILE_FACTS.items()
                   if facts is not None and fact in facts and not facts[fact]]
        if not missing:
            return "Complete the profile." if en else "Заполните профиль страницы."
        lead = "Complete the profile: " if en else "Заполните профиль: "
        return lead + ", ".join(missing) + "."
    if code == "content_mix":
        return (f"Vary the posts: {v} kinds this week (norm {t}): alternate news, photos, "
                "videos, polls and announcements." if en else
                f"Разнообразьте публикации: видов постов на этой неделе {v} (норма {t}): "
                "чередуйте новости, фото, видео, опросы и анонсы.")
    return None
