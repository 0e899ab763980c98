"""Settings validation and how the CLI reports wrong settings."""

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from otklik.config import DEFAULT_SECRET_KEY, Settings

CLI = [sys.executable, "-m", "otklik.cli"]


def test_defaults_are_sqlite_under_var() -> None:
    settings = Settings(env="development")  # type: ignore[arg-type]
    assert settings.database_url.startswith("sqlite:///") and "/var/" in settings.database_url
    assert not settings.cookies_secure


def test_production_refuses_the_default_secret() -> None:
    with pytest.raises(ValidationError, match="OTKLIK_SECRET_KEY"):
        Settings(env="production", secret_key=DEFAULT_SECRET_KEY)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="at least 32"):
        Settings(env="production", secret_key="short")  # type: ignore[arg-type]
    ok = Settings(env="production", secret_key="x" * 40)  # type: ignore[arg-type]
    assert ok.cookies_secure


@pytest.mark.parametrize("url", ["not a url", "mysql://root@localhost/x"])
def test_bad_database_urls_are_refused(url: str) -> None:
    with pytest.raises(ValidationError):
        Settings(database_url=url)


def test_postgres_urls_get_psycopg3() -> None:
    settings = Settings(database_url="postgresql://u@h/db")
    assert settings.sqlalchemy_url.startswith("postgresql+psycopg://")


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    full = {k: v for k, v in os.environ.items() if not k.startswith("OTKLIK_")}
    full.update(env)
    return subprocess.run(CLI + list(args), capture_output=True, text=True, env=full,
                          timeout=120)


def test_cli_names_the_missing_secret_in_one_line() -> None:
    result = _run({"OTKLIK_ENV": "production"}, "stats", "--json")
    assert result.returncode != 0
    assert "OTKLIK_SECRET_KEY" in result.stderr and "Traceback" not in result.stderr


def test_cli_names_an_unreachable_database(tmp_path) -> None:  # type: ignore[no-untyped-def]
    result = _run({"OTKLIK_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"},
                  "db", "upgrade")
    assert result.returncode != 0
    assert "OTKLIK_DATABASE_URL" in result.stderr and "Traceback" not in result.stderr
    result = _run({"OTKLIK_DATABASE_URL": "oracle://x"}, "db", "upgrade")
    assert result.returncode != 0 and "OTKLIK_DATABASE_URL" in result.stderr
