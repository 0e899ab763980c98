"""VK (VKontakte) connector: API v5.199 walls, comments, newsfeed search, Callback API.

Field mapping follows the VK API object docs (post, comment, message). Source
ids: posts ``wall{owner}_{post}``, comments ``wall{owner}_{post}_{comment}``,
community messages ``im{peer}_{conversation_message_id}``.

Cursor (JSON)::

    {"walls": {"-123": {"last_post_id": 812, "last_date": 1732878300,
                        "posts": {"812": 40551, "811": 0}}},
     "searches": {"<query key>": {"start_time": 1732878301}}}

``posts`` maps the most recent ``comment_posts`` posts to the last comment id
seen under each, so comments (and replies in threads) are fetched only once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from otklik.channels.connectors.base import (
    AuthError,
    ConnectorConfig,
    ConnectorError,
    FetchResult,
    ForgedRequest,
    PermanentError,
    PushResult,
    RateLimited,
    Reply,
    TransientError,
    readable,
    secret_value,
)
from otklik.channels.connectors.http import HttpConnector
from otklik.channels.connectors.normalize import clean_text, from_unix, limit_text, unescape
from otklik.channels.schemas import Attachment, IncomingMessage, Reach, Source

VK_API_URL = "https://api.vk.com/method/"

# Error codes from the VK API "errors" page.
_AUTH_CODES = {5, 27, 28, 1116}
_RATE_CODES = {6: 0.4, 9: 10.0}  # too many requests per second / flood control
_DAILY_LIMIT = 29  # rate limit reached for this method today
_TRANSIENT_CODES = {1, 10, 603}
_COMMENT_ID = re.compile(r"^wall(-?\d+)_(\d+)(?:_(\d+))?$")


class VKSearch(BaseModel):
    """One ``newsfeed.search`` monitor: a keyword and/or a place."""

    model_config = ConfigDict(extra="forbid")

    q: str = ""
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)

    def key(self) -> str:
        """Stable cursor key of this monitor."""
        return f"{self.q}|{self.latitude}|{self.longitude}"


class VKConfig(ConnectorConfig):
    """Settings of the VK connector."""

    access_token: SecretStr = Field(description="service or user token used for reading")
    group_token: SecretStr | None = Field(
        default=None, description="community token for wall.createComment (else access_token)"
    )
    group_id: int | None = Field(default=None, gt=0, description="community id answering")
    owner_ids: list[int] = Field(default_factory=list, description="walls: -club id or user id")
    searches: list[VKSearch] = Field(default_factory=list)
    posts_per_wall: int = Field(default=50, ge=1, le=100)
    comment_posts: int = Field(default=20, ge=0, le=200, description="recent posts polled")
    max_pages: int = Field(default=5, ge=1, description="pages per wall/post/search and run")
    thread_items: int = Field(default=10, ge=0, le=10)
    api_version: str = "5.199"
    base_url: str = VK_API_URL
    requests_per_second: float = Field(default=3.0, gt=0, description="VK allows 3/s per token")
    confirmation_code: str | None = Field(default=None, description="Callback API confirmation")
    callback_secret: SecretStr | None = Field(default=None, description="Callback API secret")


def _check(response: httpx.Response, body: Any) -> None:
    """Turn VK's ``{"error": {...}}`` (HTTP 200) into our error types."""
    if not isinstance(body, dict) or "error" not in body:
        return
    error = body["error"] or {}
    code = int(error.get("error_code", 0))
    text = f"VK error {code}: {error.get('error_msg', '')}"
    if code in _AUTH_CODES:
        raise AuthError(text)
    if code in _RATE_CODES:
        raise RateLimited(text)
    if code == _DAILY_LIMIT:
        raise RateLimited(text, retry_after=24 * 3600.0)
    if code in _TRANSIENT_CODES:
        raise TransientError(text)
    raise PermanentError(text)


class VKConnector(HttpConnector):
    """VK walls, comments and keyword/place monitoring; Callback API; replies as the community."""

    kind: ClassVar[str] = "vk"
    config_model: ClassVar[type[ConnectorConfig]] = VKConfig
    supports_push: ClassVar[bool] = True
    supports_publish: ClassVar[bool] = True
    config: VKConfig

    secret_fields: ClassVar[tuple[str, ...]] = ("access_token", "group_token", "callback_secret")

    # -- API ---------------------------------------------------------------

    def call(
        self, method: str, params: Mapping[str, Any], *, token: SecretStr | None = None
    ) -> Any:
        """Call a VK API method (POST form) and return ``response``."""
        form = {k: v for k, v in params.items() if v is not None}
        form["access_token"] = secret_value(token or self.config.access_token)
        form["v"] = self.config.api_version
        body = self.http.request_json("POST", method, data=form, check=_check, what=method)
        if not isinstance(body, dict) or "response" not in body:
            raise TransientError(f"{method}: unexpected VK answer")
        return body["response"]

    # -- fetch -------------------------------------------------------------

    def fetch(self, cursor: dict[str, Any] | None) -> FetchResult:
        """Walls, comments of recent posts and searches since ``cursor``."""
        state: dict[str, Any] = json.loads(json.dumps(cursor or {}))
        walls: dict[str, Any] = state.setdefault("walls", {})
        searches: dict[str, Any] = state.setdefault("searches", {})
        messages: list[IncomingMessage] = []
        errors: list[str] = []
        for owner in self.config.owner_ids:
            wall_state = walls.setdefault(str(owner), {"last_post_id": 0, "posts": {}})
            try:
                messages.extend(self._fetch_wall(owner, wall_state, errors))
            except AuthError:
                raise
            except ConnectorError as exc:
                errors.append(f"VK wall {owner}: {exc.message}")
                continue
            for post_id, last_comment in list(wall_state["posts"].items()):
                try:
                    new, last = self._fetch_comments(owner, int(post_id), int(last_comment),
                                                     errors)
                except AuthError:
                    raise
                except ConnectorError as exc:
                    errors.append(f"VK comments wall{owner}_{post_id}: {exc.message}")
                    continue
                messages.extend(new)
                wall_state["posts"][post_id] = last
        for search in self.config.searches:
            search_state = searches.setdefault(search.key(), {"start_time": None})
            try:
                messages.extend(self._fetch_search(search, search_state, errors))
            except AuthError:
                raise
            except ConnectorError as exc:
                errors.append(f"VK search {search.q!r}: {exc.message}")
        return FetchResult(messages=messages, cursor=state, errors=errors)

    def _fetch_wall(self, owner: int, wall_state: dict[str, Any], errors: list[str]
                    ) -> list[IncomingMessage]:
        last_id = int(wall_state.get("last_post_id") or 0)
        newest_id = last_id
        found: list[IncomingMessage] = []
        offset = 0
        for _ in range(self.config.max_pages):
            page = self.call(
                "wall.get",
                {
                    "owner_id": owner,
                    "count": self.config.posts_per_wall,
                    "offset": offset,
                    "extended": 1,
                },
            )
            items = page.get("items", [])
            names = _names(page)
            reached_old = False
            for post in items:
                if int(post["id"]) <= last_id:
                    # A pinned post is first whatever its age; keep reading past it.
                    if not post.get("is_pinned"):
                        reached_old = True
                    continue
                newest_id = max(newest_id, int(post["id"]))
                message = readable(errors, f"VK wall{owner}_{post['id']}",
                                   self._post_message, post, names)
                if message is not None:
                    found.append(message)
            offset += len(items)
            if reached_old or not items or offset >= int(page.get("count", 0)):
                break
        wall_state["last_post_id"] = newest_id  # past a skipped post too: it is not met again
        if found:
            newest = max(found, key=lambda m: int(m.post_id or 0))
            wall_state["last_date"] = int(newest.created_at.timestamp())
        posts: dict[str, int] = wall_state.setdefault("posts", {})
        for msg in found:
            posts.setdefault(str(msg.post_id), 0)
        keep = sorted(posts, key=int, reverse=True)[: self.config.comment_posts]
        wall_state["posts"] = {p: posts[p] for p in sorted(keep, key=int)}
        return found

    def _fetch_comments(
        self, owner: int, post_id: int, last_comment: int, errors: list[str]
    ) -> tuple[list[IncomingMessage], int]:
        found: list[IncomingMessage] = []
        offset = 0
        newest = last_comment
        for _ in range(self.config.max_pages):
            page = self.call(
                "wall.getComments",
                {
                    "owner_id": owner,
                    "post_id": post_id,
                    "count": 100,
                    "offset": offset,
                    "sort": "asc",
                    "need_likes": 1,
                    "extended": 1,
                    "thread_items_count": self.config.thread_items,
                },
            )
            items = page.get("items", [])
            names = _names(page)
            for comment in items:
                for item in [comment, *((comment.get("thread") or {}).get("items") or [])]:
                    cid = int(item["id"])
                    if cid > last_comment:
                        item.setdefault("owner_id", owner)
                        item.setdefault("post_id", post_id)
                        message = readable(errors, f"VK comment wall{owner}_{post_id}/{cid}",
                                           self._comment_message, item, names)
                        if message is not None:
                            found.append(message)
                        newest = max(newest, cid)
            offset += len(items)
            if not items or offset >= int(page.get("count", 0)):
                break
        return found, newest

    def _fetch_search(self, search: VKSearch, state: dict[str, Any], errors: list[str]
                      ) -> list[IncomingMessage]:
        found: list[IncomingMessage] = []
        start_time = state.get("start_time")
        next_from: str | None = None
        newest = int(start_time or 0)
        for _ in range(self.config.max_pages):
            page = self.call(
                "newsfeed.search",
                {
                    "q": search.q or None,
                    "latitude": search.latitude,
                    "longitude": search.longitude,
                    "count": 200,
                    "extended": 1,
                    "start_time": start_time,
                    "start_from": next_from,
                },
            )
            names = _names(page)
            for post in page.get("items", []):
                what = f"VK search post {post.get('owner_id')}_{post.get('id')}"
                message = readable(errors, what, self._post_message, post, names)
                if message is not None:  # a skipped post's date may be no date at all
                    found.append(message)
                    newest = max(newest, int(message.created_at.timestamp()))
            next_from = page.get("next_from") or None
            if not next_from:
                break
        if found:
            # start_time is inclusive: one second on avoids the last post again.
            state["start_time"] = newest + 1
        return found

    # -- mapping -----------------------------------------------------------

    def _post_message(self, post: dict[str, Any], names: dict[int, str]) -> IncomingMessage:
        owner = int(post.get("owner_id", post.get("source_id", 0)))
        pid = int(post["id"])
        from_id = int(post.get("from_id", post.get("signer_id", owner)) or owner)
        raw = dict(post)
        text = limit_text(clean_text(unescape(post.get("text") or "")), raw)
        lat, lon = _coordinates(post.get("geo"))
        return IncomingMessage(
            source=Source.vk,
            source_id=f"wall{owner}_{pid}",
            owner_id=str(owner),
            post_id=str(pid),
            author_id=str(from_id),
            author_name=names.get(from_id),
            text=text,
            created_at=from_unix(post["date"]),
            edited_at=from_unix(post["edited"]) if post.get("edited") else None,
            url=f"https://vk.com/wall{owner}_{pid}",
            attachments=_attachments(post.get("attachments")),
            lat=lat,
            lon=lon,
            reach=Reach(
                views=_count(post, "views"),
                likes=_count(post, "likes"),
                reposts=_count(post, "reposts"),
                comments=_count(post, "comments"),
            ),
            region=self.config.region,
            channel=self.config.channel,
            raw=raw,
        )

    def _comment_message(
        self,
        comment: dict[str, Any],
        names: dict[int, str],
        *,
        deleted: bool = False,
        edited: bool = False,
    ) -> IncomingMessage:
        owner = int(comment.get("owner_id", comment.get("post_owner_id", 0)))
        post = int(comment["post_id"])
        cid = int(comment["id"])
        parents = comment.get("parents_stack") or comment.get("parent_stack") or []
        # A reply in a thread hangs under the comment it answers, otherwise under the post.
        parent = f"wall{owner}_{post}" + (f"_{parents[-1]}" if parents else "")
        url = f"https://vk.com/wall{owner}_{post}?reply={cid}"
        if parents:
            url += f"&thread={parents[0]}"
        raw = dict(comment)
        text = limit_text(clean_text(unescape(comment.get("text") or "")), raw)
        from_id = int(comment.get("from_id", 0) or 0)
        likes = (comment.get("likes") or {}).get("count")
        date = comment.get("date")
        now = datetime.now(UTC)
        return IncomingMessage(
            source=Source.vk,
            source_id=f"wall{owner}_{post}_{cid}",
            parent_source_id=parent,
            owner_id=str(owner),
            post_id=str(post),
            comment_id=str(cid),
            author_id=str(from_id) if from_id else None,
            author_name=names.get(from_id),
            text=text,
            created_at=from_unix(date) if date else now,
            edited_at=now if edited else None,
            deleted=deleted or bool(comment.get("deleted")),
            url=url,
            attachments=_attachments(comment.get("attachments")),
            reach=Reach(likes=likes) if likes is not None else None,
            region=self.config.region,
            channel=self.config.channel,
            raw=raw,
        )

    def _direct_message(self, obj: dict[str, Any]) -> IncomingMessage:
        message = obj.get("message", obj)
        peer = int(message.get("peer_id", message.get("from_id", 0)))
        local_id = message.get("conversation_message_id") or message.get("id")
        raw = dict(obj)
        text = limit_text(clean_text(unescape(message.get("text") or "")), raw)
        lat, lon = _coordinates(message.get("geo"))
        return IncomingMessage(
            source=Source.vk,
            source_id=f"im{peer}_{local_id}",
            owner_id=str(-self.config.group_id) if self.config.group_id else None,
            author_id=str(message.get("from_id", peer)),
            text=text,
            created_at=from_unix(message["date"]),
            attachments=_attachments(message.get("attachments")),
            lat=lat,
            lon=lon,
            region=self.config.region,
            channel=self.config.channel,
            raw=raw,
        )

    # -- Callback API ------------------------------------------------------

    def receive(self, body: bytes, headers: Mapping[str, str],
                query: Mapping[str, str] | None = None) -> PushResult:
        """Handle a Callback API call: confirmation, new/edited/deleted posts and comments."""
        try:
            event = json.loads(body)
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise PermanentError("VK callback: body is not JSON") from None
        if not isinstance(event, dict):
            raise PermanentError("VK callback: body is not an object")
        cfg = self.config
        if cfg.group_id is not None and _int_or_none(event.get("group_id")) != cfg.group_id:
            raise ForgedRequest(f"VK callback: unexpected group_id {event.get('group_id')!r}")
        kind = event.get("type")
        if kind == "confirmation":
            if not cfg.confirmation_code:
                raise PermanentError("VK callback: confirmation_code is not configured")
            return PushResult(response_text=cfg.confirmation_code)
        expected = secret_value(cfg.callback_secret)
        given = str(event.get("secret") or "")
        if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
            raise ForgedRequest("VK callback: wrong or missing secret")
        try:
            return PushResult(messages=self._pushed_messages(kind, event.get("object") or {}),
                              response_text="ok")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PermanentError(f"VK callback: malformed {kind!r} event ({exc})"[:300]) from None

    def _pushed_messages(self, kind: Any, obj: dict[str, Any]) -> list[IncomingMessage]:
        messages: list[IncomingMessage] = []
        if kind == "wall_post_new":
            messages.append(self._post_message(obj, {}))
        elif kind in ("wall_reply_new", "wall_reply_edit", "wall_reply_restore"):
            obj["owner_id"] = obj.get("post_owner_id", obj.get("owner_id"))
            messages.append(self._comment_message(obj, {}, edited=kind == "wall_reply_edit"))
        elif kind == "wall_reply_delete":
            stub = {
                "id": obj["id"],
                "owner_id": obj.get("owner_id"),
                "post_id": obj["post_id"],
                "from_id": obj.get("deleter_id"),
            }
            msg = self._comment_message(stub, {}, deleted=True)
            messages.append(msg.model_copy(update={"author_id": None, "raw": dict(obj)}))
        elif kind == "message_new":
            messages.append(self._direct_message(obj))
        return messages

    # -- publish -----------------------------------------------------------

    def publish(self, reply: Reply) -> str:
        """Comment from the community under a post or in reply to a comment."""
        match = _COMMENT_ID.match(reply.target_source_id)
        if not match:
            raise PermanentError(f"VK: cannot reply to {reply.target_source_id!r}")
        owner, post, comment = match.group(1), match.group(2), match.group(3)
        guid = (
            reply.idempotency_key
            or hashlib.sha1(f"{reply.target_source_id}\n{reply.text}".encode()).hexdigest()
        )
        result = self.call(
            "wall.createComment",
            {
                "owner_id": owner,
                "post_id": post,
                "from_group": self.config.group_id,
                "message": reply.text,
                "reply_to_comment": comment,
                "guid": guid,
            },
            token=self.config.group_token,
        )
        return f"wall{owner}_{post}_{result['comment_id']}"


def _names(page: Mapping[str, Any]) -> dict[int, str]:
    """Author names from ``profiles`` and ``groups`` of an ``extended=1`` answer."""
    names: dict[int, str] = {}
    for profile in page.get("profiles") or []:
        full = f"{profile.get('first_name', '')} {profile.get('last_name', '')}".strip()
        names[int(profile["id"])] = full
    for group in page.get("groups") or []:
        names[-int(group["id"])] = group.get("name", "")
    return names


def _count(post: Mapping[str, Any], key: str) -> int | None:
    value = post.get(key)
    return int(value["count"]) if isinstance(value, dict) and "count" in value else None


def _coordinates(geo: Any) -> tuple[float | None, float | None]:
    """``geo.coordinates`` is "lat lon" in posts; messages carry a dict."""
    if not isinstance(geo, dict):
        return None, None
    coords = geo.get("coordinates")
    try:
        if isinstance(coords, str):
            lat, lon = (float(x) for x in coords.split()[:2])
            return lat, lon
        if isinstance(coords, dict):
            return float(coords["latitude"]), float(coords["longitude"])
    except (ValueError, KeyError, TypeError):
        pass
    return None, None


def _attachments(items: Any) -> list[Attachment]:
    """Attachment references: the largest photo size, video/doc/link urls."""
    result: list[Attachment] = []
    for item in items or []:
        kind = item.get("type")
        body = item.get(kind) or {}
        if kind == "photo":
            sizes = body.get("sizes") or []
            best = max(sizes, key=lambda s: s.get("width", 0) * s.get("height", 0), default=None)
            if best and best.get("url"):
                result.append(Attachment(url=best["url"], type="photo", title=body.get("text")))
        elif kind == "video":
            url = f"https://vk.com/video{body.get('owner_id')}_{body.get('id')}"
            result.append(Attachment(url=url, type="video", title=body.get("title")))
        elif kind in ("link", "doc", "audio"):
            url = body.get("url") or ""
            if url:
                result.append(Attachment(url=url, type=kind, title=body.get("title")))
    return result


def _int_or_none(value: Any) -> int | None:
    """``value`` as an int, or None when it is not one (a forged call's group id)."""
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        return None
