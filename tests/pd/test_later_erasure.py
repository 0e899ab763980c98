"""A resident's erasure (`otklik pd erase`) reaches their data in every later domain and
nobody else's: resident vk:777's question, proposal, support, fake copy and suspect, page
comments and photo (row and file), and, by the contact it gave, a contest application with
its file; resident vk:888 and the other applicant keep everything. Committed, as in
production: the files go after the commit, by the consumers of ResidentFilesReleased."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session
from tests.conftest import _load_reference, jobs_database, own_database
from typer.testing import CliRunner

from otklik.cli import app
from otklik.contests import attachments as contest_files
from otklik.media.storage import LocalPhotoStore
from otklik.models.audit import AuditEntry
from otklik.models.contests import ContestApplication, ContestAttachment
from otklik.models.fakes import FakeCopy, FakeSuspect
from otklik.models.media import Photo
from otklik.models.message import Message
from otklik.models.participation import CampaignQuestion, Proposal, ProposalVote
from otklik.models.pd import PdAnonymization, PdAnonymizedRow
from otklik.models.publics import PageComment
from otklik.pd.anonymize import APPLICANT
from otklik.queue import drain

from .later import CONTACT, NAME, OTHER_CONTACT, PHONE, build

own_url = own_database("pd_later")
runner = CliRunner()


@pytest.fixture
def db(own_url: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Engine]:
    monkeypatch.setenv("OTKLIK_MEDIA_DIR", str(tmp_path / "media"))
    monkeypatch.setenv("OTKLIK_DATA_DIR", str(tmp_path / "data"))
    from otklik.models.contests import (
        Contest,
        ContestCriterion,
        ContestExpert,
        ContestReview,
        ContestTrack,
    )
    from otklik.models.fakes import Fake
    from otklik.models.participation import Campaign
    from otklik.models.publics import PublicPage

    with jobs_database(own_url, monkeypatch, empty=(
            delete(PdAnonymizedRow), delete(PdAnonymization), delete(ContestReview),
            delete(ContestAttachment), delete(ContestApplication), delete(ContestExpert),
            delete(ContestCriterion), delete(ContestTrack), delete(Contest),
            delete(PageComment), delete(PublicPage), delete(FakeSuspect), delete(FakeCopy),
            delete(Fake), delete(ProposalVote), delete(Proposal), delete(CampaignQuestion),
            delete(Campaign), delete(Photo), delete(Message))) as engine:
        _load_reference(engine)  # the contest's users and pages need the region
        yield engine


def _files(engine: Engine, media: Path) -> tuple[dict[str, Path], dict[str, Path]]:
    """Write the world's photo and attachment files; their paths by owner."""
    store = LocalPhotoStore(media)
    photos: dict[str, Path] = {}
    attachments: dict[str, Path] = {}
    with Session(engine) as session:
        w = build(session)
        session.commit()
        for name, photo in w.photos.items():
            store.put(photo.key, b"jpg", "image/jpeg")
            photos[name] = store._path(photo.key)
        for name, attachment in w.attachments.items():
            contest_id = w.contests[0 if name == "old" else 1]
            path = contest_files.path_of(contest_id, attachment.stored_name)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(b"%PDF-")
            attachments[name] = path
    return photos, attachments


def test_erasure_removes_one_residents_data_in_every_domain(db: Engine, tmp_path: Path) -> None:
    photos, attachments = _files(db, tmp_path / "media")
    assert all(p.is_file() for p in [*photos.values(), *attachments.values()])
    out = tmp_path / "export.json"
    result = runner.invoke(app, ["pd", "export", "--source", "vk", "--author-id", "777",
                                 "--out", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert len(data["campaign_questions"]) == 1 and len(data["proposals"]) == 1
    assert len(data["supports"]) == 1 and len(data["fake_suspects"]) == 1
    assert sorted(c["comment_id"] for c in data["page_comments"]) == ["c1", "c4"]

    result = runner.invoke(app, ["pd", "erase", "--source", "vk", "--author-id", "777", "--yes"])
    assert result.exit_code == 0, result.output
    # 1 question, 1 proposal, 1 support, 1 suspect, 2 comments.
    assert "1 message(s) anonymised, 6 other row(s)" in result.output
    drain()
    assert not photos["old"].exists() and photos["new"].is_file()

    with Session(db) as session:
        mine = session.scalars(select(Message).where(Message.author_id.is_(None))).all()
        assert len(mine) == 1 and PHONE not in mine[0].text
        questions = session.scalars(select(CampaignQuestion)).all()
        erased = [q for q in questions if q.author_key is None]
        assert len(erased) == 1 and PHONE not in erased[0].text and erased[0].message_id
        assert sum(PHONE in q.text for q in questions) == 3  # the others kept
        props = session.scalars(select(Proposal).order_by(Proposal.id)).all()
        assert [PHONE in p.text for p in props] == [False, True, True]
        votes = session.scalars(select(ProposalVote).order_by(ProposalVote.id)).all()
        assert [v.voter_key.startswith("erased-") for v in votes] == [True, False]
        copies = session.scalars(select(FakeCopy).order_by(FakeCopy.id)).all()
        assert [c.author_key is None for c in copies] == [True, False]
        suspects = session.scalars(select(FakeSuspect).order_by(FakeSuspect.id)).all()
        assert [PHONE in s.text for s in suspects] == [True, True, False]
        comments = {c.comment_id: c.author_id for c in session.scalars(select(PageComment))}
        assert comments["c1"] is None and comments["c4"] is None
        assert comments["c3"] == "888" and comments["c2"] is not None  # the page's own
        assert session.scalar(select(Photo).where(Photo.message_id == mine[0].id)) is None
        assert session.scalars(select(Photo)).one().message_id != mine[0].id

    result = runner.invoke(app, ["pd", "erase", "--contact", f" {CONTACT.upper()} ", "--yes"])
    assert result.exit_code == 0, result.output
    assert "0 message(s) anonymised, 1 other row(s)" in result.output
    drain()
    assert not attachments["old"].exists() and attachments["new"].is_file()
    with Session(db) as session:
        apps = {a.contact: a for a in session.scalars(select(ContestApplication))}
        assert set(apps) == {"", OTHER_CONTACT}
        assert apps[""].applicant == APPLICANT and PHONE not in apps[""].summary
        assert PHONE in apps[OTHER_CONTACT].summary
        left = session.scalars(select(ContestAttachment)).one()
        assert left.application_id == apps[OTHER_CONTACT].id
        details = json.dumps([e.details for e in session.scalars(
            select(AuditEntry).where(AuditEntry.action.like("pd.%")))], ensure_ascii=False)
        assert CONTACT not in details and "777" not in details and NAME not in details

    result = runner.invoke(app, ["pd", "erase", "--contact", "nobody@example.org", "--yes"])
    assert result.exit_code != 0 and "nothing is stored" in result.output
