"""Routing rules: the first enabled rule of the case's region that matches wins."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy.orm import Session

from otklik.accounts.scope import Scope
from otklik.cases.repository import CaseRepository
from otklik.cases.routing import suggest
from otklik.models.case import Case, RoutingRule
from otklik.models.organization import OrganizationKind
from otklik.organizations.repository import OrganizationRepository

from .conftest import michurinsk


def _orgs(session: Session) -> list[int]:
    rows, _ = OrganizationRepository(session).page(Scope.system(), region_code="68", limit=4)
    return [row.id for row in rows]


def _rule(session: Session, executor_id: int, position: int, **match: object) -> RoutingRule:
    return CaseRepository(session).add_rule(RoutingRule(
        region_code=str(match.pop("region_code", "68")), executor_id=executor_id,
        position=position, note=f"rule {position}", **match))


def test_the_most_specific_rule_placed_first_wins(
        session: Session, make_case: Callable[..., Case]) -> None:
    municipality_id, admin = michurinsk(session)
    roads, general, bridges, disabled = _orgs(session)
    _rule(session, disabled, 1, topic="roads", enabled=False)
    _rule(session, bridges, 5, topic="roads", subtopic="roads.bridges",
          territory_id=municipality_id)
    _rule(session, roads, 10, topic="roads")
    _rule(session, general, 50)

    overpass = make_case()
    pothole = make_case(text="Яма на дороге у школы", subtopic="roads.potholes")
    heating = make_case(text="В доме холодные батареи", topic="housing", subtopic=None)

    assert suggest(session, overpass).executor_id == bridges
    assert suggest(session, pothole).executor_id == roads
    assert suggest(session, heating).executor_id == general
    assert suggest(session, heating).reason == "rule 50"


def test_rules_of_other_places_and_regions_do_not_match(
        session: Session, make_case: Callable[..., Case]) -> None:
    _, _ = michurinsk(session)
    tambov_city = OrganizationRepository(session).page(
        Scope.system(), region_code="68", kind=OrganizationKind.municipal_admin,
        q="Тамбова", limit=1)[0][0]
    from otklik.territories.repository import TerritoryRepository

    tambov = TerritoryRepository(session).by_key("68701")
    assert tambov is not None
    _rule(session, tambov_city.id, 1, topic="roads", territory_id=tambov.id)
    samara = OrganizationRepository(session).page(Scope.system(), region_code="36", limit=1)[0][0]
    _rule(session, samara.id, 1, region_code="36")

    case = make_case()
    routed = suggest(session, case)
    assert routed.executor_id is None and not routed.from_rule
    assert routed.reason == "no rule matched: triage"


def test_a_batch_of_cases_reads_the_rules_once_and_an_edit_is_seen_at_once(
        session: Session, make_case: Callable[..., Case]) -> None:
    """Routing matches against the region's rules read once per transaction (not a query per
    case); a rule added, disabled or moved in the same session counts at once."""
    from tests.cases.test_reference_cache import reads

    municipality_id, _ = michurinsk(session)
    roads, general, bridges, _ = _orgs(session)
    _rule(session, roads, 10, topic="roads")  # flushed: what was read is forgotten
    with reads(session, "routing_rule") as rule_reads:
        cases = [make_case() for _ in range(3)]  # each routed by the rule as it is made
        assert all(suggest(session, case).executor_id == roads for case in cases)
    assert len(rule_reads) == 1
    first = _rule(session, bridges, 1, topic="roads", territory_id=municipality_id)
    assert suggest(session, cases[0]).executor_id == bridges  # added: seen
    first.enabled = False  # not flushed yet: the cached rule itself says so
    assert suggest(session, cases[0]).executor_id == roads
    session.add(RoutingRule(region_code="68", executor_id=general, position=2, note="new"))
    assert suggest(session, cases[0]).executor_id == general  # pending: seen before the flush


def test_the_rule_index_follows_unflushed_edits_and_other_sessions(
        session: Session, make_case: Callable[..., Case]) -> None:
    """The region's rules are matched through an index by topic and subtopic kept for the
    transaction; a rule's topic or territory changed in the session (not flushed yet) counts
    at once, and an edit committed elsewhere counts from the next transaction."""
    municipality_id, _ = michurinsk(session)
    roads, general, bridges, _ = _orgs(session)
    _rule(session, roads, 10, topic="roads")
    housing = _rule(session, bridges, 1, topic="housing")
    _rule(session, general, 50)
    case = make_case()
    assert suggest(session, case).executor_id == roads  # the index is built here
    assert suggest(session, case).executor_id == roads  # and used here
    housing.topic = "roads"  # not flushed: now it is the first that matches
    assert suggest(session, case).executor_id == bridges
    from sqlalchemy import update

    from otklik.territories.repository import TerritoryRepository

    tambov = TerritoryRepository(session).by_key("68701")
    assert tambov is not None
    housing.territory_id = tambov.id  # another place: no longer matches
    assert suggest(session, case).executor_id == roads
    session.commit()
    assert suggest(session, case).executor_id == roads
    # the rule edited by a statement the session does not see as a change of its rows (as
    # another worker's would be): seen from the next transaction
    session.execute(update(RoutingRule.__table__).where(RoutingRule.__table__.c.id == housing.id)
                    .values(territory_id=municipality_id))
    assert suggest(session, case).executor_id == roads  # this transaction's index
    session.commit()
    session.expire_all()
    assert suggest(session, case).executor_id == bridges


def test_a_match_asked_again_in_the_transaction_is_found_once(
        session: Session, make_case: Callable[..., Case], monkeypatch: Any) -> None:
    """Cases of a batch that share topic, subtopic and territory are matched against the
    region's rules once (the index keeps each match); the answer is the same."""
    from otklik.cases import reference

    roads, general, _, _ = _orgs(session)
    _rule(session, roads, 10, topic="roads")
    _rule(session, general, 50)
    cases = [make_case() for _ in range(3)]
    session.commit()  # a new transaction: no index yet
    looked: list[tuple[object, ...]] = []
    first = reference._RuleIndex._first

    def counted(self: Any, *args: Any) -> Any:
        looked.append(args)
        return first(self, *args)

    monkeypatch.setattr(reference._RuleIndex, "_first", counted)
    assert [suggest(session, case).executor_id for case in cases] == [roads] * 3
    assert len(looked) == 1
