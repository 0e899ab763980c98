"""The demo's load after its first page: the stream, its cases and 90 days of work,
Karelia's archive, decisions, the contest, direct lines, fakes and the official pages.

The order is the one the demo has always loaded in (messages are numbered in arrival order,
copies point at earlier ids, cases are built in time order before the simulated work), so a
load behind the pages ends in the same data as a load before them. Every stage commits in
short units of work (a batch, 6-hour buckets of about 1,000 messages, 50 cases' lives, a
page), so a page view or a login between them waits at most one of them (SQLite WAL with a
busy timeout).
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from otklik.audit.actor import Actor
from otklik.db.session import session_scope
from otklik.demo.loader import DemoLogin


class Report(Protocol):
    """Where the load reports how far it is (:class:`otklik.demo.progress.LoadTracker`)."""

    def advance(self, stage: str, n: int = 1) -> None: ...

    def resize(self, stage: str, total: int) -> None: ...


#: Steps of the "extras" stage (decisions; contest and direct lines; fakes; their matching).
#: The incidents come with the cases: the detector before the simulated work, the people's
#: work on them before its SLA ticks (:mod:`otklik.demo.emergencies`).
EXTRA_STEPS = 4


def expected_totals(total: int) -> dict[str, int]:
    """Items per stage for a stream of ``total`` messages (the work is re-sized once the
    cases are known)."""
    from otklik.demo.archive import archive_size
    from otklik.demo.publics import PAGES_PER_REGION

    return {"messages": total, "enrichment": total, "cases": total,
            "work": max(total // 3, 1), "archive": 2 * archive_size(total),
            "extras": EXTRA_STEPS, "pages": 5 * PAGES_PER_REGION}


def load_reference() -> bool:
    """Deadline rules, routing and the town communities' places, before the stream (once,
    with the stream); False when the stream is stored already."""
    from otklik.demo import loader, routing

    actor = Actor.system("demo")
    with session_scope() as session:
        if loader.demo_messages_loaded(session):
            return False
        routing.load_policies(session, actor)
        routing.load_routing(session, actor)
        loader.load_channel_places(session, actor)
    return True


def stream_finished() -> bool:
    """True when the last step of :func:`load_stream` is in (the demo's fakes)."""
    from otklik.fakes.repository import FakeRepository

    with session_scope() as session:
        return bool(FakeRepository(session).count())


def stopped_half_way() -> bool:
    """True when the stream is stored but its load did not finish (the server closed while
    it loaded): such a load is not taken up again, `otklik demo` starts over instead."""
    from otklik.demo import loader

    with session_scope() as session:
        if not loader.demo_messages_loaded(session):
            return False
    return not stream_finished()


def load_stream(seed: int, total: int, report: Report) -> None:
    """Store the generated stream (and Karelia's archive of the year before it) and run the
    language stages, the cases, the simulated work and the rest of the demo's stories over
    them."""
    from otklik.channels.files import RowResult
    from otklik.demo import simulation
    from otklik.demo.archive import archive_size, import_archive
    from otklik.demo.emergencies import left_to_hq, open_demo_incidents, play_demo_incidents
    from otklik.demo.karelia import window_start
    from otklik.demo.stream import default_end, generate_stream
    from otklik.intake.importer import import_rows
    from otklik.intake.tasks import enrich_pending

    end = default_end()
    rows = (RowResult(n, m) for n, m in enumerate(
        generate_stream(seed=seed, total=total, end=end), 1))
    archive = archive_size(total)
    import_rows(rows, enqueue=False, progress=lambda n: report.advance("messages", n))
    enrich_pending(progress=lambda n: report.advance("enrichment", n))
    cases = simulation.build_all_cases(progress=lambda n: report.advance("cases", n),
                                       since=window_start(end))
    # The detector before the simulated work: the outage's cases are left to its HQ.
    opened = open_demo_incidents(window_start(end))
    report.resize("work", cases)
    simulation.simulate_work(seed, progress=lambda n: report.advance("work", n),
                             left=left_to_hq(opened),
                             handover=lambda: play_demo_incidents(opened))
    approved = simulation.approved_unpublished()
    report.resize("work", cases + len(approved))
    simulation.publish_approved(approved, progress=lambda n: report.advance("work", n))
    # After the live stream's cases: its enrichment and cases stay as without the archive.
    import_archive(seed, archive, end, progress=lambda n: report.advance("archive", n))
    enrich_pending(progress=lambda n: report.advance("archive", n))
    _load_extras(seed, end, report)


def _load_extras(seed: int, end: datetime, report: Report) -> None:
    from otklik.config import get_settings
    from otklik.demo import simulation
    from otklik.demo.contests import load_demo_contest
    from otklik.demo.decisions import load_demo_decisions
    from otklik.demo.fakes import enrich_and_match, load_demo_fakes
    from otklik.demo.participation import load_demo_participation

    actor = Actor.system("demo")
    with session_scope() as session:
        load_demo_decisions(session, actor, end)
    report.advance("extras")
    with session_scope() as session:
        load_demo_contest(session, actor, get_settings().demo_password, seed)
        load_demo_participation(session, actor, end)
    report.advance("extras")
    with session_scope() as session:  # the registry of fakes and their copies in the stream
        load_demo_fakes(session, end)
    report.advance("extras")
    enrich_and_match()
    # What the extras approved (the direct line's notices, its cases' interim answers).
    simulation.publish_approved(simulation.approved_unpublished())
    report.advance("extras")


def load_publics(seed: int, password: str, report: Report) -> list[DemoLogin]:
    """The official pages with their weeks and ratings (once); the owner's login."""
    from sqlalchemy import select

    from otklik.demo import simulation
    from otklik.demo.publics import load_demo_publics, owner_login
    from otklik.demo.stream import default_end
    from otklik.intake.tasks import enrich_pending
    from otklik.models.message import Message

    with session_scope() as session:
        load_demo_publics(session, Actor.system("demo"), default_end(), seed=seed,
                          password=password, progress=lambda n: report.advance("pages", n))
        comments = list(session.scalars(select(Message.id).where(
            Message.enrich_status == "pending").order_by(Message.id)))
    # The pages' comments that entered the stream: enriched, their cases built at the
    # moments they were written, the cases' interim answers published.
    enrich_pending()
    simulation.build_all_cases(only=comments)
    simulation.publish_approved(simulation.approved_unpublished())
    with session_scope() as session:
        login = owner_login(session)
    return [login] if login else []
