"""Is a text an alarming claim without an official source? (pure: no database)

The signs a center's analyst looks for in a post that may be a fake: it alarms (poisoned
water, closed schools, an epidemic, "share before it is deleted"), and it cites no official
source (a state body's site, a named ministry's statement). Each sign found is a reason shown
to the analyst.
"""

from __future__ import annotations

import re

#: Alarming claims and the chain-letter wording that pushes them (lowercase, 'ё' → 'е').
ALARM_PATTERNS: tuple[tuple[str, str], ...] = (
    ("отравление", r"отравл\w*|отравят|заражен\w*|зараз\w*|кишечн\w+ палочк\w*|холер\w*"),
    ("опасность воды", r"не\s+пейте|сточн\w+ вод\w*|химикат\w*|яд\w*\b"),
    ("закрытие", r"закрыва\w*|закроют|закрыт\w*|ликвидир\w*|снесут"),
    ("эпидемия", r"эпидеми\w*|вспышк\w*|карантин\w*|корь\b|кори\b"),
    ("эвакуация", r"эвакуац\w*|взрыв\w*|теракт\w*|мобилизац\w*"),
    ("дефицит", r"законч\w+|дефицит\w*|не\s+будет|скуп\w+|отмен\w+"),
    ("призыв распространить", r"распростран\w*|перешл\w*|репост\w*|пока\s+не\s+удалили|"
                              r"скрывают|молчат"),
    ("срочность", r"срочно|внимание|‼|⚠"),
)
_ALARM = [(name, re.compile(pattern)) for name, pattern in ALARM_PATTERNS]

#: An official source named or linked.
OFFICIAL_RE = re.compile(
    r"(?:https?://)?[\w.-]*(?:gov\.ru|gosuslugi\.ru|mchs\.ru|rospotrebnadzor\.ru|mvd\.ru|"
    r"kremlin\.ru|government\.ru)|официальн\w+ (?:сайт|сообщени|заявлени|источник)|"
    r"пресс-служб\w+|по данным (?:министерства|администрации|роспотребнадзора|мчс)|"
    r"сообщил\w* в (?:администрации|министерстве|мчс|роспотребнадзоре)")


def alarm_signs(text: str) -> list[str]:
    """The kinds of alarm the text raises (empty when none)."""
    low = text.lower().replace("ё", "е")
    return [name for name, pattern in _ALARM if pattern.search(low)]


def cites_official_source(text: str) -> bool:
    """True when the text names or links an official source."""
    return OFFICIAL_RE.search(text.lower().replace("ё", "е")) is not None
