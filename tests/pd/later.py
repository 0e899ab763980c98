"""A small world of the later domains for the personal-data tests: two residents (vk 777 and
vk 888), each with a message and a photo, and what the later domains made of them: a direct
line's questions (from a message and from the hotline's list), proposals and supports, a
fake's copies and suspects, comments on an official page, contest applications with a file.
Resident 777 and the "old" rows are from October 2026; 888 and the "new" rows from late
November."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy.orm import Session
from tests.contests.builders import a_panel, an_application
from tests.publics.builders import a_page

from otklik.models.contests import ContestApplication, ContestAttachment
from otklik.models.fakes import Fake, FakeCopy, FakeSuspect
from otklik.models.media import Photo
from otklik.models.message import Message
from otklik.models.participation import Campaign, CampaignQuestion, Proposal, ProposalVote
from otklik.models.publics import PageComment, PublicPage
from otklik.pd.pseudonyms import author_key

OLD = datetime(2026, 10, 5, 9, 0, tzinfo=UTC)
NEW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
PHONE = "+7 900 765-43-21"
NAME = "Петров Иван Сергеевич"
CONTACT = "ivan.petrov@example.org"
OTHER_CONTACT = "maria@example.org"


def pii(text: str) -> str:
    """A text carrying a name and a phone."""
    return f"{text}. {NAME}, звоните {PHONE}"


@dataclass
class Later:
    """The rows, by what they are."""

    messages: dict[str, Message] = field(default_factory=dict)
    photos: dict[str, Photo] = field(default_factory=dict)
    campaigns: list[Campaign] = field(default_factory=list)
    questions: dict[str, CampaignQuestion] = field(default_factory=dict)
    proposals: dict[str, Proposal] = field(default_factory=dict)
    votes: dict[str, ProposalVote] = field(default_factory=dict)
    fake: Fake | None = None
    copies: dict[str, FakeCopy] = field(default_factory=dict)
    suspects: dict[str, FakeSuspect] = field(default_factory=dict)
    page: PublicPage | None = None
    comments: dict[str, PageComment] = field(default_factory=dict)
    contests: list[int] = field(default_factory=list)
    applications: dict[str, ContestApplication] = field(default_factory=dict)
    attachments: dict[str, ContestAttachment] = field(default_factory=dict)
    extra: dict[str, Any] = field(default_factory=dict)


def _message(session: Session, who: str, at: datetime, text: str) -> Message:
    message = Message(source="vk", source_id=f"later-{who}-{secrets.token_hex(4)}",
                      region_code="68", text=text, text_length=len(text),
                      content_hash=secrets.token_hex(8), created_at=at, received_at=at,
                      author_id=who, author_key=author_key("vk", who),
                      author_name=f"Житель {who}", enrich_status="done", attachments=[],
                      raw={"from_id": who})
    session.add(message)
    session.flush()
    return message


def build(session: Session) -> Later:
    """Build the world (flushed, not committed)."""
    w = Later()
    w.messages["old"] = _message(session, "777", OLD, pii("Яма на улице Мира"))
    w.messages["new"] = _message(session, "888", NEW, pii("Нет воды на улице Ленина"))
    for name, message in w.messages.items():
        w.photos[name] = Photo(message_id=message.id, key=f"{secrets.token_urlsafe(24)}.jpg",
                               content_type="image/jpeg", size=3, width=1, height=1,
                               sha256="0" * 64, origin="web_form", gps_lat=52.91234,
                               gps_lon=40.51234)
        session.add(w.photos[name])

    for opens, closes in ((datetime(2026, 10, 1, tzinfo=UTC), datetime(2026, 10, 10, tzinfo=UTC)),
                          (datetime(2026, 11, 20, tzinfo=UTC), datetime(2026, 11, 30, tzinfo=UTC))):
        campaign = Campaign(region_code="68", title="Прямая линия", opens_at=opens,
                            closes_at=closes, air_at=closes, announcement_urls=[], keywords=[])
        session.add(campaign)
        w.campaigns.append(campaign)
    session.flush()
    first, second = w.campaigns
    old, new = w.messages["old"], w.messages["new"]
    w.questions = {
        "from_message": CampaignQuestion(
            campaign_id=first.id, message_id=old.id, channel="comment", source="vk",
            text=old.text, author_key=old.author_key, received_at=OLD, topic="roads",
            supporters=2, signature="a" * 8),
        "hotline_old": CampaignQuestion(
            campaign_id=first.id, external_id="h1", channel="hotline", source="hotline",
            text=pii("Когда отремонтируют дорогу"), author_key=author_key("hotline", "555"),
            received_at=datetime(2026, 10, 3, tzinfo=UTC), topic="roads", supporters=1,
            signature="b" * 8),
        "hotline_new": CampaignQuestion(
            campaign_id=second.id, external_id="h2", channel="hotline", source="hotline",
            text=pii("Когда дадут воду"), author_key=author_key("hotline", "556"),
            received_at=datetime(2026, 11, 21, tzinfo=UTC), topic="water", supporters=0,
            signature="c" * 8),
        "from_new_message": CampaignQuestion(
            campaign_id=second.id, message_id=new.id, channel="comment", source="vk",
            text=new.text, author_key=new.author_key, received_at=NEW, topic="water",
            supporters=0, signature="d" * 8),
    }
    session.add_all(w.questions.values())
    w.proposals = {
        "from_message": Proposal(region_code="68", message_id=old.id, source="vk",
                                 title="Светофор", text=pii("Поставьте светофор"),
                                 public_text="Поставьте светофор", status="in_work",
                                 supporters=1, created_at=OLD, updated_at=OLD),
        "form_done": Proposal(region_code="68", source="form", title="Скамейки",
                              text=pii("Поставьте скамейки"), public_text="Поставьте скамейки",
                              status="done", supporters=1, created_at=OLD,
                              updated_at=datetime(2026, 10, 1, tzinfo=UTC)),
        "form_new": Proposal(region_code="68", source="form", title="Урны",
                             text=pii("Поставьте урны"), public_text="Поставьте урны",
                             status="received", supporters=1, created_at=NEW, updated_at=NEW),
    }
    session.add_all(w.proposals.values())
    session.flush()
    w.votes = {
        # 777 supported the proposal made on the form in October; 888 the new one.
        "by_777": ProposalVote(proposal_id=w.proposals["form_done"].id, source="vk",
                               voter_key=author_key("vk", "777"),
                               created_at=datetime(2026, 10, 2, tzinfo=UTC)),
        "by_888": ProposalVote(proposal_id=w.proposals["form_new"].id, source="vk",
                               voter_key=author_key("vk", "888"), created_at=NEW),
    }
    session.add_all(w.votes.values())

    w.fake = Fake(region_code="68", claim="В городе отравлена вода", key_phrases=["вода"],
                  status="confirmed", first_seen_at=OLD)
    session.add(w.fake)
    session.flush()
    w.copies = {name: FakeCopy(fake_id=w.fake.id, message_id=m.id, score=0.9, source="vk",
                               channel="vk:wall", author_key=m.author_key, views=100, reposts=2,
                               subscribers=10, reach=100 if name == "old" else 50,
                               posted_at=m.created_at)
                for name, m in w.messages.items()}
    w.suspects = {
        "check_old": FakeSuspect(region_code="68", text=pii("Правда, что воду отравили?"),
                                 text_hash="1" * 64, source="check", asked=3,
                                 created_at=datetime(2026, 10, 1, tzinfo=UTC)),
        "check_new": FakeSuspect(region_code="68", text=pii("Правда, что мост закроют?"),
                                 text_hash="2" * 64, source="check", asked=1, created_at=NEW),
        "from_message": FakeSuspect(region_code="68", message_id=old.id, text=old.text,
                                    text_hash="3" * 64, source="vk", authors=4,
                                    created_at=OLD),
    }
    session.add_all([*w.copies.values(), *w.suspects.values()])

    w.page = a_page(session, name="Школа №5")
    w.comments = {
        "by_777": PageComment(page_id=w.page.id, post_id="1", comment_id="c1", author_id="777",
                              needs_answer=True, created_at=datetime(2026, 10, 6, tzinfo=UTC)),
        "reply_old": PageComment(page_id=w.page.id, post_id="1", comment_id="c2",
                                 reply_to="c1", author_id=w.page.external_id, from_page=True,
                                 created_at=datetime(2026, 10, 6, 3, tzinfo=UTC)),
        "by_888": PageComment(page_id=w.page.id, post_id="1", comment_id="c3", author_id="888",
                              needs_answer=True, created_at=NEW),
        "by_777_new": PageComment(page_id=w.page.id, post_id="2", comment_id="c4",
                                  author_id="777", needs_answer=False, created_at=NEW),
    }
    session.add_all(w.comments.values())
    session.flush()

    for closes_on, key in ((date(2026, 10, 1), "old"), (date(2026, 11, 28), "new")):
        panel = a_panel(session, experts=1)
        application = an_application(session, panel)
        application.contact = CONTACT if key == "old" else OTHER_CONTACT
        application.summary = pii("Канал о городе")
        panel.score(session, 0, application.id, 8, 4)
        panel.contest.status = "closed"
        panel.contest.closes_on = closes_on
        w.contests.append(panel.contest.id)
        w.applications[key] = application
        w.extra[f"manager_{key}"] = panel.manager
        w.attachments[key] = ContestAttachment(
            application_id=application.id, filename=f"{NAME}.pdf",
            content_type="application/pdf", size=5, sha256="0" * 64,
            stored_name=secrets.token_hex(16))
        session.add(w.attachments[key])
    session.flush()
    return w
