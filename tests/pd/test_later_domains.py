"""Retention reaches the residents' data of the later domains (the direct line, proposals and
their supporters, fakes, page comments, contest applications, photos) and keeps every number
those domains show: the direct line's groups, the public proposals, the fakes' analytics and
card, the pages' rating, the contests' results are identical before and after."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from otklik.accounts.scope import PERMISSIONS, Scope
from otklik.audit.actor import Actor
from otklik.contests.results import contest_results
from otklik.events import Event, ResidentFilesReleased
from otklik.fakes import analytics as fakes_analytics
from otklik.fakes import service as fakes
from otklik.models.account import Role
from otklik.models.contests import ContestAttachment
from otklik.models.media import Photo
from otklik.models.publics import PageRating, PageRatingItem
from otklik.participation import campaigns, proposals
from otklik.pd import anonymize as anonymize_module
from otklik.pd.anonymize import APPLICANT
from otklik.pd.service import run_retention
from otklik.publics import service as publics
from otklik.publics.weeks import Week

from .later import PHONE, Later, build

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DAYS = 28  # the cutoff is 3 November: October's rows are past retention, late November's not
SYSTEM = Actor.system("tests")
ANALYST = Actor("analyst", Scope(all_regions=True, permissions=PERMISSIONS[Role.analyst]),
                role=Role.analyst)
WEEKS = [Week.parse("2026-W41"), Week.parse("2026-W48")]


def _ratings(session: Session, w: Later) -> list[Any]:
    out: list[Any] = []
    for week in WEEKS:
        publics.compute_week(session, SYSTEM, week, "68")
        rating = session.scalars(select(PageRating).where(
            PageRating.page_id == w.page.id, PageRating.week == week.label)).one()  # type: ignore[union-attr]
        items = session.scalars(select(PageRatingItem).where(
            PageRatingItem.rating_id == rating.id).order_by(PageRatingItem.code)).all()
        out.append((rating.score, [(i.code, i.value, i.score) for i in items]))
    return out


def _numbers(session: Session, w: Later) -> dict[str, Any]:
    """Every number the later domains show for this world."""
    assert w.fake is not None
    results = []
    for key, contest_id in zip(("old", "new"), w.contests, strict=True):
        dumped = contest_results(session, w.extra[f"manager_{key}"], contest_id).model_dump(
            mode="json")
        for track in dumped["tracks"]:
            for row in track["rows"]:
                row.pop("applicant", None)  # a name: retention replaces it
        results.append(dumped)
    return {
        "groups": [[g.model_dump(mode="json") for g in campaigns.groups(session, SYSTEM, c.id)]
                   for c in w.campaigns],
        "proposals": [p.model_dump(mode="json")
                      for p in proposals.public_proposals(session, "68")[0]],
        "fakes": asdict(fakes_analytics.summary(session, ANALYST, region_code="68")),
        "fake": fakes.read(session, w.fake).model_dump(mode="json"),
        "ratings": _ratings(session, w),
        "contests": results,
    }


def test_retention_reaches_the_later_domains_and_keeps_their_numbers(
        session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    announced: list[Event] = []
    real = anonymize_module.announce
    monkeypatch.setattr(anonymize_module, "announce",
                        lambda s, e: (announced.append(e), real(s, e))[-1])
    w = build(session)
    before = _numbers(session, w)
    photo_keys = {name: p.key for name, p in w.photos.items()}
    files = {name: a.stored_name for name, a in w.attachments.items()}

    run = run_retention(session, SYSTEM, now=NOW, days=DAYS)
    session.expire_all()

    assert _numbers(session, w) == before
    # The old message went, with its question, proposal, suspect, fake copy and photo; on
    # their own: the hotline's question, the finished proposal, the October support, the
    # check service's text, both October comments (the resident's and the page's answer),
    # the closed contest's application.
    assert run.anonymized == 1 and run.rows == 7
    q = w.questions
    for name in ("from_message", "hotline_old"):
        assert PHONE not in q[name].text and "[телефон]" in q[name].text
        assert q[name].author_key is None
    for name in ("hotline_new", "from_new_message"):
        assert PHONE in q[name].text and q[name].author_key
    p = w.proposals
    assert PHONE not in p["from_message"].text and PHONE not in p["form_done"].text
    assert PHONE in p["form_new"].text
    assert w.votes["by_777"].voter_key.startswith("erased-")
    assert not w.votes["by_888"].voter_key.startswith("erased-")
    assert w.copies["old"].author_key is None and w.copies["new"].author_key
    s = w.suspects
    assert PHONE not in s["check_old"].text and PHONE not in s["from_message"].text
    assert PHONE in s["check_new"].text
    c = w.comments
    assert c["by_777"].author_id is None and c["reply_old"].author_id is None
    assert c["by_777"].needs_answer and c["reply_old"].from_page  # what the rating counts
    assert c["by_888"].author_id == "888" and c["by_777_new"].author_id == "777"
    old, new = w.applications["old"], w.applications["new"]
    assert (old.applicant, old.contact) == (APPLICANT, "") and PHONE not in old.summary
    assert new.contact and PHONE in new.summary and new.applicant != APPLICANT
    left = set(session.scalars(select(ContestAttachment.stored_name)))
    assert left == {files["new"]}
    assert set(session.scalars(select(Photo.key))) == {photo_keys["new"]}
    released = [e for e in announced if isinstance(e, ResidentFilesReleased)]
    assert sorted(k for e in released for k in e.photo_keys) == [photo_keys["old"]]
    assert [a for e in released for a in e.attachments] == [(w.contests[0], files["old"])]

    again = run_retention(session, SYSTEM, now=NOW, days=DAYS)
    assert (again.anonymized, again.rows) == (0, 0)
