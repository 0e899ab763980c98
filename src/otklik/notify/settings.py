"""The notifier's settings (environment prefix ``OTKLIK_NOTIFY_``). E-mail goes through the
SMTP server of the main settings (``OTKLIK_SMTP_*``), the one the briefs use."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class NotifySettings(BaseSettings):
    """Channels, links and the retry policy of every outgoing delivery."""

    model_config = SettingsConfigDict(env_prefix="OTKLIK_NOTIFY_", env_file=".env",
                                      extra="ignore")

    #: The alert bot's token from @BotFather (Telegram off while empty).
    telegram_token: SecretStr = SecretStr("")
    telegram_api_url: str = "https://api.telegram.org"
    #: The secret path part of the bot's webhook (/api/v1/notify/telegram/<secret>).
    telegram_webhook_secret: SecretStr = SecretStr("")
    #: Where people open Otklik: the base of acknowledgement links and incident links.
    public_url: str = "http://127.0.0.1:8000"
    #: Seconds one attempt may take (Telegram, a webhook receiver); SMTP has its own 30 s.
    timeout: float = Field(default=5.0, gt=0, le=60)
    #: Attempts per delivery before it is given up.
    max_attempts: int = Field(default=6, ge=1, le=20)
    #: The first retry waits this many seconds, each next one twice as long, at most
    #: ``backoff_max_seconds``.
    backoff_seconds: float = Field(default=30.0, ge=0)
    backoff_max_seconds: float = Field(default=3600.0, ge=0)
    #: Minutes before an unacknowledged alert calls the next person (a roster may override).
    escalate_after_minutes: int = Field(default=15, ge=1)
    #: Record every delivery in the log as if sent, and send nothing: alerts, threads and
    #: the delivery log are all there, yet nothing leaves the machine. Unset: on in the demo
    #: environment (OTKLIK_ENV=demo, what `make demo` and `otklik demo` run in), off elsewhere.
    dry_run: bool | None = None

    @property
    def recording(self) -> bool:
        """True when deliveries are recorded, not sent (see ``dry_run``)."""
        if self.dry_run is not None:
            return self.dry_run
        from otklik.config import Environment, get_settings

        return get_settings().env == Environment.demo

    @property
    def telegram_enabled(self) -> bool:
        """True when a bot token is set."""
        return bool(self.telegram_token.get_secret_value().strip())


@lru_cache
def get_notify_settings() -> NotifySettings:
    """The process-wide notifier settings (cached; tests clear the cache)."""
    return NotifySettings()
