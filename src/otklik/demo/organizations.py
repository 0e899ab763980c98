"""The demo's executors: each region's ministries, inspection, utilities, waste operator,
and an administration for every municipality. Real structure, generic names."""

from __future__ import annotations

from functools import lru_cache

import pymorphy3

from otklik.models.organization import OrganizationKind

#: The five regions of the stories in DESIGN.md, with their names in the genitive case.
DEMO_REGIONS: dict[str, str] = {
    "86": "Республики Карелия",
    "68": "Тамбовской области",
    "85": "Республики Калмыкия",
    "36": "Самарской области",
    "07": "Ставропольского края",
}

#: (kind, name template, short name) of the bodies every region has.
REGIONAL_BODIES: list[tuple[OrganizationKind, str, str]] = [
    (OrganizationKind.management_center, "Центр управления регионом {gen}", "ЦУР"),
    (OrganizationKind.ministry,
     "Министерство строительства и жилищно-коммунального хозяйства {gen}", "Минстрой и ЖКХ"),
    (OrganizationKind.ministry, "Министерство транспорта и автомобильных дорог {gen}",
     "Минтранс"),
    (OrganizationKind.ministry, "Министерство здравоохранения {gen}", "Минздрав"),
    (OrganizationKind.ministry, "Министерство образования и науки {gen}", "Минобрнауки"),
    (OrganizationKind.ministry, "Министерство социальной защиты населения {gen}", "Минсоцзащиты"),
    (OrganizationKind.ministry, "Министерство природных ресурсов и экологии {gen}",
     "Минприроды"),
    (OrganizationKind.ministry, "Министерство культуры {gen}", "Минкультуры"),
    (OrganizationKind.ministry, "Министерство цифрового развития и связи {gen}", "Минцифры"),
    (OrganizationKind.committee, "Комитет по физической культуре и спорту {gen}", "Спорткомитет"),
    (OrganizationKind.inspection, "Государственная жилищная инспекция {gen}", "ГЖИ"),
    (OrganizationKind.waste_operator, "Региональный оператор по обращению с ТКО {gen}",
     "Регоператор ТКО"),
    (OrganizationKind.utility, "Филиал электросетевой компании {gen}", "Электросети"),
    (OrganizationKind.utility, "Газораспределительная организация {gen}", "Газораспределение"),
]

_HEADS = {"район", "округ", "поселение", "город", "образование"}


@lru_cache(maxsize=1)
def _morph() -> pymorphy3.MorphAnalyzer:
    return pymorphy3.MorphAnalyzer()


def genitive(phrase: str) -> str:
    """Put a municipality's name into the genitive ("Медвежьегорский район" → "…ого района").

    Words up to the head noun are inflected; after "город" the town's name is inflected too
    ("города Мичуринска"), after "округ" it stays ("городского округа Элиста").
    """
    words = phrase.split()
    if not any(w.lower() in _HEADS for w in words):
        return phrase
    out: list[str] = []
    inflecting = True
    for word in words:
        out.append(_inflect_genitive(word) if inflecting and word.isalpha() else word)
        if word.lower() in _HEADS:
            inflecting = word.lower() == "город"
        elif inflecting and out and len(out) > 1 and words[len(out) - 2].lower() == "город":
            inflecting = False
    return " ".join(out)


def _inflect_genitive(word: str) -> str:
    parse = next(
        (p for p in _morph().parse(word) if {"nomn"} <= p.tag.grammemes
         and ({"ADJF"} <= p.tag.grammemes or {"NOUN"} <= p.tag.grammemes)),
        None,
    )
    inflected = parse.inflect({"gent"}) if parse else None
    if inflected is None:
        return word
    form = inflected.word
    return form[:1].upper() + form[1:] if word[:1].isupper() else form


def municipal_admin_name(municipality_name: str) -> str:
    """The name of a municipality's administration."""
    return f"Администрация {genitive(municipality_name)}"
