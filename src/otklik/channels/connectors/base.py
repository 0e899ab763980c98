"""The one small interface every channel connector implements.

A connector pulls messages since a cursor (:meth:`Connector.fetch`), may take
pushed calls from the platform (:meth:`Connector.receive`) and may publish a
reply back (:meth:`Connector.publish`). It never touches the database: the
cursor it returns is plain JSON that the caller persists and hands back on the
next run (also after a restart).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from otklik.channels.schemas import IncomingMessage


class ConnectorError(Exception):
    """Base of every error a connector raises; ``message`` never contains a secret."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AuthError(ConnectorError):
    """Credentials were refused: retrying will not help, an admin must act."""


class TransientError(ConnectorError):
    """Network trouble, a 5xx or a busy platform: worth retrying later."""


class RateLimited(TransientError):
    """The platform asked us to slow down; ``retry_after`` in seconds when it said."""

    def __init__(self, message: str, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class PermanentError(ConnectorError):
    """The request itself is wrong or the object is gone: retrying will not help."""


class ForgedRequest(ConnectorError):
    """A push call that failed the secret check; it must be refused and logged."""


class NotSupported(ConnectorError):
    """The connector does not offer this operation (e.g. push on a polled-only platform)."""


class Clock(Protocol):
    """Time source; tests inject a fake one so back-off never really waits."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin, never going back."""
        ...

    def sleep(self, seconds: float) -> None:
        """Wait ``seconds``."""
        ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin."""
        return time.monotonic()

    def sleep(self, seconds: float) -> None:
        """Really wait."""
        if seconds > 0:
            time.sleep(seconds)


class ConnectorConfig(BaseModel):
    """Common settings of every connector; subclasses add the platform's own.

    Secrets are ``SecretStr`` so they print as ``**********`` in reprs, logs and
    :meth:`Connector.public_config`.
    """

    model_config = ConfigDict(extra="forbid")

    channel: str | None = Field(default=None, description="label stored on each message")
    region: str | None = Field(default=None, description="OKTMO region code hint")
    timeout: float = Field(default=30.0, gt=0, description="seconds per HTTP request")
    max_attempts: int = Field(default=5, ge=1, le=20, description="tries per request")
    backoff_base: float = Field(default=0.5, ge=0, description="first back-off delay, s")
    backoff_max: float = Field(default=60.0, ge=0, description="longest single wait, s")


@dataclass
class FetchResult:
    """What one :meth:`Connector.fetch` run brought: messages, the new cursor, errors.

    ``errors`` are readable strings for the admin UI; a part that failed keeps its
    old cursor position so the next run retries it.
    """

    messages: list[IncomingMessage]
    cursor: dict[str, Any]
    errors: list[str] = field(default_factory=list)


def readable(errors: list[str], what: str, build: Callable[..., IncomingMessage], *args: Any
             ) -> IncomingMessage | None:
    """``build(*args)``: one platform item as a message, or None with the reason (named
    ``what``) added to ``errors``.

    An item the platform sent with an impossible date or a broken shape is skipped and named,
    never fails the run: the caller still moves its cursor past it, so the next run does not
    meet it again and the items around it are stored.
    """
    try:
        return build(*args)
    except (KeyError, TypeError, ValueError) as exc:  # pydantic's ValidationError included
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        errors.append(f"{what}: пропущено, не читается ({reason})")
        return None


@dataclass
class PushResult:
    """The outcome of one pushed call: messages to store and the body to answer with."""

    messages: list[IncomingMessage] = field(default_factory=list)
    response_text: str = "ok"


class Reply(BaseModel):
    """An answer to publish under a message.

    ``target_source_id`` is the ``source_id`` of the message answered (a VK
    comment, a Telegram message, an e-mail's Message-ID). ``recipient`` is who gets
    the answer where the platform cannot reply in place: the e-mail address, or the
    OK user a group message goes to. ``subject`` and ``references`` (the thread) are
    e-mail's.
    """

    model_config = ConfigDict(extra="forbid")

    target_source_id: str
    text: str = Field(min_length=1)
    target_parent_source_id: str | None = None
    recipient: str | None = None
    subject: str | None = None
    references: list[str] = Field(default_factory=list)
    idempotency_key: str | None = None


def secret_value(secret: SecretStr | None) -> str:
    """The plain value of an optional secret ('' when unset)."""
    return secret.get_secret_value() if secret is not None else ""


class Connector(ABC):
    """A channel: fetch since a cursor, optionally receive pushes and publish replies."""

    kind: ClassVar[str]
    config_model: ClassVar[type[ConnectorConfig]] = ConnectorConfig
    supports_push: ClassVar[bool] = False
    supports_publish: ClassVar[bool] = False

    def __init__(
        self,
        config: Mapping[str, Any] | ConnectorConfig,
        *,
        clock: Clock | None = None,
    ) -> None:
        if isinstance(config, ConnectorConfig):
            self.config = self.config_model.model_validate(config.model_dump())
        else:
            self.config = self.config_model.model_validate(dict(config))
        self.clock: Clock = clock or SystemClock()

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.config!r})"

    def public_config(self) -> dict[str, Any]:
        """Config as JSON for the admin UI/API, secrets masked."""
        return self.config.model_dump(mode="json")

    @abstractmethod
    def fetch(self, cursor: dict[str, Any] | None) -> FetchResult:
        """Fetch what appeared since ``cursor`` (None = first run).

        Raises :class:`AuthError` when credentials are refused; other failures are
        reported in :attr:`FetchResult.errors` and the rest goes on.
        """

    def receive(self, body: bytes, headers: Mapping[str, str],
                query: Mapping[str, str] | None = None) -> PushResult:
        """Handle one pushed call; raise :class:`ForgedRequest` on a bad secret.

        ``query`` is the call's URL query: platforms that cannot send a secret header
        (OK's Bot API webhook) carry it in the URL they were subscribed with.
        """
        raise NotSupported(f"{self.kind}: push is not supported")

    def publish(self, reply: Reply) -> str:
        """Publish ``reply``; return the external id of the published message."""
        raise NotSupported(f"{self.kind}: publishing replies is not supported")

    def close(self) -> None:  # noqa: B027 - an optional hook, most connectors override it
        """Release network resources."""
