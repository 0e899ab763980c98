"""The weekly rating: a page's score by hand equals the product's; no data is "нет
данных"; ranks and movement; a new methodology version leaves old ratings theirs."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from otklik.audit.actor import Actor
from otklik.errors import InvalidInput
from otklik.models.publics import PageRating, PageRatingItem
from otklik.publics import service
from otklik.publics.repository import PageFilter
from otklik.publics.schemas import CriterionIn
from otklik.publics.vocabulary import advice
from otklik.publics.weeks import Week

from .builders import a_page, comment, msk, municipality, post, snapshot

WEEK = Week.parse("2026-W48")  # Monday 23 November 2026
SYSTEM = Actor.system("tests")
FACTS = {"avatar": True, "cover": False, "description": True, "contacts": True,
         "state_mark": True, "comments_open": True, "pinned_post": False}


def _fixture_page(session: Session):  # type: ignore[no-untyped-def]
    town = municipality(session)
    page = a_page(session, municipality_id=town.id, name="МБОУ СОШ №5")
    post(session, page, msk(2026, 11, 23, 9), views=100, likes=3, reposts=1, comments=2,
         kind="photo")
    post(session, page, msk(2026, 11, 26, 18), views=300, likes=6, reposts=0, comments=2)
    post(session, page, msk(2026, 11, 20, 9), views=900, likes=90)  # the week before
    snapshot(session, page, date(2026, 11, 20), 1000)
    snapshot(session, page, date(2026, 11, 28), 1003, FACTS)
    q1 = comment(session, page, msk(2026, 11, 23, 10))
    comment(session, page, msk(2026, 11, 23, 12), from_page=True, reply_to=q1.comment_id)
    q2 = comment(session, page, msk(2026, 11, 24, 10))
    comment(session, page, msk(2026, 11, 24, 16), from_page=True, reply_to=q2.comment_id)
    comment(session, page, msk(2026, 11, 25, 10))  # never answered: older than 24 h
    comment(session, page, msk(2026, 11, 29, 23))  # never answered, but only 1 h old
    comment(session, page, msk(2026, 11, 25, 11), question=False)  # thanks, no question
    return page, town


def test_a_pages_score_by_hand_equals_the_products(session: Session) -> None:
    page, town = _fixture_page(session)
    empty = a_page(session, municipality_id=town.id, name="Детский сад без данных",
                   page_type="kindergarten")

    summary = service.compute_week(session, SYSTEM, WEEK, "68")

    # By hand, with the default methodology (weights 20/15/10/15/10/15/10/5, norms below):
    posts = 2 / 3                      # 2 posts of the 3 a week
    engagement = 1.0                   # (3+1+2 + 6+0+2) / (100+300) = 3.5 % >= 2 %
    growth = (1003 - 1000) / 1000 * 100 / 0.5   # 0.3 % of the 0.5 %
    answered = (2 / 4 * 100) / 90      # 2 of 4 questions answered; the norm 90 %
    hours = 1.0                        # median of 2 h and 6 h = 4 h <= 8 h
    unanswered = 1 / (1 + 1)           # one question older than 24 h, norm 0
    profile = (5 / 7 * 100) / 100      # 5 of 7 facts
    mix = 2 / 3                        # photo and text, the norm 3 kinds
    expected = 100 * (20 * posts + 15 * engagement + 10 * growth + 15 * answered
                      + 10 * hours + 15 * unanswered + 10 * profile + 5 * mix) / 100

    rating = session.scalars(select(PageRating).where(PageRating.page_id == page.id)).one()
    assert rating.score == pytest.approx(round(expected, 1), abs=0.051)
    items = {i.code: i for i in session.scalars(
        select(PageRatingItem).where(PageRatingItem.rating_id == rating.id))}
    assert items["posts_per_week"].value == 2
    assert items["engagement_rate"].value == pytest.approx(3.5)
    assert items["subscriber_growth"].value == pytest.approx(0.3)
    assert items["answered_share"].value == pytest.approx(50)
    assert items["answer_hours"].value == pytest.approx(4, abs=1e-3)
    assert items["unanswered_24h"].value == 1
    assert items["profile_completeness"].value == pytest.approx(500 / 7)
    assert items["content_mix"].value == 2
    assert rating.rank_region == 1 and rating.rank_municipality == 1
    assert summary.pages == 2 and summary.rated == 1

    nothing = session.scalars(select(PageRating).where(PageRating.page_id == empty.id)).one()
    assert nothing.score is None and nothing.rank_region is None
    assert "Детский сад без данных" in summary.no_data

    rated, total, version = service.rating_list(session, SYSTEM, WEEK.label,
                                                PageFilter(region_code="68"))
    card = next(r for r in rated if r.page.id == page.id)
    assert version == 1 and total >= 2
    assert "Ответьте на 1 комментарий жителей старше 24 часов." in card.advice
    assert any("закрепите пост с контактами" in a and "добавьте обложку" in a
               for a in card.advice)
    assert not any(c.advice for c in card.criteria if c.code == "answer_hours")


def test_ranks_and_movement_follow_the_weeks(session: Session) -> None:
    town = municipality(session)
    strong = a_page(session, municipality_id=town.id)
    weak = a_page(session, municipality_id=town.id)
    for page, n in ((strong, 1), (weak, 4)):
        for k in range(n):
            post(session, page, msk(2026, 11, 23 + k, 10), views=100, likes=5)
    service.compute_week(session, SYSTEM, WEEK, "68")
    first = {r.page_id: r for r in session.scalars(
        select(PageRating).where(PageRating.week == WEEK.label))}
    assert first[weak.id].rank_region < first[strong.id].rank_region

    later = Week.parse("2026-W49")
    for k in range(5):
        post(session, strong, msk(2026, 11, 30) + timedelta(days=k), views=100, likes=9,
             kind=("photo", "video", "text", "poll", "link")[k])
    post(session, weak, msk(2026, 12, 1), views=100)
    service.compute_week(session, SYSTEM, later, "68")
    second = {r.page_id: r for r in session.scalars(
        select(PageRating).where(PageRating.week == later.label))}
    assert second[strong.id].rank_region < second[weak.id].rank_region
    assert second[strong.id].previous_rank == first[strong.id].rank_region
    assert second[strong.id].movement == (first[strong.id].rank_region
                                          - second[strong.id].rank_region) > 0
    assert second[weak.id].movement < 0


def test_a_new_weight_is_a_new_version_and_old_ratings_keep_theirs(session: Session) -> None:
    page, _ = _fixture_page(session)
    service.compute_week(session, SYSTEM, WEEK, "68")
    v1 = service.ensure_methodology(session, SYSTEM)
    old = session.scalars(select(PageRating).where(PageRating.page_id == page.id)).one()
    old_score = old.score

    rows = service.criteria_in(session, v1.id)
    for row in rows:
        if row.code == "posts_per_week" and row.page_type == "*" and row.page_class == "*":
            row.weight = 60
    with pytest.raises(InvalidInput):
        service.save_methodology(session, SYSTEM, service.criteria_in(session, v1.id))
    v2 = service.save_methodology(session, SYSTEM, rows, "регулярность важнее")
    assert v2.version == v1.version + 1 and v2.id != v1.id
    assert service.ensure_methodology(session, SYSTEM).id == v2.id

    service.compute_week(session, SYSTEM, WEEK, "68")  # the same week under the new version
    rows_now = {r.methodology_id: r for r in session.scalars(
        select(PageRating).where(PageRating.page_id == page.id))}
    assert set(rows_now) == {v1.id, v2.id}
    assert rows_now[v1.id].score == old_score  # the old rating keeps its version and score
    assert rows_now[v2.id].score < old_score   # regularity (2 of 3 posts) now weighs more
    rated, _, version = service.rating_list(session, SYSTEM, WEEK.label, PageFilter())
    assert version == v2.version


def test_the_most_specific_criterion_row_for_a_pages_type_and_class_applies(
        session: Session) -> None:
    service.ensure_methodology(session, SYSTEM)
    rows = [CriterionIn(code="posts_per_week", page_type=t, page_class=k, weight=10,
                        threshold=h)
            for t, k, h in (("*", "*", 4), ("*", "card", 2), ("kindergarten", "*", 1),
                            ("kindergarten", "card", 8))]
    service.save_methodology(session, SYSTEM, rows, "нормы по типу и классу")
    town = municipality(session)
    pages = {(t, k): a_page(session, municipality_id=town.id, page_type=t, page_class=k)
             for t in ("school", "kindergarten") for k in ("active", "card")}
    for page in pages.values():
        post(session, page, msk(2026, 11, 25), views=100, likes=1)

    service.compute_week(session, SYSTEM, WEEK, "68")

    # One post each; the only criterion is regularity, so the score is 100 × 1 / norm with
    # the norm of the most specific row (a type outweighs a class).
    expected = {("school", "active"): 100 * 1 / 4, ("school", "card"): 100 * 1 / 2,
                ("kindergarten", "active"): 100 * 1 / 1, ("kindergarten", "card"): 100 * 1 / 8}
    for key, page in pages.items():
        rating = session.scalars(select(PageRating).where(PageRating.page_id == page.id)).one()
        assert rating.score == pytest.approx(expected[key], abs=0.051), key
        item = session.scalars(select(PageRatingItem).where(
            PageRatingItem.rating_id == rating.id)).one()
        assert item.code == "posts_per_week" and item.value == 1


def test_a_region_recomputed_under_a_new_version_leaves_the_others_listed_under_theirs(
        session: Session) -> None:
    tambov = a_page(session, municipality_id=municipality(session).id, name="Тамбовская школа")
    samara = a_page(session, region="36", municipality_id=municipality(session, "36").id,
                    name="Самарская школа")
    for page in (tambov, samara):
        post(session, page, msk(2026, 11, 24), views=100, likes=5)
    service.compute_week(session, SYSTEM, WEEK, "68")
    service.compute_week(session, SYSTEM, WEEK, "36")
    v1 = service.ensure_methodology(session, SYSTEM)
    rows = service.criteria_in(session, v1.id)
    for row in rows:
        if row.code == "posts_per_week" and row.page_type == "*" and row.page_class == "*":
            row.threshold = 1
    v2 = service.save_methodology(session, SYSTEM, rows, "одного поста достаточно")
    service.compute_week(session, SYSTEM, WEEK, "68")  # only Tambov is computed again

    samara_list, total, version = service.rating_list(session, SYSTEM, WEEK.label,
                                                      PageFilter(region_code="36"))
    assert total == 1 and [r.page.id for r in samara_list] == [samara.id]
    assert version == v1.version and samara_list[0].version == v1.version
    tambov_list, _, version = service.rating_list(session, SYSTEM, WEEK.label,
                                                  PageFilter(region_code="68"))
    assert [r.page.id for r in tambov_list] == [tambov.id] and version == v2.version
    both, total, _ = service.rating_list(session, SYSTEM, WEEK.label, PageFilter())
    assert total == 2 and {r.page.id: r.version for r in both} == {
        tambov.id: v2.version, samara.id: v1.version}
    by_type = service.summary(session, SYSTEM, WEEK.label, PageFilter(), "type")
    assert by_type[0][:3] == ("school", 2, 2)


def test_profile_advice_names_only_the_facts_the_platform_reports() -> None:
    telegram = {"avatar": True, "description": True, "contacts": False, "pinned_post": False}
    assert advice("profile_completeness", 50, 100, telegram) == (
        "Заполните профиль: укажите контакты учреждения, закрепите пост с контактами.")
    assert advice("profile_completeness", 50, 100, telegram, "en") == (
        "Complete the profile: give the institution's contacts, pin a post with the contacts.")
    assert advice("profile_completeness", 80, 100, {}) == "Заполните профиль страницы."


def test_a_question_asked_late_on_sunday_is_counted_the_week_it_turns_a_day_old(
        session: Session) -> None:
    page = a_page(session, municipality_id=municipality(session).id)
    post(session, page, msk(2026, 11, 20), views=100, likes=5)
    post(session, page, msk(2026, 11, 25), views=100, likes=5)
    late = comment(session, page, msk(2026, 11, 22, 23, 30))     # Sunday of W47, never answered
    answered = comment(session, page, msk(2026, 11, 22, 23, 40))  # answered on Monday
    comment(session, page, msk(2026, 11, 23, 10), from_page=True, reply_to=answered.comment_id)
    comment(session, page, msk(2026, 11, 24, 10))  # W48's own question, never answered
    previous = Week.parse("2026-W47")
    service.compute_week(session, SYSTEM, previous, "68")
    service.compute_week(session, SYSTEM, WEEK, "68")

    def items(week: Week) -> dict[str, PageRatingItem]:
        rating = session.scalars(select(PageRating).where(
            PageRating.page_id == page.id, PageRating.week == week.label)).one()
        return {i.code: i for i in session.scalars(
            select(PageRatingItem).where(PageRatingItem.rating_id == rating.id))}

    # W47 ends half an hour after the Sunday questions: not yet a day old, and none of them
    # answered within W47 (the answer came on Monday).
    before = items(previous)
    assert before["unanswered_24h"].value == 0 and before["answered_share"].value == 0
    # W48: the Sunday question left unanswered turned a day old, and so did W48's own; the
    # share answered is of W48's own questions (one, unanswered).
    now = items(WEEK)
    assert now["unanswered_24h"].value == 2
    assert now["answered_share"].value == 0
    assert "answer_hours" not in now or now["answer_hours"].value is None
    del late
