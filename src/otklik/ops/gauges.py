"""Gauges computed when Prometheus scrapes ``/metrics``: the queue, the lag from a message to
its case, deadlines, connectors, deliveries, and (from upkeep) the stored work's invariants.

Each provider is a few aggregates over indexed columns; its result is kept ``ttl`` seconds,
so several scrapers (or a scraper per API process) cost the database one query per period.
A provider that fails (the broker or the database unreachable) is reported by
``otklik_gauge_up{provider}`` = 0 and skipped; the others still answer.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from otklik.db.base import utcnow
from otklik.models.case import OPEN_STATUSES, Case, CaseMessage, Publication
from otklik.models.message import Connector, Message
from otklik.models.report_delivery import ReportDelivery
from otklik.ops import queues

log = logging.getLogger(__name__)

#: A connector's statuses after a run that fetched nothing (receiving.py).
FAILED_CONNECTOR = frozenset({"error", "auth_error"})
#: Cases created within this window give the lag percentiles.
LAG_WINDOW = timedelta(hours=1)
#: At most this many of the window's newest cases are read for the percentiles.
LAG_SAMPLE = 20_000


@dataclass(frozen=True)
class Gauge:
    """One metric family: a name, its help and its samples (labels → value)."""

    name: str
    help: str
    labels: tuple[str, ...] = ()
    samples: tuple[tuple[tuple[str, ...], float], ...] = ()


Provider = Callable[[Session, datetime], list[Gauge]]


@dataclass
class _Registered:
    name: str
    func: Provider
    ttl: float
    at: float = 0.0
    value: list[Gauge] | None = None


_PROVIDERS: list[_Registered] = []
_lock = threading.Lock()


def gauge_provider(name: str, ttl: float = 5.0) -> Callable[[Provider], Provider]:
    """Register a function computing some gauges; its result is cached ``ttl`` seconds."""

    def register(func: Provider) -> Provider:
        _PROVIDERS[:] = [p for p in _PROVIDERS if p.name != name]
        _PROVIDERS.append(_Registered(name, func, ttl))
        return func

    return register


def clear_cache() -> None:
    """Forget every cached value (tests; a scrape right after a change)."""
    with _lock:
        for provider in _PROVIDERS:
            provider.at, provider.value = 0.0, None


def collect(session: Session, now: datetime | None = None) -> list[Gauge]:
    """Every provider's gauges (cached), and whether each provider answered."""
    now = now or utcnow()
    gauges: list[Gauge] = []
    up: list[tuple[tuple[str, ...], float]] = []
    with _lock:
        for provider in _PROVIDERS:
            if provider.value is None or time.monotonic() - provider.at > provider.ttl:
                try:
                    provider.value = provider.func(session, now)
                    provider.at = time.monotonic()
                except Exception as exc:  # the broker's or the database's errors differ
                    log.warning("metrics provider %s failed: %s", provider.name, exc)
                    session.rollback()
                    up.append(((provider.name,), 0.0))
                    continue
            up.append(((provider.name,), 1.0))
            gauges.extend(provider.value)
    gauges.append(Gauge("otklik_gauge_up", "1 when the provider of these gauges answered",
                        ("provider",), tuple(up)))
    return gauges


def _one(name: str, help_: str, value: float) -> Gauge:
    return Gauge(name, help_, (), (((), float(value)),))


@gauge_provider("queue")
def _queue(session: Session, now: datetime) -> list[Gauge]:
    rows = queues.depths()
    return [
        Gauge("otklik_queue_depth", "Jobs ready to run in the queue", ("queue",),
              tuple(((r.name,), float(r.ready)) for r in rows)),
        Gauge("otklik_queue_delayed", "Jobs waiting for a retry or a set time", ("queue",),
              tuple(((r.name,), float(r.delayed)) for r in rows)),
        Gauge("otklik_queue_dead_letters", "Jobs that failed all their retries "
              "(see /admin/queue)", ("queue",),
              tuple(((r.name,), float(r.dead)) for r in rows)),
    ]


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) of ``values`` by linear interpolation (0 when empty)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@gauge_provider("lag")
def _lag(session: Session, now: datetime) -> list[Gauge]:
    rows = session.execute(
        select(Case.created_at, Message.received_at)
        .join(CaseMessage, (CaseMessage.case_id == Case.id) & CaseMessage.is_primary.is_(True))
        .join(Message, Message.id == CaseMessage.message_id)
        .where(Case.created_at >= now - LAG_WINDOW, Message.archived.is_(False))
        .order_by(Case.created_at.desc()).limit(LAG_SAMPLE)).all()
    lags = [max(0.0, (created - received).total_seconds()) for created, received in rows]
    return [
        Gauge("otklik_case_lag_seconds", "From a message received to its case created, over "
              "the cases of the last hour", ("quantile",),
              ((("0.5",), percentile(lags, 0.5)), (("0.95",), percentile(lags, 0.95)))),
        _one("otklik_case_lag_cases", "Cases created in the last hour (the lag's sample)",
             len(lags)),
    ]


@gauge_provider("deadlines")
def _deadlines(session: Session, now: datetime) -> list[Gauge]:
    rows = session.execute(
        select(Case.region_code, func.count(Case.id))
        .where(Case.status.in_(sorted(OPEN_STATUSES)), Case.resolution_due < now)
        .group_by(Case.region_code)).all()
    return [Gauge("otklik_deadline_breaches", "Open cases past their resolution deadline",
                  ("region",), tuple(((code or "",), float(n)) for code, n in rows))]


@gauge_provider("connectors")
def _connectors(session: Session, now: datetime) -> list[Gauge]:
    rows = session.execute(select(Connector.name, Connector.kind, Connector.status,
                                  Connector.error_count)
                           .where(Connector.enabled.is_(True)).order_by(Connector.name)).all()
    return [
        Gauge("otklik_connector_errors", "Consecutive runs of an enabled connector that "
              "failed or had errors (0 after a clean run)",
              ("connector", "kind"),
              tuple(((name, kind), float(errors or 0)) for name, kind, _, errors in rows)),
        Gauge("otklik_connector_failing", "1 when the connector's last run failed (error, "
              "auth_error)", ("connector", "kind"),
              tuple(((name, kind), float(status in FAILED_CONNECTOR))
                    for name, kind, status, _ in rows)),
    ]


@gauge_provider("deliveries")
def _deliveries(session: Session, now: datetime) -> list[Gauge]:
    failed_reports = session.scalar(select(func.count(ReportDelivery.id))
                                    .where(ReportDelivery.status == "failed")) or 0
    failed_publications = session.scalar(select(func.count(Publication.id))
                                         .where(Publication.status == "failed")) or 0
    return [Gauge("otklik_delivery_failures", "Deliveries that failed: report e-mails "
                  "(report_delivery) and answers published to the platforms (publication)",
                  ("kind",), ((("report",), float(failed_reports)),
                              (("publication",), float(failed_publications))))]


def families(gauges: Iterable[Gauge]) -> Iterable[object]:
    """The gauges as prometheus_client metric families."""
    from prometheus_client.core import GaugeMetricFamily

    for gauge in gauges:
        family = GaugeMetricFamily(gauge.name, gauge.help, labels=list(gauge.labels))
        for labels, value in gauge.samples:
            family.add_metric(list(labels), value)
        yield family
