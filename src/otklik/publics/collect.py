"""Collection from official pages through the channel connectors.

For each active page, the connector of its platform (the page's own, or the region's
configured one) reads from the page's cursor: new posts and the comments under recent
posts, the counters of recent posts again, and the page's profile (subscribers, avatar,
cover, description, contacts, the state-organization mark, open comments, a pinned post)
as the day's snapshot. Rate limits, retries and back-off are the connector's; an error is
named on the page and in the connector's events, never stops the other pages. Each page is
its own unit of work: its cursor is saved with what it brought.

Comments are residents' messages too: they go into the message stream through the sink
the caller passes (intake's idempotent store, wired by the composition root — this domain
never imports intake), so they are enriched and become cases like any other.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.channels.connectors.base import AuthError, ConnectorError, FetchResult
from otklik.channels.connectors.base import Connector as ChannelConnector
from otklik.channels.connectors.registry import get_connector
from otklik.channels.repository import ConnectorRepository
from otklik.channels.schemas import IncomingMessage
from otklik.days import reporting_day
from otklik.db.base import utcnow
from otklik.models.message import Connector, IntakeEvent
from otklik.models.publics import PublicPage
from otklik.publics.repository import PublicsRepository

log = logging.getLogger(__name__)


class MessageSink(Protocol):
    """Stores messages in the stream (intake's ``store_messages``)."""

    def __call__(self, session: Session, items: Iterable[IncomingMessage], *,
                 connector_id: int | None = None) -> Any: ...


_QUESTION = re.compile(
    r"\?|\b(когда|почему|зачем|где|сколько|куда|подскажите|скажите|прошу|помогите|"
    r"можно ли|будет ли|кто)\b", re.IGNORECASE)


def needs_answer(text: str) -> bool:
    """True when a resident's comment asks or requests something."""
    return bool(_QUESTION.search(text or ""))


@dataclass
class PageRun:
    """What one page's collection brought."""

    page_id: int
    name: str
    posts: int = 0
    comments: int = 0
    snapshot: bool = False
    errors: list[str] = field(default_factory=list)


@dataclass
class CollectResult:
    """A collection run over many pages."""

    runs: list[PageRun] = field(default_factory=list)

    @property
    def errors(self) -> list[str]:
        """Every error, with its page's name."""
        return [f"{r.name}: {e}" for r in self.runs for e in r.errors]


def connector_for(session: Session, page: PublicPage) -> Connector | None:
    """The configured connector a page is read through: its own, else an enabled one of
    its platform for its region (or for every region)."""
    if page.connector_id is not None:
        return session.get(Connector, page.connector_id)
    rows = session.scalars(select(Connector).where(
        Connector.kind == page.platform, Connector.enabled.is_(True),
        (Connector.region_code == page.region_code) | Connector.region_code.is_(None))
        .order_by(Connector.region_code.is_(None), Connector.id)).all()
    return rows[0] if rows else None


def _page_config(row: Connector, page: PublicPage, owner: str) -> dict[str, Any]:
    config = dict(row.config or {})
    config.update(channel=page.name[:255], region=page.region_code)
    if page.platform == "vk":
        config.update(owner_ids=[int(owner)], searches=[])
    elif page.platform == "ok":
        config.update(group_ids=[owner])
    return config


def collect_page(session: Session, page: PublicPage, row: Connector, sink: MessageSink,
                 **options: Any) -> PageRun:
    """Collect one page through a connector row (never commits)."""
    run = PageRun(page.id, page.name)
    repo = PublicsRepository(session)
    events = ConnectorRepository(session)
    now = utcnow()
    probe = get_connector(row.kind, dict(row.config or {}), **options)
    try:
        owner = _owner_id(probe, page, repo)
    except ConnectorError as exc:
        probe.close()
        _fail(events, row, run, exc)
        repo.set_collected(page, page.cursor or {}, run.errors[-1], now)
        if isinstance(exc, AuthError):
            raise
        return run
    probe.close()
    connector = get_connector(row.kind, _page_config(row, page, owner), **options)
    try:
        if page.platform == "telegram":
            # The Bot API has one update queue for every chat the bot is in, read (and so
            # confirmed away) by intake's own connector: a channel page gives its
            # subscribers and profile only, and never takes other chats' messages.
            fetched = FetchResult(messages=[], cursor=dict(page.cursor or {}))
        else:
            fetched = connector.fetch(page.cursor or None)
        cursor = fetched.cursor
        run.errors.extend(fetched.errors)
        posts = [_post(m) for m in fetched.messages if m.comment_id is None and m.post_id]
        posts += _refreshed(connector, page.platform, owner, {p["post_id"] for p in posts},
                            run)
        comments = [m for m in fetched.messages if m.comment_id is not None]
        run.posts = repo.save_posts(page.id, posts)
        run.comments = repo.save_comments(page.id, [_comment(m, owner) for m in comments])
        if comments:
            sink(session, comments, connector_id=row.id)
        try:
            subscribers, facts = _profile(connector, page.platform, owner)
        except AuthError:
            raise
        except ConnectorError as exc:  # posts and comments are kept; the day has no snapshot
            run.errors.append(f"профиль: {exc.message}")
        else:
            repo.save_snapshot(page.id, reporting_day(now), subscribers, facts)
            run.snapshot = True
    except ConnectorError as exc:
        _fail(events, row, run, exc)
        repo.set_collected(page, page.cursor or {}, run.errors[-1], now)
        if isinstance(exc, AuthError):
            raise
        return run
    finally:
        connector.close()
    for error in run.errors:
        events.add_event(IntakeEvent(connector_id=row.id, kind="error",
                                     detail=f"{page.name}: {error}"))
    repo.set_collected(page, cursor, run.errors[-1] if run.errors else None, now)
    return run


def _fail(events: ConnectorRepository, row: Connector, run: PageRun,
          exc: ConnectorError) -> None:
    kind = "auth_error" if isinstance(exc, AuthError) else "error"
    run.errors.append(exc.message)
    events.add_event(IntakeEvent(connector_id=row.id, kind=kind,
                                 detail=f"{run.name}: {exc.message}"))


def _owner_id(connector: ChannelConnector, page: PublicPage, repo: PublicsRepository) -> str:
    """The page's numeric id on its platform; a VK short name is resolved once and kept."""
    if page.platform != "vk" or page.external_id.lstrip("-").isdigit():
        return page.external_id
    answer = connector.call("utils.resolveScreenName",  # type: ignore[attr-defined]
                            {"screen_name": page.external_id})
    if not isinstance(answer, dict) or answer.get("type") not in ("group", "page", "event"):
        raise ConnectorError(f"VK: {page.external_id!r} is not a community")
    owner = str(-int(answer["object_id"]))
    if repo.by_address("vk", owner) is not None:
        raise ConnectorError(f"VK: {page.url} is the same community as a page already in the "
                             "registry (a duplicate)")
    page.external_id = owner
    return owner


def _kind(message: IncomingMessage) -> str:
    kinds = [a.type for a in message.attachments if a.type]
    if isinstance(message.raw.get("poll"), dict) or "poll" in kinds:
        return "poll"
    for preferred in ("video", "photo", "link", "doc", "audio"):
        if preferred in kinds:
            return preferred
    return "text"


def _post(message: IncomingMessage) -> dict[str, Any]:
    reach = message.reach
    return {
        "post_id": str(message.post_id),
        "posted_at": message.created_at,
        "kind": _kind(message),
        "views": (reach.views or 0) if reach else 0,
        "likes": (reach.likes or 0) if reach else 0,
        "reposts": (reach.reposts or 0) if reach else 0,
        "comments": (reach.comments or 0) if reach else 0,
        "pinned": bool(message.raw.get("is_pinned")),
    }


def _refreshed(connector: ChannelConnector, platform: str, owner: str, fresh: set[str],
               run: PageRun) -> list[dict[str, Any]]:
    """The counters of the wall's recent posts read again (views keep growing for days)."""
    if platform != "vk":
        return []
    try:
        page = connector.call("wall.get", {"owner_id": owner,  # type: ignore[attr-defined]
                                           "count": 100, "offset": 0})
    except AuthError:
        raise
    except ConnectorError as exc:
        run.errors.append(f"счётчики постов: {exc.message}")
        return []
    rows = []
    for item in page.get("items", []) if isinstance(page, dict) else []:
        if str(item.get("id")) in fresh:
            continue
        try:
            message = connector._post_message(item, {})  # type: ignore[attr-defined]
        except (KeyError, TypeError, ValueError):
            continue
        rows.append(_post(message))
    return rows


def _comment(message: IncomingMessage, owner: str) -> dict[str, Any]:
    reply_to = None
    parent = message.parent_source_id or ""
    parts = parent.split("_")
    if len(parts) == 3:
        reply_to = parts[2]
    elif message.raw.get("reply_to_comment"):
        reply_to = str(message.raw["reply_to_comment"])
    from_page = message.author_id == owner
    return {
        "post_id": str(message.post_id),
        "comment_id": str(message.comment_id),
        "reply_to": reply_to,
        "author_id": message.author_id,
        "from_page": from_page,
        "needs_answer": not from_page and needs_answer(message.text),
        "created_at": message.created_at,
    }


def _profile(connector: ChannelConnector, platform: str, owner: str
             ) -> tuple[int | None, dict[str, Any]]:
    call: Callable[..., Any] = connector.call  # type: ignore[attr-defined]
    if platform == "vk":
        answer = call("groups.getById", {
            "group_id": owner.lstrip("-"),
            "fields": "members_count,description,contacts,cover,verified,wall,fixed_post,"
                      "site,addresses,is_government_organization"})
        groups = answer.get("groups", []) if isinstance(answer, dict) else answer
        group = groups[0] if groups else {}
        photo = str(group.get("photo_200") or "")
        return group.get("members_count"), {
            "avatar": bool(photo) and "camera_" not in photo and "community_" not in photo,
            "cover": bool((group.get("cover") or {}).get("enabled")),
            "description": bool((group.get("description") or "").strip()),
            "contacts": bool(group.get("contacts") or group.get("site")
                             or (group.get("addresses") or {}).get("is_enabled")),
            "state_mark": bool(group.get("is_government_organization")
                               or group.get("verified")),
            "comments_open": group.get("wall") in (1, 2),
            "pinned_post": bool(group.get("fixed_post")),
        }
    if platform == "ok":
        answer = call("group.getInfo", {
            "uids": owner, "fields": "members_count,description,pic_avatar,phone,"
                                     "homepage_url,premium,pin_notes_count,status"})
        group = answer[0] if isinstance(answer, list) and answer else {}
        return group.get("members_count"), {
            "avatar": bool(group.get("pic_avatar")),
            "description": bool((group.get("description") or "").strip()),
            "contacts": bool(group.get("phone") or group.get("homepage_url")),
            "state_mark": bool(group.get("premium")),
            "pinned_post": bool(group.get("pin_notes_count")),
        }
    chat = call("getChat", {"chat_id": owner})
    count = call("getChatMemberCount", {"chat_id": owner})
    return (int(count) if isinstance(count, int) else None), {
        "avatar": bool(chat.get("photo")),
        "description": bool((chat.get("description") or "").strip()),
        "contacts": "@" in (chat.get("description") or "") or "+7" in (
            chat.get("description") or ""),
        "pinned_post": bool(chat.get("pinned_message")),
    }


def collect(session_factory: Callable[[], Any], actor: Actor, sink: MessageSink, *,
            region_code: str | None = None, page_ids: Sequence[int] = (),
            progress: Callable[[int], None] | None = None, **options: Any) -> CollectResult:
    """Collect the active pages (of a region, or those named), each in its own unit of
    work from ``session_factory`` (a context manager: commit on success)."""
    actor.require("intake")
    result = CollectResult()
    with session_factory() as session:
        pages = [(p.id, p.name) for p in PublicsRepository(session).collectable(
            actor.scope, region_code, page_ids)]
    refused: set[int] = set()
    for page_id, name in pages:
        with session_factory() as session:
            page = session.get(PublicPage, page_id)
            assert page is not None
            row = connector_for(session, page)
            if row is None:
                run = PageRun(page_id, name, errors=[
                    f"нет подключения {page.platform} для региона {page.region_code}"])
                PublicsRepository(session).set_collected(page, page.cursor or {},
                                                         run.errors[0], utcnow())
            elif row.id in refused:
                run = PageRun(page_id, name, errors=["подключение отклонено платформой"])
            else:
                try:
                    run = collect_page(session, page, row, sink, **options)
                except AuthError as exc:
                    refused.add(row.id)
                    run = PageRun(page_id, name, errors=[exc.message])
                    PublicsRepository(session).set_collected(page, page.cursor or {},
                                                             exc.message, utcnow())
            result.runs.append(run)
        if progress:
            progress(1)
    return result
