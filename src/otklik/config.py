"""One settings object for the whole service (environment prefix ``OTKLIK_``)."""

from __future__ import annotations

import hashlib
import hmac
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

DEFAULT_SECRET_KEY = "otklik-development-secret-change-me"


class Environment(StrEnum):
    """Where Otklik runs; unsafe defaults are refused outside development and demo."""

    development = "development"
    demo = "demo"
    test = "test"
    production = "production"


def default_database_url() -> str:
    """SQLite under ./var, the embedded default."""
    return f"sqlite:///{(Path.cwd() / 'var' / 'otklik.db').as_posix()}"


class Settings(BaseSettings):
    """Every setting Otklik reads, validated once at start-up."""

    model_config = SettingsConfigDict(env_prefix="OTKLIK_", env_file=".env", extra="ignore")

    env: Environment = Environment.development
    database_url: str = Field(default_factory=default_database_url)
    secret_key: str = DEFAULT_SECRET_KEY
    broker_url: str = "inline"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    session_max_age: int = Field(default=12 * 3600, ge=60)
    secure_cookies: bool | None = None
    demo_password: str = "demo"
    default_locale: str = "ru"
    log_level: str = "INFO"
    #: Files Otklik keeps beside the database (contest applications' attachments, …).
    data_dir: Path = Field(default_factory=lambda: Path.cwd() / "var")
    # E-mail of scheduled briefs (off while the host is empty).
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_from: str = ""
    smtp_starttls: bool = True
    # The key of the audit log's seals (otklik/audit/chain.py); derived from the secret key
    # when empty. Keep it outside the database and never change it: older seals need it.
    audit_key: SecretStr = SecretStr("")
    # Residents' photos (otklik/media/storage.py): a local folder or an S3-compatible store.
    photo_store: Literal["local", "s3"] = "local"
    media_dir: str = ""
    s3_endpoint: str = ""
    s3_bucket: str = ""
    s3_region: str = ""
    s3_access_key: str = ""
    s3_secret_key: SecretStr = SecretStr("")
    # API keys' rate limit (accounts/ratelimit.py): a token bucket per key, in Redis when
    # a URL is set (shared by every process), else in this process.
    redis_url: str = ""
    api_key_rate_per_minute: int = Field(default=60, ge=1, le=100_000)
    api_key_burst: int = Field(default=20, ge=1, le=100_000)
    # The weekly learning loop (otklik models retrain; language/retraining.py, docs/nlp-quality.md).
    models_dir: str = "var/models"
    retrain_margin: float = Field(default=0.01, ge=0.0, le=1.0)
    retrain_min_corrections: int = Field(default=200, ge=1)
    retrain_every_days: int = Field(default=7, ge=1)
    retrain_holdout: float = Field(default=0.2, gt=0.0, lt=1.0)
    retrain_min_holdout: int = Field(default=20, ge=2)
    # Personal data (otklik/pd, docs/security.md): how long residents' data is kept after a
    # case closes (or after a message without a case arrives), and the policy residents
    # consent to on the web form and in Open311 reports.
    pd_retention_days: int = Field(default=3 * 365, ge=1, le=100 * 365)
    pd_policy_url: str = "/privacy"
    pd_policy_version: str = Field(default="2026-12", max_length=32)
    # Login throttling (accounts/throttle.py): this many failures for one login or one address
    # in ``login_lock_minutes`` lock it for ``login_lock_minutes``.
    login_max_failures: int = Field(default=5, ge=1, le=1000)
    login_lock_minutes: int = Field(default=15, ge=1, le=24 * 60)
    # The scheduler's frequent reconcile (upkeep/reconcile.py, every 5 minutes) looks for
    # relevant messages without a case among those enriched in the last this many hours; a
    # full sweep over everything runs once a day, and `otklik reconcile` is full by default.
    reconcile_window_hours: int = Field(default=24, ge=1, le=24 * 366)
    # How many stored messages one enrichment job takes (intake/service.py); the jobs after
    # it (cases, problems, the detector, ...) take the same batch. Each batch pays fixed
    # reads and statements in every job, so larger batches work a backlog faster; smaller
    # ones give a lone import's first cases sooner (docs/performance.md, «Размер пачки»).
    enrich_batch: int = Field(default=500, ge=1, le=5_000)
    # The key that encrypts connectors' credentials at rest (otklik/secretbox.py); derived
    # from the secret key when empty. Changing it makes stored credentials unreadable.
    secrets_key: SecretStr = SecretStr("")

    @field_validator("database_url")
    @classmethod
    def _check_database_url(cls, value: str) -> str:
        try:
            url = make_url(value)
        except ArgumentError as exc:
            raise ValueError(f"not a database URL: {value!r}") from exc
        backend = url.get_backend_name()
        if backend not in {"sqlite", "postgresql"}:
            raise ValueError(f"unsupported database {backend!r}: use sqlite:/// or postgresql://")
        return value

    @field_validator("pd_policy_url")
    @classmethod
    def _check_policy_url(cls, value: str) -> str:
        if not value.startswith(("/", "https://", "http://")):
            raise ValueError("the personal data policy's address: a path (/privacy) or an "
                             "http(s):// URL")
        return value

    @field_validator("broker_url")
    @classmethod
    def _check_broker_url(cls, value: str, info: ValidationInfo) -> str:
        if value in {"inline", "stub"} or value.startswith(("amqp://", "amqps://", "redis://")):
            return value
        raise ValueError("use 'inline', 'stub', amqp://… (RabbitMQ) or redis://…")

    @model_validator(mode="after")
    def _refuse_unsafe_defaults(self) -> Settings:
        relaxed = {Environment.development, Environment.demo, Environment.test}
        if self.env not in relaxed:
            if self.secret_key == DEFAULT_SECRET_KEY or len(self.secret_key) < 32:
                raise ValueError(
                    "OTKLIK_SECRET_KEY: set a random secret of at least 32 characters "
                    f"outside development/demo (env is {self.env.value})"
                )
        return self

    @property
    def sqlalchemy_url(self) -> str:
        """The URL with the psycopg 3 driver chosen for PostgreSQL."""
        return normalize_database_url(self.database_url)

    @property
    def cookies_secure(self) -> bool:
        """Secure cookies everywhere but on a developer's plain-HTTP loopback."""
        if self.secure_cookies is not None:
            return self.secure_cookies
        return self.env == Environment.production

    @property
    def audit_mac_key(self) -> bytes:
        """The key that seals audit entries (``audit_key``, or one derived from
        ``secret_key``)."""
        own = self.audit_key.get_secret_value()
        if own:
            return own.encode()
        return hmac.new(self.secret_key.encode(), b"otklik-audit-log", hashlib.sha256).digest()

    @property
    def secrets_fernet_key(self) -> bytes:
        """32 bytes that key the encryption of stored credentials (``secrets_key``, or derived
        from ``secret_key``)."""
        own = self.secrets_key.get_secret_value()
        seed = own.encode() if own else self.secret_key.encode()
        return hmac.new(seed, b"otklik-secrets-at-rest", hashlib.sha256).digest()

    @property
    def smtp_enabled(self) -> bool:
        """True when an SMTP host is set: scheduled briefs are e-mailed."""
        return bool(self.smtp_host.strip())

    @property
    def is_demo(self) -> bool:
        """Demo users and demo data exist only in demo (and development/test) mode."""
        return self.env in {Environment.demo, Environment.development, Environment.test}


def normalize_database_url(value: str) -> str:
    """Pick psycopg 3 for PostgreSQL URLs that name no driver."""
    url = make_url(value)
    if url.get_backend_name() == "postgresql" and "+" not in url.drivername:
        url = url.set(drivername="postgresql+psycopg")
    return url.render_as_string(hide_password=False)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings (cached; tests clear the cache)."""
    return Settings()
