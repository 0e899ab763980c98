"""Deadline policies and calendar corrections are read once per transaction while cases are
built (not two or three times per case), and an edit is seen at once: added (even before a
flush), changed, deleted, or after a SAVEPOINT rolled back (SQLite and PostgreSQL); a
SAVEPOINT released keeps them."""
# ruff: noqa: F811  (fixtures imported from tests/cases/conftest.py are parameters here)

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session
from tests.cases.conftest import make_case, make_message  # noqa: F401

from otklik.cases import deadlines
from otklik.cases.reference import OrganizationRow, _reference_cache
from otklik.cases.repository import CaseRepository
from otklik.models.case import CalendarExceptionRow, Case, DeadlinePolicyRow, RoutingRule
from otklik.models.organization import Organization
from otklik.models.territory import Territory, TerritoryLevel
from otklik.sla.calendar import WorkingHours
from otklik.sla.policy import DeadlinePolicy


@contextmanager
def reads(session: Session, table: str) -> Iterator[list[str]]:
    """The SELECTs of ``table``'s rows the session runs inside the block (not the digests
    that check a copy kept beyond the transaction: ``cases/reference.py``, ``_digests``)."""
    seen: list[str] = []

    def listen(conn: object, cursor: object, statement: str, *_: object) -> None:
        if (statement.lstrip().upper().startswith("SELECT") and f"FROM {table}" in statement
                and "md5(string_agg(" not in statement):
            seen.append(statement)

    engine = session.get_bind()
    event.listen(engine, "before_cursor_execute", listen)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", listen)


def _policy(name: str, days: int) -> dict[str, object]:
    return DeadlinePolicy.from_json({"name": name, "topic": "roads",
                                     "resolution": f"{days}d"}).to_json()


def test_deadlines_of_many_cases_read_the_policies_once(
        session: Session, make_case: Callable[..., Case]) -> None:
    cases = [make_case() for _ in range(3)]
    session.commit()  # a new transaction: nothing read yet
    with reads(session, "deadline_policy") as policy_reads, \
            reads(session, "calendar_exception") as calendar_reads:
        for case in cases:  # what routing a case does: its deadlines, the interim answer
            deadlines.assign(session, case)
            deadlines.wants_interim_answer(session, case)
    # once (on PostgreSQL maybe not at all: this process's copy from an earlier transaction,
    # checked by a digest)
    assert len(policy_reads) <= 1 and len(calendar_reads) <= 1


def test_an_added_policy_is_seen_before_and_after_the_flush(
        session: Session, make_case: Callable[..., Case]) -> None:
    repo = CaseRepository(session)
    before = list(repo.policies("68"))
    row = DeadlinePolicyRow(region_code="68", position=1, policy=_policy("cache-a", 3))
    session.add(row)  # not flushed: the query the cache replaces would have flushed it
    seen = {r.id for r in repo.policies("68")}  # (values: compared by id)
    assert row.id is not None and row.id in seen
    assert len(repo.policies("68")) == len(before) + 1
    case = make_case()
    assert deadlines.policy_for(session, case).name == "cache-a"
    row.policy = _policy("cache-b", 4)
    session.flush()
    assert deadlines.policy_for(session, case).name == "cache-b"
    session.delete(row)
    session.flush()
    assert row.id not in {r.id for r in repo.policies("68")}


def test_a_rolled_back_savepoint_forgets_what_it_read(session: Session) -> None:
    repo = CaseRepository(session)
    count = len(repo.calendar_exceptions("68"))
    savepoint = session.begin_nested()
    session.add(CalendarExceptionRow(region_code="68", day="2031-01-09", kind="holiday",
                                     note="cache"))
    assert len(repo.calendar_exceptions("68")) == count + 1
    savepoint.rollback()
    with reads(session, "calendar_exception") as again:
        assert len(repo.calendar_exceptions("68")) == count
    assert len(again) == 1


def test_a_released_savepoint_keeps_what_was_read(session: Session) -> None:
    """A SAVEPOINT released (each step of the demo's simulated lives is one) changes nothing
    the transaction sees: the rows are not read again after it; a row it added is seen."""
    repo = CaseRepository(session)
    count = len(repo.calendar_exceptions("68"))
    with reads(session, "calendar_exception") as again:
        for _ in range(3):
            with session.begin_nested():
                assert len(repo.calendar_exceptions("68")) == count
        assert len(repo.calendar_exceptions("68")) == count
    assert not again
    with session.begin_nested():
        session.add(CalendarExceptionRow(region_code="68", day="2031-01-09", kind="holiday",
                                         note="kept"))
    assert len(repo.calendar_exceptions("68")) == count + 1


def test_parsed_policies_and_calendar_follow_an_unflushed_edit(
        session: Session, make_case: Callable[..., Case]) -> None:
    """What is worked out from the cached rows (the parsed policies, the calendar's
    corrections) is kept for the transaction, and follows a row changed in the session
    before it is flushed, as reading the rows themselves did."""
    case = make_case()
    row = DeadlinePolicyRow(region_code="68", position=1, policy=_policy("parsed-a", 3))
    calendar = CalendarExceptionRow(region_code="68", day="2031-01-09", kind="holiday",
                                    note="parsed")
    session.add_all([row, calendar])
    session.flush()
    assert deadlines.policy_for(session, case).name == "parsed-a"
    with reads(session, "deadline_policy") as again:
        assert deadlines.policy_for(session, case).name == "parsed-a"
    assert not again
    row.policy = _policy("parsed-b", 4)  # not flushed
    assert deadlines.policy_for(session, case).name == "parsed-b"
    clock = deadlines.clock_for(session, case)
    calendar.day = "2031-01-10"  # not flushed
    assert deadlines.clock_for(session, case) is not clock
    session.flush()
    assert deadlines.policy_for(session, case).name == "parsed-b"
    calendar.day = "2031-01-09"
    session.flush()
    assert deadlines.clock_for(session, case) is clock  # the same corrections: the same clock


_REGION_KINDS = ("rules", "organizations", "coverage", "region", "policies", "calendar")
_REGION_TABLES = ("routing_rule", "organization", "territory", "deadline_policy",
                  "calendar_exception")


def _regions_read(session: Session, regions: list[str]) -> dict[Any, Any]:
    """What the per-transaction cache holds of these regions, by row ids."""
    held = _reference_cache(session)
    out: dict[Any, Any] = {}
    for (kind, region), value in held.items():
        if kind not in _REGION_KINDS or region not in regions:
            continue
        if kind == "calendar":  # read in no order (its users sort it)
            value = sorted(r.id for r in value)
        elif kind == "coverage":
            value = {org: sorted(places) for org, places in value.items()}
        elif kind == "organizations":
            value = sorted(value)
        elif kind != "region":
            value = [r.id for r in value]
        out[(kind, region)] = value
    return out


def _route_and_time(repo: CaseRepository, region: str) -> None:
    """What routing a case of the region and setting its deadlines read of it."""
    repo.enabled_rules(region)
    organizations = repo._organizations_of(region)
    if organizations:
        repo.covers(min(organizations), [], region)
        repo.organization(min(organizations), region)
    repo.region_id(region)
    repo.policies(region)
    repo.calendar_exceptions(region)


def test_the_regions_of_a_batch_are_read_together_as_each_alone(session: Session) -> None:
    """``read_regions`` reads what building cases asks of several regions in one query per
    table, and holds what reading each region alone holds (the region's own policies and
    corrections with the country's, in the same order); afterwards routing and deadlines
    of those regions read nothing."""
    regions = sorted(r for r in session.scalars(select(Territory.region_code).where(
        Territory.level == TerritoryLevel.region)) if r is not None)
    assert len(regions) > 1
    executor = session.scalars(select(Organization.id).order_by(Organization.id)).first()
    assert executor is not None
    session.add_all([
        *(RoutingRule(region_code=region, position=position, topic=topic, enabled=enabled,
                      executor_id=executor)
          for region in regions[:2]
          for position, topic, enabled in ((5, "roads", True), (1, None, True),
                                           (3, "utilities", False), (1, "roads", True))),
        DeadlinePolicyRow(region_code=None, position=7, policy=_policy("country", 9)),
        DeadlinePolicyRow(region_code=regions[0], position=1, policy=_policy("own", 3)),
        CalendarExceptionRow(region_code=None, day="2031-01-09", kind="holiday", note="all"),
        CalendarExceptionRow(region_code=regions[-1], day="2031-01-10", kind="holiday",
                             note="own")])
    session.commit()
    repo = CaseRepository(session)
    for region in regions:  # each alone, as before
        _route_and_time(repo, region)
    alone = _regions_read(session, regions)
    session.commit()  # a new transaction: nothing read yet
    counted: dict[str, list[str]] = {}
    with ExitStack() as stack:
        for table in _REGION_TABLES:
            counted[table] = stack.enter_context(reads(session, table))
        repo.read_regions([*regions, None, regions[0]])
        together = _regions_read(session, regions)
        for region in regions:
            _route_and_time(repo, region)
    assert {key: together[key] for key in alone} == alone
    # besides: what the organizations of a region without any cover (nothing)
    assert all(key[0] == "coverage" and not value
               for key, value in together.items() if key not in alone)
    assert len(alone[("rules", regions[0])]) == 3
    assert alone[("policies", regions[0])][0] != alone[("policies", regions[1])][0]
    # one query per table (territory: the regions' own territories; organization: two,
    # the organizations and what they cover), nothing after; on PostgreSQL the rules, the
    # organizations, the regions' territories, policies and calendar corrections read in the
    # last transaction are this process's copies, checked by their digest (not counted:
    # ``reads``); what the organizations of the regions without any cover was not asked there
    kept = session.get_bind().dialect.name == "postgresql"
    assert {t: len(s) for t, s in counted.items()} == {
        "routing_rule": 0 if kept else 1, "organization": 1 if kept else 2,
        "territory": 0 if kept else 1, "deadline_policy": 0 if kept else 1,
        "calendar_exception": 0 if kept else 1}


def test_the_regions_kept_beyond_a_transaction_follow_changes_made_between(
        session: Session) -> None:
    """On PostgreSQL a region's rules, what its organizations cover and its own territory
    are kept beyond the transaction (this process's copy, checked by a digest of the rows);
    a change written between two transactions by a statement (no ORM row of this session
    names it) is seen in the next one: a rule changed, added or deleted, a territory
    covered or no longer, the region's territory gone. Nothing changed: not read again
    (SQLite reads them in every transaction, with the same values)."""
    from sqlalchemy import delete, insert, update
    from tests.cases.conftest import michurinsk

    from otklik.models.organization import OrganizationTerritory

    municipality_id, admin = michurinsk(session)
    others = session.scalars(select(Organization.id).where(
        Organization.region_code == "68", Organization.id != admin.id)
        .order_by(Organization.id).limit(2)).all()
    session.execute(delete(RoutingRule).where(RoutingRule.region_code == "68"))
    first = session.scalar(insert(RoutingRule).values(
        region_code="68", executor_id=admin.id, position=1, topic="roads", enabled=True,
        note="first").returning(RoutingRule.id))
    session.commit()
    repo = CaseRepository(session)

    def seen() -> tuple[list[tuple[int, int, str | None]], bool, int | None]:
        session.commit()  # a new transaction: nothing read in it yet
        repo.read_regions(["68"])
        rules = [(rule.position, rule.executor_id, rule.topic)
                 for rule in repo.enabled_rules("68")]
        return (rules, repo.covers(others[0], [municipality_id], "68"),
                repo.region_id("68"))

    rules, covered, region = seen()
    assert rules == [(1, admin.id, "roads")] and not covered and region is not None
    with reads(session, "routing_rule") as rule_reads:
        assert seen() == (rules, covered, region)  # nothing changed
    assert len(rule_reads) == (0 if session.get_bind().dialect.name == "postgresql" else 1)
    session.execute(update(RoutingRule).where(RoutingRule.id == first)
                    .values(executor_id=others[1]))
    assert seen()[0] == [(1, others[1], "roads")]
    session.execute(insert(RoutingRule).values(
        region_code="68", executor_id=others[0], position=2, topic=None, enabled=True))
    assert seen()[0] == [(1, others[1], "roads"), (2, others[0], None)]
    session.execute(delete(RoutingRule).where(RoutingRule.id == first))
    assert seen()[0] == [(2, others[0], None)]
    session.execute(insert(OrganizationTerritory).values(
        organization_id=others[0], territory_id=municipality_id))
    assert seen()[1]
    session.execute(delete(OrganizationTerritory).where(
        OrganizationTerritory.organization_id == others[0]))
    assert not seen()[1]
    session.execute(update(Territory).where(Territory.id == region)
                    .values(level=TerritoryLevel.municipality))
    assert seen()[2] is None


def test_organizations_policies_and_calendar_kept_beyond_a_transaction_follow_changes(
        session: Session) -> None:
    """A region's organizations, deadline policies and calendar corrections are kept beyond
    the transaction on PostgreSQL too (as values, checked by a digest; the policies and
    corrections of the whole country are part of every region's): a change written between
    two transactions by a statement is seen in the next one; nothing changed, nothing read."""
    from sqlalchemy import delete, insert, update

    repo = CaseRepository(session)
    organization = session.scalars(select(Organization.id).where(
        Organization.region_code == "68").order_by(Organization.id)).first()
    assert organization is not None

    def fresh() -> CaseRepository:
        session.commit()  # a new transaction: nothing read in it yet
        repo.read_regions(["68"])
        return repo

    fresh()
    with reads(session, "organization") as org_reads, \
            reads(session, "deadline_policy") as policy_reads, \
            reads(session, "calendar_exception") as calendar_reads:
        held = fresh().organization(organization, "68")
        policies = [r.id for r in repo.policies("68")]
        calendar = [r.id for r in repo.calendar_exceptions("68")]
    kept = session.get_bind().dialect.name == "postgresql"
    assert [len(org_reads), len(policy_reads), len(calendar_reads)] == (
        [0, 0, 0] if kept else [2, 1, 1])
    assert held is not None
    session.execute(update(Organization).where(Organization.id == organization)
                    .values(name=f"{held.name} (renamed)", is_active=False))
    renamed = fresh().organization(organization, "68")
    assert renamed is not None and renamed.name == f"{held.name} (renamed)"
    assert not renamed.is_active
    country = session.scalar(insert(DeadlinePolicyRow).values(
        region_code=None, position=1, policy=_policy("country-wide", 5))
        .returning(DeadlinePolicyRow.id))
    assert [r.id for r in fresh().policies("68")] == [*policies, country]
    own = session.scalar(insert(CalendarExceptionRow).values(
        region_code="68", day="2031-01-09", kind="holiday", note="kept")
        .returning(CalendarExceptionRow.id))
    assert sorted(r.id for r in fresh().calendar_exceptions("68")) == sorted(
        [*calendar, own])
    session.execute(update(CalendarExceptionRow).where(CalendarExceptionRow.id == own)
                    .values(day="2031-01-10"))
    assert "2031-01-10" in {r.day for r in fresh().calendar_exceptions("68")}
    session.execute(delete(DeadlinePolicyRow).where(DeadlinePolicyRow.id == country))
    session.execute(delete(CalendarExceptionRow).where(CalendarExceptionRow.id == own))
    assert [r.id for r in fresh().policies("68")] == policies
    assert sorted(r.id for r in fresh().calendar_exceptions("68")) == sorted(calendar)


def test_an_unflushed_change_of_an_organization_shows_in_what_is_read(
        session: Session) -> None:
    """The organizations are cached as values: one changed in the session and not flushed
    yet shows the change, as the ORM rows cached before did (without a flush)."""
    repo = CaseRepository(session)
    row = session.scalars(select(Organization).where(Organization.region_code == "68")
                          .order_by(Organization.id)).first()
    assert row is not None
    assert repo.organization(row.id, "68") == repo._organizations_of("68")[row.id]
    row.name, row.timezone = "renamed, not flushed", "Asia/Yekaterinburg"
    with reads(session, "organization") as again:
        seen = repo.organization(row.id, "68")
        assert seen is not None and seen.name == "renamed, not flushed"
        assert repo._organizations_of("68")[row.id].timezone == "Asia/Yekaterinburg"
    assert not again and row in session.dirty  # nothing read, nothing flushed


def test_resolved_policy_and_organization_clock_follow_what_they_come_from(
        session: Session, make_case: Callable[..., Case]) -> None:
    """The policy resolved once per (topic, subtopic, urgency) is per key (another urgency or
    topic resolves afresh); an organization's clock is kept while its values are the same row
    and worked out again for a changed row (other hours) of the same organization."""
    case = make_case()
    session.add_all([
        DeadlinePolicyRow(region_code="68", position=1, policy=DeadlinePolicy.from_json(
            {"name": "roads-urgent", "topic": "roads", "urgency": "high",
             "resolution": "1d"}).to_json()),
        DeadlinePolicyRow(region_code="68", position=2, policy=_policy("roads", 5))])
    session.flush()
    case.topic, case.urgency = "roads", "normal"
    assert deadlines.policy_for(session, case).name == "roads"
    case.urgency = "high"
    assert deadlines.policy_for(session, case).name == "roads-urgent"
    case.topic = "water"
    assert deadlines.policy_for(session, case).name != "roads-urgent"
    case.topic, case.urgency = "roads", "normal"
    assert deadlines.policy_for(session, case).name == "roads"

    row = OrganizationRow(id=10**6, region_code="68", name="ЖКХ", timezone="Europe/Moscow",
                          working_hours=WorkingHours.standard().to_json(), is_active=True)
    clock = deadlines.clock_for(session, case, row)
    assert deadlines.clock_for(session, case, row) is clock
    night = row._replace(working_hours=WorkingHours.round_the_clock().to_json())
    changed = deadlines.clock_for(session, case, night)
    assert changed is not clock and changed.hours.is_round_the_clock
    assert deadlines.clock_for(session, case, row._replace(timezone="Asia/Tomsk")).tz == (
        "Asia/Tomsk")
