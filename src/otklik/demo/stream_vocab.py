"""Vocabularies and the small world (regions, places, people, channels) of the demo stream.

Everything here is loaded from JSON files in ``vocab/`` shipped with the package; nothing
is read from outside the package at run time.
"""

from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from datetime import timedelta, timezone
from functools import cache, lru_cache
from pathlib import Path
from typing import Any

VOCAB_DIR = Path(__file__).parent / "vocab"


@cache
def load_vocab(name: str) -> dict[str, Any]:
    """Return one vocabulary file (``vocab/<name>.json``) as a dict; cached."""
    with (VOCAB_DIR / f"{name}.json").open(encoding="utf-8") as fh:
        data: dict[str, Any] = json.load(fh)
    return data


def stable_int(text: str, low: int, high: int) -> int:
    """A number in [low, high) derived from ``text`` only, identical on every run."""
    return low + zlib.crc32(text.encode("utf-8")) % (high - low)


@dataclass(frozen=True)
class Settlement:
    """A real settlement of a demo region (Rosstat list, see vocab/README.md)."""

    name: str
    type: str
    municipality: str
    district: str | None
    population: int
    lat: float
    lon: float
    loc: str | None
    streets: tuple[str, ...]
    micro: tuple[str, ...]

    @property
    def is_town(self) -> bool:
        """True for a town (type ``г``)."""
        return self.type == "г"


@dataclass(frozen=True)
class Channel:
    """A community, page, chat, mailbox or form through which messages arrive."""

    name: str
    source: str
    kind: str  # community, governor, gospublic, center, chat, mailbox, form
    region: str
    city: str | None
    size: int
    weight: float
    handle: str

    @property
    def owner_id(self) -> int:
        """Platform id of the community/chat/group, stable for its name."""
        if self.source == "vk":
            if self.kind == "governor":
                return stable_int(self.name, 100_000, 900_000_000)
            return -stable_int(self.name, 20_000_000, 229_000_000)
        if self.source == "telegram":
            return -(1_000_000_000_000 + stable_int(self.name, 1_100_000_000, 2_400_000_000))
        if self.source == "ok":
            return stable_int(self.name, 50_000_000_000_000, 70_000_000_000_000)
        return stable_int(self.name, 1, 1_000_000)


@dataclass
class Region:
    """One demo region: codes, names, time zone, places, channels."""

    code: str
    name: str
    short: str
    gen: str
    loc: str
    tz: timezone
    head: str
    capital: str
    share: float
    settlements: list[Settlement]
    rural_streets: list[str]
    channels: list[Channel] = field(default_factory=list)

    def settlement(self, name: str) -> Settlement:
        """The settlement called ``name`` (the most populous one if names repeat)."""
        for s in self.settlements:
            if s.name == name:
                return s
        raise KeyError(name)


@dataclass
class Person:
    """A generated resident: stable ids on each platform, a name and a writing style."""

    key: str
    region: str
    gender: str
    first: str
    last: str
    patronymic: str
    display: str
    style: str
    home: Settlement
    vk_id: int
    ok_id: int
    tg_id: int
    tg_username: str | None
    email: str

    @property
    def full_name(self) -> str:
        """Surname, given name and patronymic, as in a formal letter."""
        return f"{self.last} {self.first} {self.patronymic}"


@lru_cache(maxsize=1)
def load_regions() -> dict[str, Region]:
    """The five demo regions keyed by OKTMO region code, with settlements and channels."""
    geo = load_vocab("geo")["regions"]
    chans = load_vocab("channels")["channels"]
    out: dict[str, Region] = {}
    for code, meta in geo.items():
        settlements = [
            Settlement(
                name=s["name"],
                type=s["type"],
                municipality=s["municipality"],
                district=s["district"],
                population=s["population"],
                lat=s["lat"],
                lon=s["lon"],
                loc=s["loc"],
                streets=tuple(s["streets"]),
                micro=tuple(s["micro"]),
            )
            for s in meta["settlements"]
        ]
        region = Region(
            code=code,
            name=meta["name"],
            short=meta["short"],
            gen=meta["gen"],
            loc=meta["loc"],
            tz=timezone(timedelta(hours=meta["tz"])),
            head=meta["head"],
            capital=meta["capital"],
            share=meta["share"],
            settlements=settlements,
            rural_streets=list(meta["rural_streets"]),
        )
        for c in chans[code]:
            region.channels.append(
                Channel(
                    name=c["name"],
                    source=c["source"],
                    kind=c["kind"],
                    region=code,
                    city=c.get("city"),
                    size=c["size"],
                    weight=c["weight"],
                    handle=c.get("handle", ""),
                )
            )
        out[code] = region
    return out


_TRANSLIT = str.maketrans(
    dict(
        zip(
            "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
            [
                "a",
                "b",
                "v",
                "g",
                "d",
                "e",
                "e",
                "zh",
                "z",
                "i",
                "y",
                "k",
                "l",
                "m",
                "n",
                "o",
                "p",
                "r",
                "s",
                "t",
                "u",
                "f",
                "kh",
                "ts",
                "ch",
                "sh",
                "sch",
                "",
                "y",
                "",
                "e",
                "yu",
                "ya",
            ],
            strict=True,
        )
    )
)


def translit(text: str) -> str:
    """Latin transliteration for e-mail addresses and user names."""
    return "".join(ch for ch in text.lower() if ch.isalnum()).translate(_TRANSLIT)


def patronymic(base: str, gender: str) -> str:
    """Patronymic from a father's given name (``Сергей`` -> ``Сергеевич``/``Сергеевна``)."""
    if base == "Пётр":
        stem = "Петров"
    elif base == "Михаил":
        stem = "Михайлов"
    elif base.endswith("ий"):
        stem = base[:-2] + "ьев"
    elif base.endswith(("ей", "ай")):
        stem = base[:-1] + "ев"
    else:
        stem = base + "ов"
    return stem + ("ич" if gender == "m" else "на")


def female_surname(last: str) -> str:
    """Feminine form of a surname when Russian grammar has one."""
    if last.endswith(("ов", "ев", "ёв", "ин", "ын")):
        return last + "а"
    if last.endswith(("ский", "цкий")):
        return last[:-2] + "ая"
    return last
