"""Where a message is when its text does not say: from its thread, then from its channel.

Residents rarely repeat the place in a comment ("когда уже отремонтируют?" under a post about
the overpass on Lavrov Street) or in a town community ("на Лаврова опять яма" in «Типичный
Мичуринск»). After the territory stage, enrichment fills a message's place, in this order:

1. what the text itself names (the stage's answer) — always wins;
2. the place of the post the comment answers (its stored enrichment);
3. the place of the channel (:mod:`otklik.intake.channel_places`).

A filled place is marked in the record (``territory.from_thread`` / ``from_channel``) and
explained, so the case card says why; its confidence is lower than a named place's.
"""

from __future__ import annotations

from typing import Any

from otklik.models.message import MessageEnrichment
from otklik.models.territory import Territory, TerritoryLevel

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


def place_from_channel(values: dict[str, Any], territory: Territory | None,
                       channel: str | None, result: dict[str, Any]) -> None:
    """A message that names no municipality or settlement takes its channel's town.

    A street named without a town stays (it is the town's street). A region named in the
    text that differs from the channel's keeps the text's answer.
    """
    if territory is None or values.get("municipality_id") or values.get("settlement_id"):
        return
    if values.get("region_code") not in (None, territory.region_code):
        return
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
    _mark(result, "from_channel", channel or "", CHANNEL_CONFIDENCE,
          f"место по каналу «{channel}»: {territory.name}")
