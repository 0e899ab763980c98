"""UI strings in Russian (default) and English. Keys are English phrases in snake case."""

from __future__ import annotations

LOCALES = ("ru", "en")

STRINGS: dict[str, dict[str, str]] = {
    "app_name": {"ru": "Отклик", "en": "Otklik"},
    "tagline": {"ru": "Платформа центров управления регионом",
                "en": "A platform for Regional Management Centers"},
    "login": {"ru": "Вход", "en": "Log in"},
    "logout": {"ru": "Выйти", "en": "Log out"},
    "username": {"ru": "Логин", "en": "Username"},
    "password": {"ru": "Пароль", "en": "Password"},
    "sign_in": {"ru": "Войти", "en": "Sign in"},
    "wrong_login": {"ru": "Неверный логин или пароль", "en": "Wrong username or password"},
    "home": {"ru": "Обзор", "en": "Overview"},
    "territories": {"ru": "Территории", "en": "Territories"},
    "organizations": {"ru": "Организации", "en": "Organizations"},
    "users": {"ru": "Пользователи", "en": "Users"},
    "audit": {"ru": "Журнал действий", "en": "Audit log"},
    "api_docs": {"ru": "API", "en": "API"},
    "regions": {"ru": "Регионы", "en": "Regions"},
    "region": {"ru": "Регион", "en": "Region"},
    "federal_district": {"ru": "Федеральный округ", "en": "Federal okrug"},
    "municipalities": {"ru": "Муниципалитеты", "en": "Municipalities"},
    "settlements": {"ru": "Населённые пункты", "en": "Settlements"},
    "population": {"ru": "Население", "en": "Population"},
    "name": {"ru": "Название", "en": "Name"},
    "kind": {"ru": "Тип", "en": "Kind"},
    "timezone": {"ru": "Часовой пояс", "en": "Time zone"},
    "role": {"ru": "Роль", "en": "Role"},
    "search": {"ru": "Поиск", "en": "Search"},
    "when": {"ru": "Когда", "en": "When"},
    "who": {"ru": "Кто", "en": "Who"},
    "action": {"ru": "Действие", "en": "Action"},
    "object": {"ru": "Объект", "en": "Object"},
    "messages": {"ru": "Сообщения", "en": "Messages"},
    "cases": {"ru": "Обращения", "en": "Cases"},
    "your_scope": {"ru": "Ваша зона ответственности", "en": "Your scope"},
    "all_regions": {"ru": "Все регионы", "en": "All regions"},
    "not_found": {"ru": "Не найдено", "en": "Not found"},
    "error": {"ru": "Ошибка", "en": "Error"},
    "back": {"ru": "Назад", "en": "Back"},
    "next": {"ru": "Дальше", "en": "Next"},
    "previous": {"ru": "Назад", "en": "Previous"},
    "total": {"ru": "Всего", "en": "Total"},
    "demo_logins": {"ru": "Демо-входы: admin, operator, curator, executor, analyst, head — "
                          "пароль demo",
                    "en": "Demo logins: admin, operator, curator, executor, analyst, head — "
                          "password demo"},
    "switch_language": {"ru": "English", "en": "Русский"},
    "role_admin": {"ru": "администратор", "en": "administrator"},
    "role_operator": {"ru": "оператор", "en": "operator"},
    "role_curator": {"ru": "куратор", "en": "curator"},
    "role_executor": {"ru": "исполнитель", "en": "executor"},
    "role_analyst": {"ru": "аналитик", "en": "analyst"},
    "role_head": {"ru": "руководитель", "en": "head"},
    "role_deputy": {"ru": "депутат", "en": "deputy"},
    "kind_ministry": {"ru": "министерство", "en": "ministry"},
    "kind_committee": {"ru": "комитет", "en": "committee"},
    "kind_inspection": {"ru": "инспекция", "en": "inspection"},
    "kind_municipal_admin": {"ru": "администрация муниципалитета",
                             "en": "municipal administration"},
    "kind_utility": {"ru": "ресурсоснабжающая организация", "en": "utility"},
    "kind_waste_operator": {"ru": "региональный оператор ТКО", "en": "regional waste operator"},
    "kind_center": {"ru": "ЦУР", "en": "management center"},
    "kind_other": {"ru": "другое", "en": "other"},
}


def translate(key: str, locale: str) -> str:
    """The string for a key in the locale, falling back to Russian, then to the key."""
    entry = STRINGS.get(key)
    if entry is None:
        return key
    return entry.get(locale) or entry["ru"]
