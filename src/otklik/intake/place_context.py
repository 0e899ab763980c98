"""Where a message is when its text does not say: from its thread, then from its channel.

Residents rarely repeat the place in a comment ("когда уже отремонтируют?" under a post about
the overpass on Lavrov Street) or in a town community ("на Лаврова опять яма" in «Типичный
Мичуринск»). After the territory stage, enrichment fills a message's place, in this order:

1. what the text itself names (the stage's answer) — it wins, except that a street-looking
   mention («барак на Чичерина», «ямы по Советской») that the stage took for a village
   elsewhere is a street of the thread's or the channel's town, unless the text names the
   village's district (:func:`street_over_village`);
2. the place of the post the comment answers (its stored enrichment);
3. the settlement the sender gave in a form's field (an internet reception asks for it:
   ``raw["fields"]["settlement"]``, :func:`stated_settlement`);
4. the place of the channel (:mod:`otklik.intake.channel_places`).

A filled place is marked in the record (``territory.from_thread`` / ``from_form`` /
``from_channel``) and
explained, so the case card says why; its confidence is lower than a named place's.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from otklik.models.message import MessageEnrichment
from otklik.models.territory import Territory, TerritoryLevel
from otklik.nlp.territory_text import street_looking

#: How sure an inherited place is (the stage's own matches score higher).
THREAD_CONFIDENCE = 0.6
CHANNEL_CONFIDENCE = 0.5


def _named(values: dict[str, Any]) -> bool:
    return bool(values.get("municipality_id") or values.get("settlement_id")
                or values.get("street"))


def _mark(result: dict[str, Any], key: str, label: str, confidence: float, text: str) -> None:
    found = result.setdefault("territory", {})
    if isinstance(found, dict):
        found[key] = label
        found["confidence"] = max(float(found.get("confidence") or 0.0), confidence)
    explain = result.setdefault("explain", {})
    if isinstance(explain, dict):
        explain[f"territory_{key}"] = text


def street_over_village(text: str, result: dict[str, Any]) -> str | None:
    """The street a message means when the settlement the territory stage found rests only
    on street-looking mentions («на Чичерина», «по Советской»: a street without its type
    word) and no mention names that settlement's district; None otherwise.

    Pure: ``result`` is the pipeline's record (its ``territory`` and the stage's explanation).
    The caller decides whether a town of the thread or the channel takes the message.
    """
    found = result.get("territory") or {}
    settlement = found.get("settlement") if isinstance(found, dict) else None
    if not isinstance(settlement, dict):
        return None
    key = settlement.get("key") or settlement.get("oktmo")
    municipality = found.get("municipality") or {}
    district = municipality.get("key") or municipality.get("oktmo")
    explain = (result.get("explain") or {}).get("territory") or {}
    street = None
    for mention in explain.get("mentions") or ():
        top = mention.get("top") or []
        if any(c.get("level") == "municipality" and c.get("key") == district for c in top):
            return None  # «Чичерино Токарёвского района»: the village's district is named
        if not top or top[0].get("key") != key:
            continue
        looks = street_looking(text, int(mention.get("start", 0)), int(mention.get("end", 0)))
        if looks is None:
            return None  # the settlement is also named as a settlement
        street = street or looks
    return street


class Town(NamedTuple):
    """The town a message speaks from, with its nodes for the enrichment record."""

    region_code: str | None
    municipality_id: int | None
    settlement_id: int | None
    nodes: dict[str, Any] = {}


def town_of(parent: MessageEnrichment | dict[str, Any] | None,
            channel_place: Territory | None) -> Town | None:
    """The town a message speaks from: its thread's place, else its channel's; None when
    neither is known."""
    if parent is not None:
        get = parent.get if isinstance(parent, dict) else (lambda k: getattr(parent, k))
        if get("municipality_id") or get("settlement_id"):
            found = (get("result") or {}).get("territory") or {}
            nodes = {k: found.get(k) for k in ("municipality", "settlement")
                     if isinstance(found, dict)}
            return Town(get("region_code"), get("municipality_id"), get("settlement_id"), nodes)
    if channel_place is None:
        return None
    node = {"name": channel_place.name, "oktmo": channel_place.oktmo or channel_place.key,
            "key": channel_place.key}
    if channel_place.level == TerritoryLevel.settlement:
        return Town(channel_place.region_code, channel_place.parent_id, channel_place.id,
                    {"settlement": node})
    return Town(channel_place.region_code, channel_place.id, None, {"municipality": node})


def village_to_street(values: dict[str, Any], text: str, result: dict[str, Any],
                      town: Town | None) -> None:
    """A street-looking mention the stage took for a village elsewhere is a street of the
    town the message speaks from (its thread's or its channel's) when that town is another
    place of the same region (see :func:`street_over_village`)."""
    if town is None or values.get("street"):
        return
    if values.get("region_code") not in (None, town.region_code):
        return
    if town.settlement_id is not None and values.get("settlement_id") == town.settlement_id:
        return
    street = street_over_village(text, result)
    if street is None:
        return
    village = ((result.get("territory") or {}).get("settlement") or {}).get("name")
    values.update(region_code=town.region_code, municipality_id=town.municipality_id,
                  settlement_id=town.settlement_id, street=street, house=None)
    found = result.setdefault("territory", {})
    if isinstance(found, dict):
        # The record names the town now; the village stays in the explanation.
        found.update(street=street, house=None, settlement=town.nodes.get("settlement"),
                     municipality=town.nodes.get("municipality"))
    _mark(result, "street_not_village", street, CHANNEL_CONFIDENCE,
          f"«{street}» — улица того же города, а не {village or 'село'} в другом районе")


def place_from_thread(values: dict[str, Any], parent: MessageEnrichment | dict[str, Any] | None,
                      parent_source_id: str | None, result: dict[str, Any]) -> None:
    """A comment that names no place of its own takes its post's place (and street)."""
    if parent is None or _named(values):
        return
    get = parent.get if isinstance(parent, dict) else (lambda k: getattr(parent, k))
    if not (get("municipality_id") or get("settlement_id")):
        return
    if values.get("region_code") not in (None, get("region_code")):
        return
    for key in ("region_code", "municipality_id", "settlement_id", "street", "house"):
        values[key] = get(key)
    _mark(result, "from_thread", parent_source_id or "", THREAD_CONFIDENCE,
          "место по сообщению, к которому относится комментарий")


#: Where a form's settlement field lies in a message's ``raw`` (an internet reception's
#: submission); read by this path in the database too (MessageRepository.to_enrich).
FORM_SETTLEMENT = ("fields", "settlement")


def stated_settlement(raw: dict[str, Any] | None) -> str | None:
    """The settlement a sender gave in a form's own field (:data:`FORM_SETTLEMENT` of an
    internet reception's submission), or None."""
    group, name = FORM_SETTLEMENT
    fields = raw.get(group) if isinstance(raw, dict) else None
    return settlement_value(fields.get(name) if isinstance(fields, dict) else None)


def settlement_value(value: Any) -> str | None:
    """A form's settlement field as the sender gave it (trimmed), or None when it names
    nothing."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:200]


def settlement_text(name: str) -> str:
    """The text the territory stage reads a form's settlement field from: the field names a
    settlement, so a bare name («Буровой», «Сызрань») gets a settlement type word; a value
    that already has one («с. Тимофеевка») is read as written."""
    first = name.split(maxsplit=1)[0].rstrip(".").lower()
    return name if first in _TYPE_WORDS or "," in name else f"г. {name}"


_TYPE_WORDS = frozenset(
    "г гор город с село д дер деревня п пос посёлок поселок пгт рп х хутор ст ст-ца станица "
    "аул сл слобода".split())


def place_from_form(values: dict[str, Any], territory: Territory | None,
                    result: dict[str, Any]) -> None:
    """A message that names no municipality or settlement takes the settlement its sender
    gave in the form (see :func:`stated_settlement`), before the channel's town."""
    if territory is None or not _fill_place(values, territory, result):
        return
    _mark(result, "from_form", territory.name, CHANNEL_CONFIDENCE,
          f"место по полю формы: {territory.name}")


def place_from_channel(values: dict[str, Any], territory: Territory | None,
                       channel: str | None, result: dict[str, Any]) -> None:
    """A message that names no municipality or settlement takes its channel's town.

    A street named without a town stays (it is the town's street). A region named in the
    text that differs from the channel's keeps the text's answer.
    """
    if territory is None or not _fill_place(values, territory, result):
        return
    _mark(result, "from_channel", channel or "", CHANNEL_CONFIDENCE,
          f"место по каналу «{channel}»: {territory.name}")


def _fill_place(values: dict[str, Any], territory: Territory, result: dict[str, Any]) -> bool:
    """Put ``territory`` as the message's place when the message has none of its own in
    that region; True when it did."""
    if values.get("municipality_id") or values.get("settlement_id"):
        return False
    if values.get("region_code") not in (None, territory.region_code):
        return False
    if territory.level == TerritoryLevel.settlement:
        values["settlement_id"], values["municipality_id"] = territory.id, territory.parent_id
    else:
        values["municipality_id"] = territory.id
    values["region_code"] = territory.region_code
    node = {"name": territory.name, "oktmo": territory.oktmo or territory.key,
            "key": territory.key}
    found = result.setdefault("territory", {})
    if isinstance(found, dict):
        found["settlement" if territory.level == TerritoryLevel.settlement
              else "municipality"] = node
    return True
