"""Platform shapes of the demo stream: ids, URLs, reach, attachments and raw payloads.

Ids are assigned after the drafts are sorted by time, so post and message ids grow with
time on each wall/chat, as on the real platforms.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any

from otklik.channels.schemas import Attachment, IncomingMessage, Reach, Source
from otklik.demo.stream_compose import Draft, taxonomy_of
from otklik.demo.stream_vocab import stable_int, translit

DEMO_META_KEY = "_demo"  # raw["_demo"]: demo-only ground truth, never read by the pipeline
# Stories about one object or event: all their messages are one problem. The others (the
# Samara container sites) are about many places and are judged place by place.
ONE_PROBLEM_STORIES = frozenset(
    {"michurinsk_overpass", "kalmykia_water_outage", "karelia_resident_proposal",
     "karelia_blogger_grants"}
)


def _unix(dt: datetime) -> int:
    return int(dt.timestamp())


def _token(rng: random.Random, n: int) -> str:
    return "".join(
        rng.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
        for _ in range(n)
    )


class IdAssigner:
    """Keeps per-wall/chat/group counters and turns drafts into IncomingMessage."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.counters: dict[str, int] = {}

    def _next(self, key: str, start: int, step: tuple[int, int]) -> int:
        value = self.counters.get(key, start) + self.rng.randint(*step)
        self.counters[key] = value
        return value

    def message(self, d: Draft) -> IncomingMessage:
        """The IncomingMessage of one draft (its parent must have been processed before)."""
        src = d.channel.source
        build = {
            "vk": self._vk,
            "telegram": self._tg,
            "ok": self._ok,
            "email": self._email,
            "web": self._web,
        }[src]
        fields = build(d)
        raw = fields.pop("raw")
        raw[DEMO_META_KEY] = self._meta(d)
        lat = lon = None
        if d.geo:
            lat = round(d.settlement.lat + self.rng.gauss(0, 0.008), 6)
            lon = round(d.settlement.lon + self.rng.gauss(0, 0.012), 6)
        return IncomingMessage(
            source=Source(src),
            created_at=d.created_at,
            text=d.text,
            region=d.region,
            channel=d.channel.name,
            lat=lat,
            lon=lon,
            raw=raw,
            **fields,
        )

    # ---- per platform ------------------------------------------------------------------
    def _reach(self, d: Draft) -> Reach:
        rng = self.rng
        if not d.is_post:
            return Reach(likes=int(rng.paretovariate(1.8)) - 1)
        views = int(d.channel.size * rng.uniform(0.015, 0.35) * (1.8 if d.urgent else 1.0)) + 40
        likes = int(views * rng.uniform(0.003, 0.045))
        return Reach(
            views=views,
            likes=likes,
            reposts=int(likes * rng.uniform(0.0, 0.3)),
            comments=d.n_children,
        )

    def _vk(self, d: Draft) -> dict[str, Any]:
        owner = d.channel.owner_id
        item = self._next(f"vk{owner}", stable_int(d.channel.name, 20_000, 400_000), (1, 6))
        from_id = d.author.vk_id if d.author else owner
        reach = self._reach(d)
        photos = [self._vk_photo(owner) for _ in range(d.photos)]
        if d.is_post:
            post = item
            sid = f"wall{owner}_{post}"
            url = f"https://vk.com/wall{owner}_{post}"
            raw: dict[str, Any] = {
                "id": post,
                "owner_id": owner,
                "from_id": from_id,
                "date": _unix(d.created_at),
                "post_type": "post",
                "text": d.text,
                "comments": {"count": d.n_children},
                "likes": {"count": reach.likes},
                "reposts": {"count": reach.reposts},
                "views": {"count": reach.views},
                "attachments": [{"type": "photo", "photo": p} for p in photos],
            }
            if d.author and owner < 0:
                raw["signer_id"] = d.author.vk_id
            if d.geo:
                raw["geo"] = {
                    "type": "point",
                    "coordinates": f"{d.settlement.lat} {d.settlement.lon}",
                }
            comment_id = None
        else:
            assert d.parent is not None
            post = d.parent.ids["post"]
            sid = f"wall{owner}_{post}_{item}"
            url = f"https://vk.com/wall{owner}_{post}?reply={item}"
            raw = {
                "id": item,
                "from_id": from_id,
                "post_id": post,
                "owner_id": owner,
                "date": _unix(d.created_at),
                "text": d.text,
                "likes": {"count": reach.likes},
                "attachments": [{"type": "photo", "photo": p} for p in photos],
            }
            comment_id = str(item)
        d.ids.update(post=post, source_id=sid)
        return {
            "source_id": sid,
            "parent_source_id": d.parent.ids["source_id"] if d.parent else None,
            "owner_id": str(owner),
            "post_id": str(post),
            "comment_id": comment_id,
            "author_id": str(from_id),
            "author_name": d.author.display if d.author else d.channel.name,
            "url": url,
            "reach": reach,
            "attachments": [Attachment(url=p["sizes"][-1]["url"], type="photo") for p in photos],
            "raw": raw,
        }

    def _vk_photo(self, owner: int) -> dict[str, Any]:
        rng = self.rng
        url = (
            f"https://sun9-{rng.randint(10, 88)}.userapi.com/impg/{_token(rng, 32)}.jpg"
            f"?size=1280x960&quality=95&sign={_token(rng, 32)}&type=album"
        )
        return {
            "id": rng.randint(457_239_000, 457_299_999),
            "owner_id": owner,
            "sizes": [{"type": "x", "url": url, "width": 1280, "height": 960}],
        }

    def _tg(self, d: Draft) -> dict[str, Any]:
        chat = d.channel.owner_id
        mid = self._next(f"tg{chat}", stable_int(d.channel.name, 1_000, 250_000), (1, 4))
        sid = f"{chat}:{mid}"
        d.ids.update(post=mid, source_id=sid)
        p = d.author
        sender: dict[str, Any] = (
            {"id": p.tg_id, "is_bot": False, "first_name": p.first}
            if p
            else {
                "id": 136817688,
                "is_bot": True,
                "first_name": "Channel",
                "username": "Channel_Bot",
            }
        )
        if p and p.tg_username:
            sender["username"] = p.tg_username
        raw: dict[str, Any] = {
            "message_id": mid,
            "from": sender,
            "date": _unix(d.created_at),
            "chat": {
                "id": chat,
                "title": d.channel.name,
                "type": "supergroup",
                "username": d.channel.handle,
            },
        }
        attachments = []
        if d.photos:
            uid = _token(self.rng, 16)
            raw["photo"] = [
                {
                    "file_id": f"AgACAgIAAxkBAAI{_token(self.rng, 40)}",
                    "file_unique_id": uid,
                    "width": 1280,
                    "height": 960,
                    "file_size": self.rng.randint(60_000, 300_000),
                }
            ]
            raw["caption"] = d.text
            attachments.append(
                Attachment(url=f"https://t.me/{d.channel.handle}/{mid}?single", type="photo")
            )
        else:
            raw["text"] = d.text
        root_mid = d.parent.ids["post"] if d.parent else mid
        if d.parent:
            raw["reply_to_message"] = {
                "message_id": root_mid,
                "date": _unix(d.parent.created_at),
                "chat": raw["chat"],
            }
        return {
            "source_id": sid,
            "parent_source_id": d.parent.ids["source_id"] if d.parent else None,
            "owner_id": str(chat),
            "post_id": str(root_mid),
            "comment_id": str(mid) if d.parent else None,
            "author_id": str(p.tg_id) if p else str(chat),
            "author_name": p.display if p else d.channel.name,
            "url": f"https://t.me/{d.channel.handle}/{mid}",
            "reach": None,
            "attachments": attachments,
            "raw": raw,
        }

    def _ok(self, d: Draft) -> dict[str, Any]:
        gid = d.channel.owner_id
        p = d.author
        author_ref = f"user:{p.ok_id}" if p else f"group:{gid}"
        reach = self._reach(d)
        if d.is_post:
            tid = self._next(
                f"ok{gid}",
                stable_int(d.channel.name, 150_000_000_000_000, 156_000_000_000_000),
                (40_000, 9_000_000),
            )
            sid = f"{gid}_{tid}"
            url = f"https://ok.ru/group/{gid}/topic/{tid}"
            media: list[dict[str, Any]] = [{"type": "text", "text": d.text}]
            attachments = []
            for _ in range(d.photos):
                pid = str(self.rng.randint(900_000_000_000_000, 999_999_999_999_999))
                media.append({"type": "photo", "photo_refs": [f"photo:{pid}"]})
                attachments.append(
                    Attachment(url=f"https://i.mycdn.me/i?r={_token(self.rng, 40)}", type="photo")
                )
            raw: dict[str, Any] = {
                "id": str(tid),
                "created_ms": _unix(d.created_at) * 1000,
                "media": media,
                "author_ref": author_ref,
                "owner_ref": f"group:{gid}",
                "like_summary": {"count": reach.likes},
                "reshare_summary": {"count": reach.reposts},
                "discussion_summary": {"comments_count": d.n_children},
            }
            d.ids.update(post=tid, source_id=sid)
            comment_id = None
        else:
            assert d.parent is not None
            tid = d.parent.ids["post"]
            cid = self._next(f"okc{gid}", stable_int(d.channel.name, 10**8, 10**9), (1, 50))
            comment_id = f"{cid:x}"
            sid = f"{gid}_{tid}_{comment_id}"
            url = f"https://ok.ru/group/{gid}/topic/{tid}"
            raw = {
                "id": comment_id,
                "text": d.text,
                "author_id": str(p.ok_id) if p else str(gid),
                "date": d.created_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S"),
                "like_count": reach.likes,
                "discussion": {"type": "GROUP_TOPIC", "id": str(tid)},
            }
            attachments = []
            d.ids.update(source_id=sid)
        return {
            "source_id": sid,
            "parent_source_id": d.parent.ids["source_id"] if d.parent else None,
            "owner_id": str(gid),
            "post_id": str(tid),
            "comment_id": comment_id,
            "author_id": str(p.ok_id) if p else str(gid),
            "author_name": p.display if p else d.channel.name,
            "url": url,
            "reach": reach,
            "attachments": attachments,
            "raw": raw,
        }

    def _email(self, d: Draft) -> dict[str, Any]:
        rng = self.rng
        p = d.author
        assert p is not None
        domain = p.email.split("@", 1)[1]
        stamp = d.created_at.astimezone(UTC).strftime("%Y%m%d%H%M%S")
        mid = f"<{stamp}.{rng.randint(10_000, 99_999)}.{_token(rng, 8)}@{domain}>"
        d.ids.update(source_id=mid)
        mailbox = f"obrashcheniya@cur{d.region}.example"
        raw = {
            "headers": {
                "Message-ID": mid,
                "From": f'"{p.display}" <{p.email}>',
                "To": mailbox,
                "Subject": d.subject or "",
                "Date": format_datetime(d.created_at),
                "Content-Type": "text/plain; charset=utf-8",
            },
            "body_plain": d.text,
            "mailbox": mailbox,
        }
        return {
            "source_id": mid,
            "parent_source_id": None,
            "author_id": p.email,
            "author_name": p.display,
            "url": None,
            "reach": None,
            "attachments": [],
            "raw": raw,
        }

    def _web(self, d: Draft) -> dict[str, Any]:
        p = d.author
        assert p is not None
        n = self._next(f"web{d.region}", stable_int(d.channel.name, 10_000, 90_000), (1, 3))
        sid = f"form-{d.region}-{n}"
        d.ids.update(source_id=sid)
        attachments = [
            Attachment(
                url=f"https://cur{d.region}.example/uploads/{_token(self.rng, 24)}.jpg",
                type="photo",
            )
            for _ in range(d.photos)
        ]
        raw = {
            "form": "obrashchenie",
            "submission_id": n,
            "submitted_at": d.created_at.isoformat(),
            "fields": {
                "name": p.display,
                "email": p.email,
                "settlement": d.settlement.name,
                "message": d.text,
            },
        }
        return {
            "source_id": sid,
            "parent_source_id": None,
            "author_id": p.email,
            "author_name": p.display,
            "url": None,
            "reach": None,
            "attachments": attachments,
            "raw": raw,
        }

    def _meta(self, d: Draft) -> dict[str, Any]:
        topic, subtopic = taxonomy_of(d.topic, d.subtopic)
        meta: dict[str, Any] = {
            "story": d.story,
            "topic_hint": topic,
            "subtopic": subtopic,
            "generator_topic": f"{d.topic}/{d.subtopic}" if d.subtopic else d.topic,
            "kind": d.kind,
            "urgent": d.urgent,
            "noise": d.noise,
            "settlement": d.settlement.name,
            "municipality": d.settlement.municipality,
            "person": d.author.key if d.author else None,
        }
        if d.campaign:
            meta["campaign"] = d.campaign
        if d.repeat_of is not None:
            meta["repeat_of"] = d.repeat_of.ids.get("source_id")
        if d.street:
            meta["street"] = d.street.rstrip("*")
        incident = incident_of(d)
        if incident:
            meta["incident"] = incident
        return meta


def incident_of(d: Draft) -> str | None:
    """The problem a curator would file this message under, as the generator knows it.

    One object or event of a story, one petition of a campaign; otherwise one subject in
    one place: the rubricator subtopic (the topic for a thing at an address) and the town,
    with the street the text names for a subject at an address («ямы на Советской, Тамбов»; see
    :func:`otklik.problems.clustering_state.street_bound`), or the district for a village
    or a small town («бродячие собаки — Мичуринский район»). A reply that only follows its
    post ("у нас тоже") belongs to its post's problem. None for official posts and noise.
    For evaluation (bench/bench_clustering.py) only.
    """
    from otklik.problems.clustering_state import ClusterConfig, is_rural, street_bound

    if d.noise or d.kind in ("official", "noise"):
        return None
    if d.campaign:
        return f"campaign:{d.campaign}"
    if d.story in ONE_PROBLEM_STORIES:
        return d.story
    if d.follows_post and d.parent is not None:
        return incident_of(d.parent)
    topic, subtopic = taxonomy_of(d.topic, d.subtopic)
    # The subject is the subtopic; for things at an address, the topic: the generator's
    # subjects map onto the rubricator's only roughly there (its «sidewalks» texts speak of
    # crossings and traffic lights). An outage or a structure of its own (a bridge) keeps
    # its subtopic.
    own = subtopic in ClusterConfig().own_subtopics or not street_bound(subtopic or topic)
    subject = subtopic if own and subtopic else topic
    if is_rural(d.settlement.population):
        return f"{subject}@{d.region}:{d.settlement.municipality}"
    key = f"{subject}@{d.region}:{d.settlement.name}"
    if d.street and street_bound(subtopic or topic):
        return f"{key}/{d.street.rstrip('*')}"
    return key


def finalize(drafts: Iterable[Draft], rng: random.Random) -> Iterator[IncomingMessage]:
    """Assign platform ids in time order and yield the messages."""
    assigner = IdAssigner(rng)
    for d in drafts:
        yield assigner.message(d)


def email_address(first: str, last: str, rng: random.Random, domains: list[str]) -> str:
    """A plausible personal e-mail address for a generated person."""
    base = rng.choice(
        (
            f"{translit(last)}.{translit(first)[:1]}",
            f"{translit(first)}{translit(last)}",
            f"{translit(last)}{rng.randint(60, 99)}",
            f"{translit(first)}_{rng.randint(1, 999)}",
        )
    )
    return f"{base}@{rng.choice(domains)}"
