"""E-mail connector: IMAP polling, SMTP replies.

The cursor is ``{"uidvalidity": V, "last_uid": N}``: IMAP UIDs only grow
within one UIDVALIDITY, so a changed UIDVALIDITY (mailbox recreated) restarts
from the beginning, and the idempotent store drops what was already seen.
Messages are read with ``BODY.PEEK[]`` so they stay unread for people.
"""

from __future__ import annotations

import hashlib
import imaplib
import random
import re
import smtplib
import ssl
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import format_datetime, getaddresses, make_msgid, parsedate_to_datetime
from typing import Any, ClassVar, TypeVar

from pydantic import Field, SecretStr

from otklik.channels.connectors.base import (
    AuthError,
    Clock,
    Connector,
    ConnectorConfig,
    FetchResult,
    PermanentError,
    Reply,
    TransientError,
    secret_value,
)
from otklik.channels.connectors.http import log, register_secret
from otklik.channels.connectors.normalize import (
    clean_text,
    escape_surrogates,
    html_to_text,
    limit_text,
)
from otklik.channels.schemas import Attachment, IncomingMessage, Source

T = TypeVar("T")
_UID = re.compile(rb"UID (\d+)")
_FALLBACK_CHARSETS = ("utf-8", "cp1251", "koi8-r")


class EmailConfig(ConnectorConfig):
    """Settings of the mailbox: IMAP to read, SMTP to answer."""

    imap_host: str
    imap_port: int = 993
    imap_ssl: bool = True
    username: str
    password: SecretStr
    mailbox: str = "INBOX"
    batch_size: int = Field(default=50, ge=1, le=500, description="messages per UID FETCH")
    max_messages: int = Field(default=500, ge=1, description="messages per fetch run")
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_username: str | None = Field(default=None, description="defaults to username")
    smtp_password: SecretStr | None = Field(default=None, description="defaults to password")
    from_address: str | None = Field(default=None, description="defaults to username")
    from_name: str = "Центр управления регионом"


class EmailConnector(Connector):
    """A mailbox polled over IMAP; replies over SMTP in the same thread."""

    kind: ClassVar[str] = "email"
    config_model: ClassVar[type[ConnectorConfig]] = EmailConfig
    supports_publish: ClassVar[bool] = True
    config: EmailConfig

    def __init__(
        self, config: Mapping[str, Any] | ConnectorConfig, *, clock: Clock | None = None
    ) -> None:
        super().__init__(config, clock=clock)
        register_secret(secret_value(self.config.password))
        register_secret(secret_value(self.config.smtp_password))
        self.rng = random.Random()

    # -- retries -----------------------------------------------------------

    def _retrying(self, what: str, action: Callable[[], T]) -> T:
        """Run ``action``, retrying connection failures with exponential back-off."""
        cfg = self.config
        for attempt in range(1, cfg.max_attempts + 1):
            try:
                return action()
            except (AuthError, PermanentError):
                raise
            except (
                OSError,
                EOFError,
                imaplib.IMAP4.abort,
                smtplib.SMTPServerDisconnected,
                TransientError,
            ) as exc:
                if attempt == cfg.max_attempts:
                    raise TransientError(f"{what}: {type(exc).__name__}: {exc}") from None
                delay = min(
                    cfg.backoff_max,
                    cfg.backoff_base * 2 ** (attempt - 1) * (1 + self.rng.uniform(0, 0.25)),
                )
                log.warning("%s: %s; retry %d in %.2fs", what, type(exc).__name__, attempt, delay)
                self.clock.sleep(delay)
        raise AssertionError("unreachable")

    # -- IMAP --------------------------------------------------------------

    def _imap(self) -> imaplib.IMAP4:
        cfg = self.config
        imap: imaplib.IMAP4
        try:
            if cfg.imap_ssl:
                imap = imaplib.IMAP4_SSL(cfg.imap_host, cfg.imap_port, timeout=cfg.timeout)
            else:
                imap = imaplib.IMAP4(cfg.imap_host, cfg.imap_port, timeout=cfg.timeout)
        except imaplib.IMAP4.error as exc:
            # A greeting other than OK (e.g. "* BYE busy") is the server's way to say "later".
            raise TransientError(f"IMAP {cfg.imap_host}: refused connection: {exc}") from None
        try:
            imap.login(cfg.username, secret_value(cfg.password))
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error:
            _logout(imap)
            raise AuthError(f"IMAP {cfg.imap_host}: login refused for {cfg.username}") from None
        return imap

    def fetch(self, cursor: dict[str, Any] | None) -> FetchResult:
        """New messages since ``last_uid`` in the same UIDVALIDITY."""
        return self._retrying(f"IMAP {self.config.imap_host}", lambda: self._fetch_once(cursor))

    def _fetch_once(self, cursor: dict[str, Any] | None) -> FetchResult:
        cfg = self.config
        state = dict(cursor or {})
        imap = self._imap()
        try:
            status, _ = imap.select(cfg.mailbox, readonly=True)
            if status != "OK":
                raise PermanentError(f"IMAP: mailbox {cfg.mailbox!r} not found")
            _, values = imap.response("UIDVALIDITY")
            validity = int(values[0]) if values and values[0] else 0
            last_uid = int(state.get("last_uid") or 0)
            if state.get("uidvalidity") not in (None, validity):
                last_uid = 0
            status, data = imap.uid("SEARCH", "UID", f"{last_uid + 1}:*")
            if status != "OK":
                raise TransientError("IMAP: UID SEARCH failed")
            # "N:*" also matches the highest UID when it is below N, hence the filter.
            uids = sorted(u for u in (int(x) for x in b" ".join(data).split()) if u > last_uid)
            uids = uids[: cfg.max_messages]
            messages: list[IncomingMessage] = []
            errors: list[str] = []
            newest = last_uid
            for start in range(0, len(uids), cfg.batch_size):
                batch = uids[start : start + cfg.batch_size]
                status, data = imap.uid("FETCH", ",".join(map(str, batch)), "(UID BODY.PEEK[])")
                if status != "OK":
                    raise TransientError("IMAP: UID FETCH failed")
                for part in data:
                    if not isinstance(part, tuple):
                        continue
                    match = _UID.search(part[0])
                    uid = int(match.group(1)) if match else 0
                    try:
                        messages.append(self.parse(part[1], uid=uid))
                    except (ValueError, TypeError, IndexError) as exc:
                        errors.append(f"письмо UID {uid}: {exc}"[:300])
                    newest = max(newest, uid)
            return FetchResult(
                messages=messages,
                cursor={"uidvalidity": validity, "last_uid": newest},
                errors=errors,
            )
        finally:
            _logout(imap)

    def parse(self, data: bytes, *, uid: int = 0) -> IncomingMessage:
        """Map one RFC 822 message."""
        return parse_email(
            data,
            uid=uid,
            mailbox=self.config.mailbox,
            channel=self.config.channel,
            region=self.config.region,
        )

    # -- SMTP --------------------------------------------------------------

    def publish(self, reply: Reply) -> str:
        """Send the answer in the thread of the target e-mail; return its Message-ID."""
        cfg = self.config
        if not cfg.smtp_host:
            raise PermanentError("e-mail: smtp_host is not configured")
        if not reply.recipient:
            raise PermanentError("e-mail: reply has no recipient")
        sender = cfg.from_address or cfg.username
        domain = sender.rsplit("@", 1)[-1] if "@" in sender else None
        msg = EmailMessage()
        msg["From"] = str(Address(cfg.from_name, addr_spec=sender))
        msg["To"] = reply.recipient
        subject = reply.subject or "Ответ на ваше обращение"
        msg["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
        msg["Date"] = format_datetime(datetime.now(UTC))
        msg_id = make_msgid(domain=domain)
        msg["Message-ID"] = msg_id
        msg["In-Reply-To"] = reply.target_source_id
        refs = [r for r in reply.references if r != reply.target_source_id]
        msg["References"] = " ".join([*refs, reply.target_source_id])
        msg.set_content(reply.text)
        self._retrying(f"SMTP {cfg.smtp_host}", lambda: self._send(msg))
        return msg_id

    def _send(self, msg: EmailMessage) -> None:
        cfg = self.config
        smtp: smtplib.SMTP
        if cfg.smtp_ssl:
            smtp = smtplib.SMTP_SSL(cfg.smtp_host or "", cfg.smtp_port, timeout=cfg.timeout)
        else:
            smtp = smtplib.SMTP(cfg.smtp_host or "", cfg.smtp_port, timeout=cfg.timeout)
        try:
            smtp.ehlo()
            if cfg.smtp_starttls and not cfg.smtp_ssl:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
            user = cfg.smtp_username or (
                cfg.username if cfg.smtp_password or cfg.password else None
            )
            password = secret_value(cfg.smtp_password or cfg.password)
            if user and password and smtp.has_extn("auth"):
                try:
                    smtp.login(user, password)
                except smtplib.SMTPAuthenticationError:
                    raise AuthError(f"SMTP {cfg.smtp_host}: login refused for {user}") from None
            try:
                smtp.send_message(msg)
            except smtplib.SMTPRecipientsRefused:
                raise PermanentError("SMTP: recipient refused") from None
        finally:
            try:
                smtp.quit()
            except (TimeoutError, smtplib.SMTPException, OSError):
                smtp.close()


def _logout(imap: imaplib.IMAP4) -> None:
    try:
        imap.logout()
    except (imaplib.IMAP4.error, OSError):
        pass


def _decode_part(part: Message) -> str:
    """A text part as str: the declared charset, then UTF-8, cp1251, koi8-r."""
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return str(payload or "")
    declared = part.get_content_charset()
    for charset in (declared, *_FALLBACK_CHARSETS):
        if not charset:
            continue
        try:
            return payload.decode(charset)
        except (LookupError, UnicodeDecodeError):
            continue
    return payload.decode("utf-8", "replace")


def _message_date(msg: Message) -> datetime:
    value = msg.get("Date")
    if value:
        try:
            parsed = parsedate_to_datetime(str(value))
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except (TypeError, ValueError, IndexError):
            pass
    return datetime.now(UTC)


def parse_email(
    data: bytes,
    *,
    uid: int = 0,
    mailbox: str = "INBOX",
    channel: str | None = None,
    region: str | None = None,
) -> IncomingMessage:
    """An RFC 822 message as IncomingMessage: text/plain preferred, HTML reduced to text."""
    msg = message_from_bytes(data, policy=policy.default)
    plain: list[str] = []
    html_parts: list[str] = []
    attachments: list[Attachment] = []
    message_id = str(msg.get("Message-ID") or "").strip()
    if not message_id:
        # No Message-ID (rare, broken senders): a stable one from the content.
        message_id = f"<{hashlib.sha256(data).hexdigest()[:32]}@no-message-id.otklik>"
    for index, part in enumerate(msg.walk()):
        if part.is_multipart():
            continue
        disposition = part.get_content_disposition()
        filename = part.get_filename()
        ctype = part.get_content_type()
        if (
            disposition == "attachment"
            or (filename and disposition != "inline")
            or (not ctype.startswith("text/"))
        ):
            kind = {"image": "photo", "video": "video", "audio": "audio"}.get(
                part.get_content_maintype(), "doc"
            )
            attachments.append(
                Attachment(url=f"email:{message_id}#{index}", type=kind, title=filename or ctype)
            )
            continue
        if ctype == "text/plain":
            plain.append(_decode_part(part))
        elif ctype == "text/html":
            html_parts.append(_decode_part(part))
    body = "\n\n".join(plain) if plain else "\n\n".join(html_to_text(h) for h in html_parts)
    subject = str(msg.get("Subject") or "").strip()
    text = f"{subject}\n\n{body}" if subject else body
    sender = getaddresses([str(msg.get("From") or "")])
    name, address = sender[0] if sender else ("", "")
    in_reply_to = str(msg.get("In-Reply-To") or "").strip() or None
    headers = {k: escape_surrogates(str(v)) for k, v in msg.items()}
    raw: dict[str, Any] = {
        "uid": uid,
        "mailbox": mailbox,
        "headers": headers,
        "text_plain": plain,
        "text_html": html_parts,
        "size": len(data),
    }
    return IncomingMessage(
        source=Source.email,
        source_id=message_id[:255],
        parent_source_id=in_reply_to.split()[0][:255] if in_reply_to else None,
        author_id=address.lower() or None,
        author_name=name or None,
        text=limit_text(clean_text(text), raw),
        created_at=_message_date(msg),
        attachments=attachments,
        region=region,
        channel=channel or mailbox,
        raw=raw,
    )
