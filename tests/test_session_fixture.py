"""The rolled-back ``session`` fixture keeps a test's rows to itself on both databases.

A test may call ``session.commit()`` (the code under test commits, or the test wants a new
transaction); that commit must end a savepoint, not the fixture's transaction — on SQLite
pysqlite would otherwise let the savepoint's release commit for real and leak rows into the
tests that run after it.
"""

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from otklik.models.organization import Organization, OrganizationKind


def _organizations_named(engine: Engine, name: str) -> int:
    with engine.connect() as other:
        return other.execute(select(func.count()).select_from(Organization)
                             .where(Organization.name == name)).scalar_one()


def test_a_commit_inside_the_fixture_is_not_seen_outside_it(session: Session,
                                                             engine: Engine) -> None:
    name = "Организация одного теста (фикстура)"
    session.add(Organization(name=name, kind=OrganizationKind.ministry, region_code="68"))
    session.commit()
    assert session.scalar(select(func.count()).select_from(Organization)
                          .where(Organization.name == name)) == 1
    assert _organizations_named(engine, name) == 0


def test_a_rollback_after_a_commit_keeps_what_was_committed_in_the_test(
        session: Session) -> None:
    name = "Организация, пережившая откат"
    session.add(Organization(name=name, kind=OrganizationKind.ministry, region_code="68"))
    session.commit()
    session.add(Organization(name=name + " (откат)", kind=OrganizationKind.ministry,
                             region_code="68"))
    session.rollback()
    names = set(session.scalars(select(Organization.name)
                                .where(Organization.name.startswith(name))))
    assert names == {name}
