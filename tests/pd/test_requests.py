"""A resident's requests: `otklik pd export` writes everything stored about them, `otklik pd
erase` anonymises it at once (other residents untouched); both audited. `otklik pd retention
--dry-run` counts and changes nothing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session
from tests.conftest import jobs_database, own_database
from typer.testing import CliRunner

from otklik.cli import app
from otklik.models.account import Role
from otklik.models.audit import AuditEntry
from otklik.models.case import Answer, Case, CaseMessage, CaseStatus
from otklik.models.message import Message
from otklik.models.pd import PdAnonymization, PdConsent
from otklik.pd.pseudonyms import author_key

own_url = own_database("pd")
runner = CliRunner()
WHEN = datetime(2026, 11, 10, 9, 0, tzinfo=UTC)
PHONE = "+7 912 345-67-89"


@pytest.fixture
def db(own_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Engine]:
    with jobs_database(own_url, monkeypatch, empty=(
            delete(PdAnonymization), delete(PdConsent), delete(Answer),
            delete(CaseMessage), delete(Case), delete(Message))) as engine:
        yield engine


def _message(session: Session, source_id: str, author: str, text: str) -> Message:
    message = Message(source="vk", source_id=source_id, region_code="68", text=text,
                      text_length=len(text), content_hash=source_id, created_at=WHEN,
                      received_at=WHEN, author_id=author, author_key=author_key("vk", author),
                      author_name=f"Житель {author}", enrich_status="done", attachments=[],
                      raw={"from_id": author})
    session.add(message)
    session.flush()
    return message


def _world(engine: Engine) -> tuple[int, int, int]:
    with Session(engine) as session:
        first = _message(session, "r1", "777", f"Яма у дома 5, Петров Иван Сергеевич {PHONE}")
        second = _message(session, "r2", "777", "И ещё: не горят фонари на улице Мира")
        other = _message(session, "r3", "888", f"Нет воды, звоните {PHONE}")
        case = Case(region_code="68", status=CaseStatus.answered, title="Яма у дома 5",
                    topic="roads", received_at=WHEN, routing={}, pauses=[])
        session.add(case)
        session.flush()
        session.add_all([
            CaseMessage(message_id=first.id, case_id=case.id, is_primary=True),
            Answer(case_id=case.id, kind="final", status="published",
                   text="Уважаемый Петров Иван Сергеевич, яму заделали", quality={}),
            PdConsent(message_id=first.id, channel="web_form", author_key=first.author_key,
                      policy_version="v1", policy_url="/privacy"),
        ])
        session.commit()
        return first.id, second.id, other.id


def test_export_then_erase_one_resident(db: Engine, tmp_path: Path) -> None:
    first, second, other = _world(db)
    out = tmp_path / "resident.json"
    result = runner.invoke(app, ["pd", "export", "--source", "vk", "--author-id", "777",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert [m["id"] for m in data["messages"]] == [first, second]
    assert data["messages"][0]["author_id"] == "777" and PHONE in data["messages"][0]["text"]
    assert [c["title"] for c in data["cases"]] == ["Яма у дома 5"]
    assert "Петров" in data["answers"][0]["text"]
    assert [c["policy_version"] for c in data["consents"]] == ["v1"]

    result = runner.invoke(app, ["pd", "erase", "--source", "vk", "--author-id", "777",
                                 "--yes"])
    assert result.exit_code == 0 and "2 message(s) anonymised" in result.output
    with Session(db) as session:
        mine = session.scalars(select(Message).where(Message.id.in_([first, second]))).all()
        assert all(m.author_id is None and m.author_name is None and m.author_key is None
                   for m in mine)
        assert all(PHONE not in m.text and m.raw == {"anonymized": "erasure"} for m in mine)
        answer = session.scalars(select(Answer)).one()
        assert "Петров" not in answer.text and "[ФИО]" in answer.text
        untouched = session.get(Message, other)
        assert untouched is not None and untouched.author_id == "888"
        assert PHONE in untouched.text
        actions = session.scalars(select(AuditEntry.action).where(
            AuditEntry.action.like("pd.%")).order_by(AuditEntry.id)).all()
        assert actions == ["pd.export", "pd.erase"]
        details = json.dumps([e.details for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("pd.%")))], ensure_ascii=False)
        assert "777" not in details and "Житель" not in details  # the log keeps no PD

    stats = runner.invoke(app, ["stats", "--json"])
    counts = json.loads(stats.output)
    assert (counts["pd_anonymized"], counts["pd_consents"]) == (2, 1)

    again = runner.invoke(app, ["pd", "export", "--message", str(first), "--out",
                                str(tmp_path / "after.json")])
    assert again.exit_code == 0, again.output  # found by the message: the key is gone
    after = json.loads((tmp_path / "after.json").read_text(encoding="utf-8"))
    assert after["messages"][0]["anonymized"] is True
    assert after["messages"][0]["author_name"] is None


def test_requests_name_the_resident_clearly(db: Engine, tmp_path: Path) -> None:
    result = runner.invoke(app, ["pd", "erase", "--source", "vk", "--yes"])
    assert result.exit_code == 2 and "--author-id" in result.output
    result = runner.invoke(app, ["pd", "export", "--author", "nobody", "--out",
                                 str(tmp_path / "x.json")])
    assert result.exit_code != 0 and "nothing is stored" in result.output
    assert "Traceback" not in result.output


def test_retention_dry_run_from_the_cli(db: Engine) -> None:
    _world(db)
    result = runner.invoke(app, ["pd", "retention", "--dry-run", "--days", "1"])
    # The answered (not closed) case holds its message: two of three are due.
    assert result.exit_code == 0 and "2 message(s) due" in result.output
    with Session(db) as session:
        assert session.scalar(select(PdAnonymization).limit(1)) is None
    result = runner.invoke(app, ["pd", "retention", "--days", "1"])
    assert result.exit_code == 0 and "2 message(s) anonymised" in result.output


def test_the_api_serves_administrators_within_their_regions(session: Session,
                                                            client: Any) -> None:
    from tests.builders import PASSWORD, make_user
    from tests.conftest import login

    mine = _message(session, "api-1", "555", f"Яма, звоните {PHONE}")
    other = Message(source="vk", source_id="api-2", region_code="36", text="Нет воды",
                    text_length=8, content_hash="api-2", created_at=WHEN, received_at=WHEN,
                    author_id="555", author_key=author_key("vk", "555"),
                    enrich_status="done", attachments=[], raw={})
    session.add(other)
    session.flush()
    analyst = make_user(session, Role.analyst)
    login(client, analyst.username, PASSWORD)
    assert client.get("/api/v1/pd/export", params={"message_id": mine.id}).status_code == 403
    client.cookies.clear()
    admin = make_user(session, Role.admin)
    csrf = login(client, admin.username, PASSWORD)
    data = client.get("/api/v1/pd/export", params={"author_key": mine.author_key}).json()
    assert [m["id"] for m in data["messages"]] == [mine.id]  # not Voronezh's (36)
    assert client.get("/api/v1/pd/export").status_code == 400
    erased = client.post("/api/v1/pd/erase", headers={"x-csrf-token": csrf},
                         json={"message_id": mine.id})
    assert erased.status_code == 200 and erased.json() == {"anonymized": 1, "rows": 0}
    session.refresh(mine)
    session.refresh(other)
    assert mine.author_id is None and PHONE not in mine.text and other.author_id == "555"
    assert client.post("/api/v1/pd/erase", headers={"x-csrf-token": csrf},
                       json={}).status_code == 422
