"""Telegram Bot API connector: long polling (getUpdates), webhook, replies (sendMessage).

The bot sees groups and channels it is a member/admin of and direct chats.
Source ids are ``{chat_id}:{message_id}``; an edit arrives with the same id and
``edited_at`` set. Cursor: ``{"offset": last update_id + 1}``.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Mapping
from typing import Any, ClassVar

import httpx
from pydantic import Field, SecretStr

from otklik.channels.connectors.base import (
    AuthError,
    ConnectorConfig,
    FetchResult,
    ForgedRequest,
    PermanentError,
    PushResult,
    RateLimited,
    Reply,
    TransientError,
    secret_value,
)
from otklik.channels.connectors.http import HttpConnector
from otklik.channels.connectors.normalize import clean_text, from_unix, limit_text
from otklik.channels.schemas import Attachment, IncomingMessage, Source

TELEGRAM_API_URL = "https://api.telegram.org"
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
_MESSAGE_KEYS = ("message", "edited_message", "channel_post", "edited_channel_post")


class TelegramConfig(ConnectorConfig):
    """Settings of the Telegram bot connector."""

    bot_token: SecretStr = Field(description="token from @BotFather")
    base_url: str = TELEGRAM_API_URL
    webhook_secret: SecretStr | None = Field(
        default=None, description="secret_token given to setWebhook; required for push"
    )
    poll_timeout: int = Field(default=25, ge=0, le=50, description="long polling seconds")
    limit: int = Field(default=100, ge=1, le=100)
    max_pages: int = Field(default=10, ge=1, description="getUpdates calls per fetch")
    allowed_updates: list[str] = Field(default_factory=lambda: list(_MESSAGE_KEYS))
    requests_per_second: float = Field(default=25.0, gt=0, description="Bot API: ~30/s")


def _check(response: httpx.Response, body: Any) -> None:
    """Bot API answers ``{"ok": false, "error_code", "description", "parameters"}``."""
    if not isinstance(body, dict) or body.get("ok", True):
        return
    code = int(body.get("error_code") or response.status_code)
    text = f"Telegram error {code}: {body.get('description', '')}"
    if code == 429:
        retry = (body.get("parameters") or {}).get("retry_after")
        raise RateLimited(text, float(retry) if retry is not None else None)
    if code == 401:
        raise AuthError(text)
    if code >= 500:
        raise TransientError(text)
    # 400 bad request, 403 blocked by the user, 409 another poller or a webhook is set.
    raise PermanentError(text)


class TelegramConnector(HttpConnector):
    """A Telegram bot: chats it is in and direct messages; replies in the thread."""

    kind: ClassVar[str] = "telegram"
    config_model: ClassVar[type[ConnectorConfig]] = TelegramConfig
    supports_push: ClassVar[bool] = True
    supports_publish: ClassVar[bool] = True
    config: TelegramConfig

    secret_fields: ClassVar[tuple[str, ...]] = ("bot_token", "webhook_secret")

    def base_url(self) -> str:
        """The Bot API base URL (the token is part of each method's path)."""
        return self.config.base_url.rstrip("/") + "/"

    def request_timeout(self) -> float:
        """Long polling holds the request open for poll_timeout seconds."""
        return self.config.timeout + self.config.poll_timeout

    def call(self, method: str, payload: Mapping[str, Any]) -> Any:
        """Call a Bot API method with a JSON body and return ``result``."""
        # Leading slash: "bot123:ABC/..." alone would parse as a URL with scheme "bot123".
        url = f"/bot{secret_value(self.config.bot_token)}/{method}"
        body = self.http.request_json(
            "POST",
            url,
            json_body={k: v for k, v in payload.items() if v is not None},
            check=_check,
            what=f"telegram {method}",
        )
        if not isinstance(body, dict) or not body.get("ok"):
            raise TransientError(f"telegram {method}: unexpected answer")
        return body.get("result")

    def fetch(self, cursor: dict[str, Any] | None) -> FetchResult:
        """getUpdates from the stored offset; the new offset confirms what was read."""
        offset = int((cursor or {}).get("offset") or 0)
        messages: list[IncomingMessage] = []
        errors: list[str] = []
        for page in range(self.config.max_pages):
            try:
                updates = self.call(
                    "getUpdates",
                    {
                        "offset": offset or None,
                        "limit": self.config.limit,
                        # Only the first call waits; later pages drain what is queued.
                        "timeout": self.config.poll_timeout if page == 0 else 0,
                        "allowed_updates": self.config.allowed_updates,
                    },
                )
            except AuthError:
                raise
            except (TransientError, PermanentError) as exc:
                errors.append(exc.message)
                break
            for update in updates or []:
                offset = max(offset, int(update["update_id"]) + 1)
                try:
                    msg = self.update_message(update)
                except (KeyError, TypeError, ValueError) as exc:
                    errors.append(f"update {update.get('update_id')}: bad shape ({exc})")
                    continue
                if msg is not None:
                    messages.append(msg)
            if len(updates or []) < self.config.limit:
                break
        return FetchResult(messages=messages, cursor={"offset": offset}, errors=errors)

    def update_message(self, update: Mapping[str, Any]) -> IncomingMessage | None:
        """The message carried by an Update, or None for other update kinds."""
        for key in _MESSAGE_KEYS:
            if key in update:
                return self.map_message(update[key], raw=dict(update))
        return None

    def map_message(self, message: Mapping[str, Any], raw: dict[str, Any]) -> IncomingMessage:
        """Map a Bot API Message object."""
        chat = message["chat"]
        chat_id = int(chat["id"])
        mid = int(message["message_id"])
        sender = message.get("from") or {}
        sender_chat = message.get("sender_chat") or {}
        if sender:
            author_id = str(sender["id"])
            author_name = " ".join(
                p for p in (sender.get("first_name"), sender.get("last_name")) if p
            ) or sender.get("username")
        else:
            author_id = str(sender_chat.get("id", chat_id))
            author_name = sender_chat.get("title") or chat.get("title")
        text = message.get("text") or message.get("caption") or ""
        reply_to = message.get("reply_to_message") or {}
        location = message.get("location") or {}
        edit = message.get("edit_date")
        return IncomingMessage(
            source=Source.telegram,
            source_id=f"{chat_id}:{mid}",
            parent_source_id=f"{chat_id}:{reply_to['message_id']}" if reply_to else None,
            owner_id=str(chat_id),
            post_id=str(mid),
            author_id=author_id,
            author_name=author_name,
            text=limit_text(clean_text(text), raw),
            created_at=from_unix(message["date"]),
            edited_at=from_unix(edit) if edit else None,
            url=message_url(chat, mid),
            attachments=_attachments(message),
            lat=location.get("latitude"),
            lon=location.get("longitude"),
            region=self.config.region,
            channel=self.config.channel or chat.get("title") or chat.get("username"),
            raw=raw,
        )

    def receive(self, body: bytes, headers: Mapping[str, str],
                query: Mapping[str, str] | None = None) -> PushResult:
        """Webhook call: check the secret header, map the Update."""
        expected = secret_value(self.config.webhook_secret)
        given = next((v for k, v in headers.items() if k.lower() == SECRET_HEADER.lower()), "")
        if not expected or not hmac.compare_digest(expected.encode(), given.encode()):
            raise ForgedRequest("Telegram webhook: wrong or missing secret token")
        try:
            update = json.loads(body)
            msg = self.update_message(update)
        except (json.JSONDecodeError, UnicodeDecodeError, KeyError, TypeError, ValueError):
            raise PermanentError("Telegram webhook: malformed update") from None
        return PushResult(messages=[msg] if msg else [], response_text="ok")

    def publish(self, reply: Reply) -> str:
        """sendMessage into the chat, as a reply to the target message."""
        try:
            chat_id, mid = reply.target_source_id.rsplit(":", 1)
            int(chat_id), int(mid)
        except ValueError:
            raise PermanentError(f"Telegram: cannot reply to {reply.target_source_id!r}") from None
        result = self.call(
            "sendMessage",
            {
                "chat_id": int(chat_id),
                "text": reply.text,
                "reply_parameters": {
                    "message_id": int(mid),
                    "allow_sending_without_reply": True,
                },
            },
        )
        return f"{chat_id}:{result['message_id']}"


def message_url(chat: Mapping[str, Any], message_id: int) -> str | None:
    """Public link: t.me/<username>/<id>, or t.me/c/<id>/<id> for private supergroups."""
    if chat.get("username"):
        return f"https://t.me/{chat['username']}/{message_id}"
    chat_id = str(chat.get("id", ""))
    if chat_id.startswith("-100"):
        return f"https://t.me/c/{chat_id[4:]}/{message_id}"
    return None


def _attachments(message: Mapping[str, Any]) -> list[Attachment]:
    """References by file_id (resolved with getFile when someone needs the file)."""
    result: list[Attachment] = []
    photos = message.get("photo") or []
    if photos:
        best = max(photos, key=lambda p: p.get("width", 0) * p.get("height", 0))
        result.append(Attachment(url=f"tg-file:{best['file_id']}", type="photo"))
    for kind in ("video", "document", "audio", "voice", "animation", "sticker", "video_note"):
        item = message.get(kind)
        if isinstance(item, dict) and item.get("file_id"):
            result.append(
                Attachment(url=f"tg-file:{item['file_id']}", type=kind, title=item.get("file_name"))
            )
    return result
