"""The webhooks' settings (environment prefix ``OTKLIK_WEBHOOKS_``); timeouts and the retry
policy are the delivery log's (``OTKLIK_NOTIFY_*``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebhookSettings(BaseSettings):
    """When a failing subscription is switched off."""

    model_config = SettingsConfigDict(env_prefix="OTKLIK_WEBHOOKS_", env_file=".env",
                                      extra="ignore")

    #: Consecutive failed attempts after which a subscription is switched off until an admin
    #: switches it back on.
    disable_after: int = Field(default=10, ge=1, le=1000)


@lru_cache
def get_webhook_settings() -> WebhookSettings:
    """The process-wide webhook settings (cached; tests clear the cache)."""
    return WebhookSettings()
