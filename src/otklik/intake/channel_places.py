"""Channel places: a community that speaks for one town places the messages that name none.

Much of what a center reads comes from town communities ("Типичный Мичуринск", "Подслушано
Элиста"). Residents there write "на Лаврова опять яма" without naming the town: everybody
in the community knows it. An admin records which place a channel speaks for; enrichment
then puts such a message in that place when neither its text nor its thread gives one
(:mod:`otklik.intake.place_context`), and says so in the explanation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from otklik.audit import service as audit
from otklik.audit.actor import Actor
from otklik.errors import Forbidden, InvalidInput, NotFound
from otklik.intake.repository import ChannelPlaceRepository
from otklik.models.message import ChannelPlace
from otklik.models.territory import Territory, TerritoryLevel
from otklik.territories.repository import TerritoryRepository


@dataclass(frozen=True)
class ChannelPlaceView:
    """A channel with its place, for lists."""

    id: int
    channel: str
    territory_id: int
    territory_key: str
    territory_name: str
    level: str
    region_code: str


def _view(row: ChannelPlace, territory: Territory) -> ChannelPlaceView:
    return ChannelPlaceView(id=row.id, channel=row.channel, territory_id=territory.id,
                            territory_key=territory.key, territory_name=territory.name,
                            level=str(territory.level.value), region_code=territory.region_code)


def list_places(session: Session, actor: Actor) -> list[ChannelPlaceView]:
    """Channel places in the actor's regions."""
    actor.require("read")
    return [_view(row, territory)
            for row, territory in ChannelPlaceRepository(session).all(actor.scope)]


def set_place(session: Session, actor: Actor, channel: str, territory_key: str
              ) -> ChannelPlaceView:
    """Say which municipality or settlement (OKTMO key) a channel speaks for."""
    actor.require("admin")
    channel = " ".join(channel.split())
    if not channel:
        raise InvalidInput("channel: give the channel's name as it is shown on its messages")
    territory = TerritoryRepository(session).by_key(territory_key.strip())
    if territory is None:
        raise InvalidInput(f"territory {territory_key!r} not found: give an OKTMO code of a "
                           "municipality or settlement, e.g. 68715 (город Мичуринск)")
    if territory.level not in (TerritoryLevel.municipality, TerritoryLevel.settlement):
        raise InvalidInput(f"{territory.name} is a {territory.level.value}: a channel place is "
                           "a municipality or a settlement (a region is already a hint)")
    if not actor.scope.sees_region(territory.region_code):
        raise Forbidden(f"region {territory.region_code} is outside your scope")
    repo = ChannelPlaceRepository(session)
    row = repo.by_channel(channel)
    previous = row.territory_id if row else None
    if row is None:
        row = repo.add(ChannelPlace(channel=channel, territory_id=territory.id))
    else:
        row.territory_id = territory.id
    audit.record(session, actor, "channel_place.set", "channel_place", row.id,
                 region_code=territory.region_code,
                 details={"channel": channel, "territory": territory.key,
                          "previous_territory_id": previous})
    return _view(row, territory)


def remove_place(session: Session, actor: Actor, channel: str) -> None:
    """Forget a channel's place (messages already enriched keep theirs)."""
    actor.require("admin")
    repo = ChannelPlaceRepository(session)
    row = repo.by_channel(" ".join(channel.split()))
    if row is None:
        raise NotFound(f"channel {channel!r} has no place")
    territory = TerritoryRepository(session).get(row.territory_id)
    if territory is not None and not actor.scope.sees_region(territory.region_code):
        raise Forbidden(f"region {territory.region_code} is outside your scope")
    audit.record(session, actor, "channel_place.remove", "channel_place", row.id,
                 region_code=territory.region_code if territory else None,
                 details={"channel": row.channel})
    repo.delete(row)


def places_for(session: Session, channels: Sequence[str | None]) -> dict[str, Territory]:
    """The places of these channels (for a batch of messages being enriched)."""
    return ChannelPlaceRepository(session).places([c for c in channels if c])
