"""Odnoklassniki (OK.ru) REST API connector: group topics and their comments.

Calls go to ``fb.do`` with ``application_key``, ``format=json`` and a signature:
``sig = md5(sorted "k=v" params without access_token + md5(access_token +
application_secret_key))``, lower-case hex.

* Posts: ``mediatopic.getTopics`` (``gid``, ``count``, ``anchor``,
  ``direction``), newest first; answer ``{"media_topics": [...], "entities":
  {...}, "anchor", "has_more"}``.
* Comments: ``discussions.getComments`` (``entityId`` = topic id,
  ``entityType=GROUP_TOPIC``, ``anchor``, ``direction=FORWARD``); answer
  ``{"comments": [...], "anchor", "has_more"}``. The anchor after the last page
  is the cursor: the next run continues from it.

Group messages (the Bot API for groups, on the Graph API at
``https://api.ok.ru/graph``, with the group's own access token from its settings):

* Receive: the webhook registered with ``POST /graph/me/subscribe`` delivers each
  new message as ``{"sender": {"user_id"}, "recipient": {"chat_id"}, "message":
  {"text", "mid", "attachments"}, "timestamp"}``. OK cannot send a secret header,
  so the URL it is subscribed with carries ours: ``/api/v1/push/<id>?secret=...``.
* Reply: a message in the same chat, ``POST /graph/me/messages/<chat_id>`` with
  ``{"recipient": {"chat_id"}, "message": {"text"}}``.

Replies to posts and comments: the public REST API has no method for a group to
comment (``discussions.*`` only reads), so the answer goes to the author as a
direct message from the group (``{"recipient": {"user_ids": ["user:<id>"]}}``,
answered ``{"success": [bool], "chat_ids": [...]}``), opened by a line that says
which comment it answers. A resident who does not accept group messages gets
``success: false``: publishing fails with that reason and the operator sees it.

Cursor (JSON)::

    {"groups": {"5412…": {"last_created_ms": 1732878300000,
                           "topics": {"<topic id>": "<comments anchor>"}}}}
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar

import httpx
from pydantic import Field, SecretStr

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
from otklik.channels.connectors.normalize import clean_text, from_unix, limit_text, moscow_tz
from otklik.channels.schemas import Attachment, IncomingMessage, Reach, Source

OK_API_URL = "https://api.ok.ru/fb.do"
OK_GRAPH_URL = "https://api.ok.ru/graph"

# Error codes from the OK API errors page.
_AUTH_CODES = {10, 101, 102, 103, 104, 105}
_RATE_CODES = {8, 11}  # FLOOD_BLOCKED, LIMIT_REACHED
_TRANSIENT_CODES = {1, 2, 9999}


class OKConfig(ConnectorConfig):
    """Settings of the OK connector."""

    application_key: str = Field(description="public key of the OK application")
    application_secret_key: SecretStr = Field(description="secret key of the OK application")
    access_token: SecretStr = Field(description="access token (group or user)")
    group_ids: list[str] = Field(default_factory=list, description="gid of each group")
    topics_per_request: int = Field(default=20, ge=1, le=100)
    comment_topics: int = Field(default=20, ge=0, le=200, description="recent topics polled")
    max_pages: int = Field(default=5, ge=1)
    base_url: str = OK_API_URL
    requests_per_second: float = Field(default=3.0, gt=0)
    bot_token: SecretStr | None = Field(
        default=None, description="the group's Bot API access token (group settings)")
    graph_url: str = OK_GRAPH_URL
    webhook_secret: SecretStr | None = Field(
        default=None, description="secret in the webhook URL: /api/v1/push/<id>?secret=...")
    comment_reply_intro: str = Field(
        default="Ответ на ваш комментарий в группе:",
        description="first line of a reply sent to a comment's author as a group message")


def sign(params: Mapping[str, Any], access_token: str, secret_key: str) -> str:
    """OK request signature (documented algorithm for server applications)."""
    session_secret = hashlib.md5((access_token + secret_key).encode()).hexdigest().lower()
    pairs = "".join(
        f"{k}={params[k]}"
        for k in sorted(params)
        if k not in ("access_token", "session_key", "sig")
    )
    return hashlib.md5((pairs + session_secret).encode("utf-8")).hexdigest().lower()


def _check(response: httpx.Response, body: Any) -> None:
    """OK answers errors as ``{"error_code", "error_msg", "error_data"}`` with HTTP 200."""
    if not isinstance(body, dict) or "error_code" not in body:
        return
    code = int(body.get("error_code") or 0)
    text = f"OK error {code}: {body.get('error_msg', '')}"
    if code in _AUTH_CODES:
        raise AuthError(text)
    if code in _RATE_CODES:
        raise RateLimited(text)
    if code in _TRANSIENT_CODES:
        raise TransientError(text)
    raise PermanentError(text)


class OKConnector(HttpConnector):
    """Posts and comments of Odnoklassniki groups."""

    kind: ClassVar[str] = "ok"
    config_model: ClassVar[type[ConnectorConfig]] = OKConfig
    config: OKConfig

    supports_push: ClassVar[bool] = True
    supports_publish: ClassVar[bool] = True
    secret_fields: ClassVar[tuple[str, ...]] = (
        "access_token", "application_secret_key", "bot_token", "webhook_secret")

    def call(self, method: str, params: Mapping[str, Any]) -> Any:
        """Call a REST method with a signature; return the decoded answer."""
        cfg = self.config
        form: dict[str, Any] = {k: str(v) for k, v in params.items() if v is not None}
        form.update(application_key=cfg.application_key, method=method, format="json")
        token = secret_value(cfg.access_token)
        form["sig"] = sign(form, token, secret_value(cfg.application_secret_key))
        form["access_token"] = token
        return self.http.request_json("POST", "", data=form, check=_check, what=method)

    def fetch(self, cursor: dict[str, Any] | None) -> FetchResult:
        """New topics of each group, then new comments of its recent topics."""
        state: dict[str, Any] = json.loads(json.dumps(cursor or {}))
        groups: dict[str, Any] = state.setdefault("groups", {})
        messages: list[IncomingMessage] = []
        errors: list[str] = []
        for gid in self.config.group_ids:
            group_state = groups.setdefault(gid, {"last_created_ms": 0, "topics": {}})
            try:
                messages.extend(self._fetch_topics(gid, group_state, errors))
            except AuthError:
                raise
            except ConnectorError as exc:
                errors.append(f"OK group {gid}: {exc.message}")
                continue
            for topic_id, anchor in list(group_state["topics"].items()):
                try:
                    new, next_anchor = self._fetch_comments(gid, topic_id, anchor, errors)
                except AuthError:
                    raise
                except ConnectorError as exc:
                    errors.append(f"OK comments {gid}/{topic_id}: {exc.message}")
                    continue
                messages.extend(new)
                group_state["topics"][topic_id] = next_anchor
        return FetchResult(messages=messages, cursor=state, errors=errors)

    def _fetch_topics(self, gid: str, group_state: dict[str, Any], errors: list[str]
                      ) -> list[IncomingMessage]:
        last_ms = int(group_state.get("last_created_ms") or 0)
        newest_ms = last_ms
        found: list[IncomingMessage] = []
        anchor: str | None = None
        for _ in range(self.config.max_pages):
            page = self.call(
                "mediatopic.getTopics",
                {
                    "gid": gid,
                    "count": self.config.topics_per_request,
                    "anchor": anchor,
                    # The listing is newest first; FORWARD continues it from the anchor.
                    "direction": "FORWARD" if anchor else None,
                },
            )
            names = _names(page.get("entities") or {})
            reached_old = False
            for topic in page.get("media_topics") or []:
                created_ms = int(topic.get("created_ms") or 0)
                if created_ms <= last_ms:
                    reached_old = True
                    continue
                message = readable(errors, f"OK topic {gid}/{topic.get('id')}",
                                   self._topic_message, gid, topic, names)
                if message is not None:
                    found.append(message)
                    newest_ms = max(newest_ms, created_ms)
            anchor = page.get("anchor")
            if reached_old or not page.get("has_more") or not anchor:
                break
        group_state["last_created_ms"] = newest_ms
        topics: dict[str, str | None] = group_state.setdefault("topics", {})
        for msg in found:
            topics.setdefault(str(msg.post_id), None)
        recent = sorted(found, key=lambda m: m.created_at, reverse=True)
        keep = [str(m.post_id) for m in recent] + [
            t for t in topics if t not in {str(m.post_id) for m in recent}
        ]
        group_state["topics"] = {t: topics[t] for t in keep[: self.config.comment_topics]}
        return found

    def _fetch_comments(
        self, gid: str, topic_id: str, anchor: str | None, errors: list[str]
    ) -> tuple[list[IncomingMessage], str | None]:
        found: list[IncomingMessage] = []
        for _ in range(self.config.max_pages):
            page = self.call(
                "discussions.getComments",
                {
                    "entityId": topic_id,
                    "entityType": "GROUP_TOPIC",
                    "anchor": anchor,
                    "direction": "FORWARD",
                    "count": 100,
                },
            )
            for comment in page.get("comments") or []:
                message = readable(errors, f"OK comment {gid}/{topic_id}/{comment.get('id')}",
                                   self._comment_message, gid, topic_id, comment)
                if message is not None:
                    found.append(message)
            anchor = page.get("anchor") or anchor
            if not page.get("has_more"):
                break
        return found, anchor

    # -- group messages (Bot API) ------------------------------------------------

    def receive(self, body: bytes, headers: Mapping[str, str],
                query: Mapping[str, str] | None = None) -> PushResult:
        """A Bot API webhook call: check the secret in the URL, map the new message."""
        expected = secret_value(self.config.webhook_secret)
        given = str((query or {}).get("secret") or "")
        if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
            raise ForgedRequest("OK webhook: wrong or missing secret in the URL")
        try:
            event = json.loads(body)
            message = event.get("message") if isinstance(event, dict) else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise PermanentError("OK webhook: body is not JSON") from None
        if not isinstance(message, dict) or not message.get("mid"):
            return PushResult()  # chat state changes and system events carry no message
        try:
            return PushResult(messages=[self._chat_message(event, message)])
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise PermanentError(f"OK webhook: malformed message ({exc})"[:300]) from None

    def publish(self, reply: Reply) -> str:
        """A message in the resident's chat with the group (see the module docstring)."""
        token = secret_value(self.config.bot_token)
        if not token:
            raise PermanentError("OK: bot_token (the group's Bot API key) is not configured")
        chat_id, _, _mid = reply.target_source_id.partition("/")
        if chat_id.startswith("chat:"):
            answer = self.graph(f"me/messages/{chat_id}", {
                "recipient": {"chat_id": chat_id}, "message": {"text": reply.text}})
            return f"{chat_id}/{answer.get('message_id') or answer.get('mid') or ''}"
        user = _user_ref(reply.recipient)
        if user is None:
            raise PermanentError(f"OK: {reply.target_source_id!r} has no author to write to")
        text = f"{self.config.comment_reply_intro}\n\n{reply.text}"
        answer = self.graph("me/messages", {
            "recipient": {"user_ids": [user]}, "message": {"text": text}})
        if not (answer.get("success") or [False])[0]:
            raise PermanentError(f"OK: {user} does not accept messages from the group")
        return f"{(answer.get('chat_ids') or [''])[0]}/{reply.target_source_id}"

    def graph(self, path: str, payload: Mapping[str, Any]) -> Any:
        """POST a Graph API call with the group's token; errors as the REST API's."""
        url = f"{self.config.graph_url.rstrip('/')}/{path}"
        return self.http.request_json(
            "POST", f"{url}?access_token={secret_value(self.config.bot_token)}",
            json_body=dict(payload), check=_check, what=f"graph {path.split('/')[1]}")

    def _chat_message(self, event: Mapping[str, Any], message: Mapping[str, Any]
                      ) -> IncomingMessage:
        sender = event.get("sender") or {}
        chat_id = str((event.get("recipient") or {}).get("chat_id") or "")
        attachments = [
            Attachment(url=str(item["payload"]["url"]), type=str(item.get("type", "")).lower())
            for item in message.get("attachments") or []
            if isinstance(item.get("payload"), dict) and item["payload"].get("url")
        ]
        raw = dict(event)
        return IncomingMessage(
            source=Source.ok,
            source_id=f"{chat_id}/{message['mid']}",
            author_id=str(sender.get("user_id") or "") or None,
            author_name=sender.get("name"),
            text=limit_text(clean_text(str(message.get("text") or "")), raw),
            created_at=from_unix(event["timestamp"]) if event.get("timestamp") else
            datetime.now(UTC),
            attachments=attachments,
            region=self.config.region,
            channel=self.config.channel,
            raw=raw,
        )

    def _topic_message(
        self, gid: str, topic: Mapping[str, Any], names: Mapping[str, str]
    ) -> IncomingMessage:
        raw = dict(topic)
        texts: list[str] = []
        attachments: list[Attachment] = []
        for media in topic.get("media") or []:
            kind = media.get("type")
            if kind == "text" and media.get("text"):
                texts.append(media["text"])
            elif kind == "photo":
                for ref in media.get("photo_refs") or []:
                    attachments.append(Attachment(url=f"ok-ref:{ref}", type="photo"))
            elif kind == "link" and media.get("url"):
                attachments.append(
                    Attachment(url=media["url"], type="link", title=media.get("title"))
                )
        topic_id = str(topic["id"])
        author_ref = str(topic.get("author_ref") or f"group:{gid}")
        summary = topic.get("discussion_summary") or {}
        return IncomingMessage(
            source=Source.ok,
            source_id=f"topic{gid}_{topic_id}",
            owner_id=gid,
            post_id=topic_id,
            author_id=author_ref,
            author_name=names.get(author_ref),
            text=limit_text(clean_text("\n".join(texts)), raw),
            created_at=from_unix(int(topic["created_ms"])),
            url=f"https://ok.ru/group/{gid}/topic/{topic_id}",
            attachments=attachments,
            reach=Reach(
                likes=(topic.get("like_summary") or {}).get("count"),
                reposts=(topic.get("reshare_summary") or {}).get("count"),
                comments=summary.get("comments_count"),
                views=(topic.get("views_summary") or {}).get("count"),
            ),
            region=self.config.region,
            channel=self.config.channel,
            raw=raw,
        )

    def _comment_message(
        self, gid: str, topic_id: str, comment: Mapping[str, Any]
    ) -> IncomingMessage:
        raw = dict(comment)
        cid = str(comment["id"])
        reply_to = comment.get("reply_to_comment_id")
        parent = f"topic{gid}_{topic_id}" + (f"_{reply_to}" if reply_to else "")
        likes = comment.get("like_count")
        return IncomingMessage(
            source=Source.ok,
            source_id=f"topic{gid}_{topic_id}_{cid}",
            parent_source_id=parent,
            owner_id=gid,
            post_id=topic_id,
            comment_id=cid,
            author_id=str(comment.get("author_id") or "") or None,
            author_name=comment.get("author_name"),
            text=limit_text(clean_text(comment.get("text") or ""), raw),
            created_at=_comment_date(comment),
            url=f"https://ok.ru/group/{gid}/topic/{topic_id}",
            reach=Reach(likes=int(likes)) if likes is not None else None,
            region=self.config.region,
            channel=self.config.channel,
            raw=raw,
        )


def _comment_date(comment: Mapping[str, Any]) -> datetime:
    """Comments carry ``date_ms`` or ``date`` as "yyyy-MM-dd HH:mm:ss" Moscow time."""
    if comment.get("date_ms"):
        return from_unix(int(comment["date_ms"]))
    parsed = datetime.strptime(str(comment["date"])[:19], "%Y-%m-%d %H:%M:%S")
    return parsed.replace(tzinfo=moscow_tz())


def _user_ref(author_id: str | None) -> str | None:
    """"user:<id>" for a person (comments give the bare id); None for a group or nobody."""
    if not author_id or author_id.startswith("group:"):
        return None
    return author_id if author_id.startswith("user:") else f"user:{author_id}"


def _names(entities: Mapping[str, Any]) -> dict[str, str]:
    """``author_ref`` ("group:<id>", "user:<id>") -> display name."""
    names: dict[str, str] = {}
    for group in entities.get("groups") or []:
        names[f"group:{group.get('uid') or group.get('id')}"] = group.get("name", "")
    for user in entities.get("users") or []:
        full = user.get("name") or " ".join(
            p for p in (user.get("first_name"), user.get("last_name")) if p
        )
        names[f"user:{user.get('uid') or user.get('id')}"] = full
    return names
