"""``/metrics`` gauges computed at the scrape (queue, lag, deadlines, connectors, deliveries,
invariants) and ``/readyz`` with the broker, on a fixture database (SQLite and PostgreSQL).

The test database is shared with other tests, so counts are compared before and after the
rows a test adds; the lag is measured at a moment where only this test's cases are recent."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy.orm import Session

from otklik import queue
from otklik.intake.tasks import enrich_messages
from otklik.models.analytics import ReportFile
from otklik.models.case import Answer, Case, CaseStatus, Publication
from otklik.models.message import Connector, Message
from otklik.models.report_delivery import ReportDelivery
from otklik.ops import gauges
from otklik.upkeep import gauges as upkeep_gauges  # noqa: F401  (registers the invariants)

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    gauges.clear_cache()
    yield
    gauges.clear_cache()


def scrape(client: Any) -> Samples:
    """The /metrics page as {(name, labels): value}."""
    gauges.clear_cache()
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    found: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


def value(samples: Samples, metric: str, **labels: str) -> float:
    return samples.get((metric, tuple(sorted(labels.items()))), 0.0)


def test_metrics_show_breaches_connectors_deliveries_and_invariants(
        client: Any, session: Session, make_case: Callable[..., Case],
        make_message: Callable[..., Message]) -> None:
    before = scrape(client)
    now = datetime.now(UTC)
    overdue = [make_case(), make_case()]
    for case in overdue:
        case.resolution_due = now - timedelta(hours=2)
    on_time = make_case()
    on_time.resolution_due = now + timedelta(days=3)
    closed_late = make_case()
    closed_late.resolution_due, closed_late.status = now - timedelta(days=1), CaseStatus.closed
    session.add_all([
        Connector(kind="vk", name="ВК метрики", status="error", error_count=3, enabled=True),
        Connector(kind="telegram", name="ТГ метрики", status="ok", error_count=0, enabled=True),
        Connector(kind="vk", name="ВК выключен", status="error", error_count=9, enabled=False),
    ])
    report = ReportFile(region_code="68", period="2026-11", fmt="pdf", title="Справка",
                        content=b"%PDF", size=4)
    session.add(report)
    session.flush()
    session.add_all([ReportDelivery(report_file_id=report.id, recipient=f"r{i}@example.org",
                                    status=status)
                     for i, status in enumerate(("failed", "failed", "sent", "pending"))])
    answer = Answer(case_id=on_time.id, kind="final", text="Сделано", status="approved",
                    approved_at=now - timedelta(hours=1))
    session.add(answer)
    session.flush()
    message = make_message()
    session.add(Publication(answer_id=answer.id, message_id=message.id, channel="vk",
                            status="failed", last_error="403"))
    # Two messages stored long ago, never enriched: the invariant breaks.
    for n in range(2):
        stale = make_message(f"Давно сохранённое сообщение {n}")
        stale.enrich_status, stale.received_at = "pending", now - timedelta(hours=3)
    session.flush()

    after = scrape(client)

    def delta(metric: str, **labels: str) -> float:
        return value(after, metric, **labels) - value(before, metric, **labels)

    assert delta("otklik_deadline_breaches", region="68") == 2
    assert value(after, "otklik_connector_errors", connector="ВК метрики", kind="vk") == 3
    assert value(after, "otklik_connector_failing", connector="ВК метрики", kind="vk") == 1
    assert value(after, "otklik_connector_failing", connector="ТГ метрики", kind="telegram") == 0
    assert ("otklik_connector_errors", (("connector", "ВК выключен"), ("kind", "vk"))) \
        not in after  # a disabled connector does not page anyone
    assert delta("otklik_delivery_failures", kind="report") == 2
    assert delta("otklik_delivery_failures", kind="publication") == 1
    assert delta("otklik_invariant_broken", name="messages_not_enriched") == 2
    assert delta("otklik_messages_not_enriched") == 2
    assert delta("otklik_invariant_broken", name="publications_pending") == 1
    assert delta("otklik_messages") == len(overdue) + 2 + 1 + 2  # cases, publication, stale
    for provider in ("queue", "lag", "deadlines", "connectors", "deliveries", "invariants"):
        assert value(after, "otklik_gauge_up", provider=provider) == 1, provider
    # The request metrics are still there.
    assert any(name == "otklik_http_requests_total" for name, _ in after)


def test_lag_percentiles_over_the_last_hour(session: Session,
                                            make_case: Callable[..., Case]) -> None:
    later = datetime(2031, 3, 1, 12, 0, tzinfo=UTC)  # only this test's cases are that recent
    lags = [60, 120, 180, 240, 3000]
    for n, lag in enumerate(lags):
        case = make_case()
        case.created_at = later - timedelta(minutes=n + 1)
        primary = _primary(session, case)
        primary.received_at = case.created_at - timedelta(seconds=lag)
    old = make_case()  # created two hours before: outside the window
    old.created_at = later - timedelta(hours=2)
    session.flush()
    found = {g.name: g for g in gauges.collect(session, now=later)}
    samples = dict(found["otklik_case_lag_seconds"].samples)
    assert samples[("0.5",)] == 180
    assert samples[("0.95",)] == pytest.approx(240 + (3000 - 240) * 0.8)
    assert dict(found["otklik_case_lag_cases"].samples)[()] == len(lags)


def _primary(session: Session, case: Case) -> Message:
    from otklik.cases.repository import CaseRepository

    return CaseRepository(session).messages(case.id)[0]


def test_percentile_interpolates() -> None:
    assert gauges.percentile([], 0.5) == 0
    assert gauges.percentile([5.0], 0.95) == 5
    assert gauges.percentile([1.0, 2.0, 3.0, 4.0], 0.5) == 2.5


def test_queue_gauges_count_ready_and_dead_jobs(client: Any) -> None:
    queue.broker.flush_all()
    for n in range(3):
        enrich_messages.send([1_000_000 + n])
    dead = queue.broker.dead_letters_by_queue  # type: ignore[attr-defined]
    try:
        found = scrape(client)
        name = enrich_messages.queue_name
        assert value(found, "otklik_queue_depth", queue=name) == 3
        assert value(found, "otklik_queue_dead_letters", queue=name) == len(dead.get(name, []))
    finally:
        queue.broker.flush_all()


def test_a_failing_provider_is_reported_and_the_others_answer(
        client: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> list[gauges.Gauge]:
        raise ConnectionError("broker down")

    monkeypatch.setattr(gauges.queues, "depths", broken)
    found = scrape(client)
    assert value(found, "otklik_gauge_up", provider="queue") == 0
    assert value(found, "otklik_gauge_up", provider="deadlines") == 1


def test_readyz_reports_the_database_and_the_broker(client: Any,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "broker": "ok",
                            "broker_kind": "memory"}

    def unreachable() -> None:
        raise ConnectionRefusedError("no broker")

    monkeypatch.setattr("otklik.ops.queues.check_broker", unreachable)
    degraded = client.get("/readyz")
    assert degraded.status_code == 200  # what the API stores is safe; the reconciler resends
    assert degraded.json()["status"] == "degraded"
    assert degraded.json()["broker"] == "unavailable: ConnectionRefusedError"


def test_the_example_alert_rules_use_metrics_that_exist(client: Any) -> None:
    import re
    from pathlib import Path

    import yaml

    rules_file = Path(__file__).resolve().parents[2] / "deploy/prometheus/otklik-alerts.yml"
    rules = yaml.safe_load(rules_file.read_text(encoding="utf-8"))
    exprs = [rule["expr"] for group in rules["groups"] for rule in group["rules"]]
    assert len(exprs) >= 6
    client.get("/healthz")  # a request, so the request counters have a sample
    gauges.clear_cache()
    page = client.get("/metrics").text
    exposed = {sample.name for family in text_string_to_metric_families(page)
               for sample in family.samples}
    exposed |= set(re.findall(r"^# TYPE (\S+)", page, re.M))  # families without a sample
    used = {name for expr in exprs for name in re.findall(r"\botklik_[a-z_]+", expr)}
    assert used - exposed == set()
    for needed in ("otklik_queue_depth", "otklik_case_lag_seconds", "otklik_invariant_broken",
                   "otklik_connector_errors", "otklik_delivery_failures",
                   "otklik_deadline_breaches"):
        assert needed in used, needed
