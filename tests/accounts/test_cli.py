"""``otklik user deactivate | activate | password`` end the user's login sessions."""

from collections.abc import Iterator
from itertools import count

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from tests.builders import PASSWORD
from tests.conftest import jobs_database, own_database
from typer.testing import CliRunner

from otklik.accounts import sessions
from otklik.accounts.security import hash_password, verify_password
from otklik.cli import app
from otklik.errors import NotFound
from otklik.models.account import Role, User

runner = CliRunner()
_ids = count(1)
MAX_AGE = 3600


own_url = own_database("usercli")


@pytest.fixture
def db(own_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    with jobs_database(own_url, monkeypatch) as engine:
        yield engine


def _logged_in(engine: Engine) -> tuple[str, str, str]:
    """A user with an open session, and a bystander with one: (login, secret, bystander's)."""
    with Session(engine) as session:
        users = [User(username=f"cli-{next(_ids)}", password_hash=hash_password(PASSWORD),
                      role=Role.operator, region_codes=["68"]) for _ in range(2)]
        session.add_all(users)
        session.flush()
        secrets = [sessions.open_session(session, u, MAX_AGE) for u in users]
        session.commit()
        return users[0].username, secrets[0], secrets[1]


def _resumes(engine: Engine, secret: str) -> bool:
    with Session(engine) as session:
        return sessions.resume(session, secret, MAX_AGE) is not None


def test_deactivate_ends_the_sessions_and_activate_lets_the_user_back(db: Engine) -> None:
    username, secret, bystander = _logged_in(db)
    result = runner.invoke(app, ["user", "deactivate", username])
    assert result.exit_code == 0, result.output
    assert not _resumes(db, secret) and _resumes(db, bystander)
    result = runner.invoke(app, ["user", "activate", username])
    assert result.exit_code == 0, result.output
    with Session(db) as session:
        user = session.query(User).filter_by(username=username).one()
        assert user.is_active
    assert not _resumes(db, secret)


def test_password_reset_ends_the_sessions(db: Engine) -> None:
    username, secret, bystander = _logged_in(db)
    result = runner.invoke(app, ["user", "password", username, "--password", "reset-by-admin"])
    assert result.exit_code == 0, result.output
    assert not _resumes(db, secret) and _resumes(db, bystander)
    with Session(db) as session:
        user = session.query(User).filter_by(username=username).one()
        assert verify_password(user.password_hash, "reset-by-admin")


def test_an_unknown_user_is_named(db: Engine) -> None:
    result = runner.invoke(app, ["user", "deactivate", "nobody-at-all"])
    assert result.exit_code != 0
    assert isinstance(result.exception, NotFound) and "nobody-at-all" in str(result.exception)
