"""Proposals: taken in from messages of kind "proposal", statuses (declining needs a reason),
notices to the author through moderation and the channel they wrote in, one vote per
channel identity, the responsible body's review, and the public page without personal
data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.conftest import login
from tests.intake.stubs.http_stub import StubResponse, StubServer, load_fixture
from tests.participation.conftest import SYSTEM

from otklik.audit.actor import Actor
from otklik.cases import publishing
from otklik.cases.repository import CaseRepository
from otklik.errors import Conflict, Forbidden, InvalidInput, NotFound
from otklik.models.account import Role
from otklik.models.message import Message, MessageEnrichment
from otklik.models.participation import Proposal
from otklik.ops import stats
from otklik.participation import proposals

IDEA = ("Предлагаю использовать мою программу для общения людей с нарушениями речи для "
        "реабилитации военнослужащих. Звоните мне: +7 912 345-67-89. <script>alert(1)</script>")


@pytest.fixture
def proposal_message(make_message: Callable[..., Message], session: Session
                     ) -> Callable[..., Message]:
    def build(text: str = IDEA, **kw: object) -> Message:
        message = make_message(text, topic="social", subtopic=None, **kw)
        enrichment = session.get(MessageEnrichment, message.id)
        assert enrichment is not None
        enrichment.kind = "proposal"
        message.author_name = "Илья Савиных"
        session.flush()
        return message

    return build


def _proposal(session: Session, message: Message) -> Proposal:
    assert proposals.collect_messages(session, [message.id]) == 1
    proposal = session.query(Proposal).filter_by(message_id=message.id).one()
    return proposal


def test_a_proposal_message_gets_its_own_path_and_declining_needs_a_reason(
        session: Session, proposal_message: Callable[..., Message],
        people: dict[str, Actor]) -> None:
    message = proposal_message(author="engineer")
    proposal = _proposal(session, message)
    assert proposals.collect_messages(session, [message.id]) == 0  # idempotent
    assert proposal.status == "received" and proposal.case_id is not None
    assert "+7 912" not in proposal.public_text and "[телефон]" in proposal.public_text
    curator = people["curator"]
    with pytest.raises(Conflict):
        proposals.change_status(session, curator, proposal.id, "done")
    proposals.change_status(session, curator, proposal.id, "under_review")
    with pytest.raises(InvalidInput, match="declined"):
        proposals.change_status(session, curator, proposal.id, "declined", reason="нет")
    proposals.change_status(session, curator, proposal.id, "declined",
                            reason="Такая программа уже закуплена госпиталем в этом году")
    assert proposal.decline_reason and proposal.status == "declined"
    proposals.change_status(session, curator, proposal.id, "under_review")
    assert proposal.decline_reason is None
    for status in ("accepted", "in_work", "done"):
        proposals.change_status(session, curator, proposal.id, status)
    path = [(e.from_status, e.to_status)
            for e in proposals.events(session, curator, proposal.id) if e.kind == "status"]
    assert path == [(None, "received"), ("received", "under_review"),
                    ("under_review", "declined"), ("declined", "under_review"),
                    ("under_review", "accepted"), ("accepted", "in_work"), ("in_work", "done")]


def test_the_author_is_told_at_each_step_through_moderation_and_their_channel(
        session: Session, proposal_message: Callable[..., Message],
        people: dict[str, Actor]) -> None:
    proposal = _proposal(session, proposal_message(author="engineer2"))
    operator = people["operator"]
    proposals.change_status(session, operator, proposal.id, "under_review")
    event = proposals.record_meeting(session, operator, proposal.id,
                                     __import__("datetime").date(2026, 11, 20),
                                     "Встреча с медицинской академией")
    notices = [a for a in CaseRepository(session).answers(proposal.case_id or 0)
               if a.kind == "notice"]
    assert len(notices) == 3 and all(a.status == "on_moderation" for a in notices)
    assert "получено" in notices[0].text and "на рассмотрение" in notices[1].text
    assert "20.11.2026" in notices[2].text and event.answer_id == notices[2].id
    with pytest.raises(Forbidden):
        proposals.approve_notice(session, operator, notices[1].id)  # never one's own
    approved = proposals.approve_notice(session, people["operator2"], notices[1].id)
    assert approved.status == "approved"
    with pytest.raises(Conflict):
        proposals.approve_notice(session, people["operator2"], notices[1].id)
    summary = publishing.publish(session, approved.id)
    # the demo's message has no connector: recorded as no_channel, never silently dropped
    assert summary.no_channel == 1 and summary.published == 0
    assert approved.published_at is not None


def test_each_step_notice_goes_out_where_the_author_wrote(
        session: Session, proposal_message: Callable[..., Message],
        people: dict[str, Actor]) -> None:
    """With the region's VK connected, every approved notice of the path (received, under
    review, meeting, accepted, declined) is a reply under the author's own VK message."""
    from otklik.channels import service as connectors_service
    from otklik.models.case import Publication

    with StubServer() as stub:
        stub.script("/method/wall.createComment",
                    *[StubResponse(load_fixture("vk", "wall_createComment.json"))] * 5)
        connector = connectors_service.add_connector(
            session, SYSTEM, kind="vk", name="vk-proposals", region_code="68",
            config={"access_token": "tkn", "group_id": 170000001,
                    "base_url": stub.url + "/method/"})
        message = proposal_message(author="engineer7")
        message.connector_id = connector.id
        proposal = _proposal(session, message)
        operator, moderator = people["operator"], people["operator2"]
        proposals.change_status(session, operator, proposal.id, "under_review")
        proposals.record_meeting(session, operator, proposal.id, date(2026, 11, 20),
                                 "Встреча с медицинской академией")
        proposals.change_status(session, operator, proposal.id, "accepted")
        proposals.change_status(session, operator, proposal.id, "declined",
                                reason="Программа уже закуплена госпиталем в этом году")
        notices = [a for a in CaseRepository(session).answers(proposal.case_id or 0)
                   if a.kind == "notice"]
        assert len(notices) == 5  # received, under review, meeting, accepted, declined
        for notice in notices:
            proposals.approve_notice(session, moderator, notice.id, proposal.id)
            assert publishing.publish(session, notice.id).published == 1
        calls = stub.calls("/method/wall.createComment")
        assert len(calls) == 5
        assert "уже закуплена госпиталем" in str(calls[-1])
    rows = session.query(Publication).filter(
        Publication.answer_id.in_([n.id for n in notices])).all()
    assert {(r.message_id, r.channel, r.status) for r in rows} == {
        (message.id, "vk", "published")}
    assert len(rows) == 5


def test_one_vote_per_channel_identity(session: Session,
                                       proposal_message: Callable[..., Message],
                                       make_message: Callable[..., Message],
                                       people: dict[str, Actor]) -> None:
    message = proposal_message(author="engineer3")
    proposal = _proposal(session, message)
    bot = people["operator"]  # a channel of Tambov (intake)
    assert proposals.support(session, bot, proposal.id, "telegram", "555").counted
    again = proposals.support(session, bot, proposal.id, "telegram", "555")
    assert not again.counted and again.supporters == 1
    assert proposals.support(session, bot, proposal.id, "vk", "555").supporters == 2
    # a channel of another region does not vote on a Tambov proposal, even a public one
    with pytest.raises(NotFound):
        proposals.support(session, people["samara_operator"], proposal.id, "telegram", "556")
    # and a role without intake does not vote for residents
    with pytest.raises(Forbidden):
        proposals.support(session, people["head"], proposal.id, "telegram", "557")
    assert proposal.supporters == 2
    comment = make_message("Поддерживаю!", parent=message, author="fan", relevant=False)
    twice = make_message("Поддерживаю, очень нужно", parent=message, author="fan",
                         relevant=False)
    proposals.collect_messages(session, [comment.id, twice.id])
    assert proposal.supporters == 3
    with pytest.raises(NotFound):
        proposals.support(session, bot, 999_999, "vk", "1")


def test_the_responsible_body_reviews_only_its_own(
        session: Session, proposal_message: Callable[..., Message],
        people: dict[str, Actor]) -> None:
    from tests.cases.conftest import michurinsk

    _, org = michurinsk(session)
    proposal = _proposal(session, proposal_message(author="engineer4"))
    proposals.assign(session, people["curator"], proposal.id, org.id)
    proposals.change_status(session, people["executor"], proposal.id, "under_review")
    with pytest.raises(NotFound):
        proposals.get_proposal(session, people["other_executor"], proposal.id)
    with pytest.raises(NotFound):
        proposals.get_proposal(session, people["samara_operator"], proposal.id)
    with pytest.raises(Forbidden):
        proposals.change_status(session, people["head"], proposal.id, "accepted")
    rows, total = proposals.list_proposals(session, people["other_executor"])
    assert proposal.id not in {p.id for p in rows}


def test_public_page_has_no_personal_data_and_escapes_resident_text(
        client: object, session: Session, proposal_message: Callable[..., Message]) -> None:
    proposal = _proposal(session, proposal_message(author="engineer5"))
    proposals.change_status(session, SYSTEM, proposal.id, "under_review")
    page = client.get("/participation/proposals?region_code=68")  # type: ignore[attr-defined]
    assert page.status_code == 200
    html = page.text
    assert "Илья Савиных" not in html and "912 345" not in html and "engineer5" not in html
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html
    assert "на рассмотрении" in html
    api = client.get("/api/v1/proposals/public?region_code=68")  # type: ignore[attr-defined]
    item = next(p for p in api.json()["items"] if p["id"] == proposal.id)
    assert "912" not in item["text"] and [s["status"] for s in item["steps"]] == [
        "received", "under_review"]
    assert "author" not in str(item).lower()


def test_api_moves_a_proposal_and_counts_in_stats(
        client: object, session: Session, proposal_message: Callable[..., Message]) -> None:
    import otklik.participation.stats  # noqa: F401  (registers the provider)

    before = stats.collect(session)
    message = proposal_message(author="engineer6")
    operator = make_user(session, Role.operator, ["68"])
    csrf = login(client, operator.username, PASSWORD)
    headers = {"x-csrf-token": csrf}
    made = client.post("/api/v1/proposals", headers=headers,  # type: ignore[attr-defined]
                       json={"message_id": message.id})
    assert made.status_code == 201, made.text
    pid = made.json()["id"]
    declined = client.post(f"/api/v1/proposals/{pid}/status", headers=headers,  # type: ignore[attr-defined]
                           json={"status": "declined"})
    assert declined.status_code == 400 and "why the proposal is declined" in declined.text
    moved = client.post(f"/api/v1/proposals/{pid}/status", headers=headers,  # type: ignore[attr-defined]
                        json={"status": "under_review"})
    assert moved.status_code == 200 and moved.json()["status"] == "under_review"
    vote = client.post(f"/api/v1/proposals/{pid}/support", headers=headers,  # type: ignore[attr-defined]
                       json={"source": "telegram", "author_id": "42"})
    assert vote.status_code == 200 and vote.json() == {"counted": True, "supporters": 1}
    after = stats.collect(session)
    assert after["proposals"] == before["proposals"] + 1
    assert {"campaigns", "campaign_questions", "promises"} <= set(after)
