"""The dead-letter page ``/admin/queue``: depths and dead-lettered jobs with their actor, ids
and error; "requeue" and "drop" (CSRF, an administrator of all regions, audited). On the
in-memory broker, and on a real RabbitMQ (a virtual host of the test's own) and Redis (a key
namespace of its own), with jobs really failed by a worker (Dramatiq's ``<queue>.XQ``)."""

from __future__ import annotations

import os
import re
import uuid
from collections.abc import Iterator
from typing import Any

import dramatiq
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from tests.builders import PASSWORD, make_user
from tests.conftest import login
from tests.upkeep.faults import rabbitmq_available, rabbitmq_vhost, wait_for

from otklik import queue
from otklik.errors import NotFound
from otklik.intake.tasks import enrich_messages
from otklik.models.account import Role
from otklik.models.audit import AuditEntry
from otklik.ops import queues

REDIS_URL = os.environ.get("OTKLIK_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _csrf(text: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', text)
    assert found is not None
    return found[1]


def _admin(session: Session, client: Any) -> None:
    user = make_user(session, Role.admin, all_regions=True)
    login(client, user.username, PASSWORD)


def _dead_job(message_id: str, args: list[int]) -> Any:
    """A job of enrich_messages as the stub broker keeps it after its last failure."""
    message = dramatiq.Message(
        queue_name=enrich_messages.queue_name, actor_name=enrich_messages.actor_name,
        args=(args,), kwargs={}, message_id=message_id,
        options={"retries": 5, "traceback": "Traceback (most recent call last):\n  ...\n"
                 "RuntimeError: the geocoder timed out\n"})
    return dramatiq.broker.MessageProxy(message)


@pytest.fixture
def dead_letters() -> Iterator[list[Any]]:
    queue.broker.flush_all()
    held: list[Any] = queue.broker.dead_letters_by_queue[  # type: ignore[attr-defined]
        enrich_messages.queue_name]
    held += [_dead_job("job-a", [101, 102]), _dead_job("job-b", list(range(103, 133)))]
    yield held
    queue.broker.flush_all()


def _audits(session: Session, action: str) -> list[AuditEntry]:
    return list(session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_the_page_lists_dead_jobs_and_requeues_one(session: Session, client: Any,
                                                   dead_letters: list[Any]) -> None:
    _admin(session, client)
    page = client.get("/admin/queue")
    assert page.status_code == 200
    assert f'data-queue="{enrich_messages.queue_name}"' in page.text
    assert 'data-job="job-a"' in page.text and 'data-job="job-b"' in page.text
    assert "enrich_messages" in page.text and "[[101, 102]]" in page.text
    assert "RuntimeError: the geocoder timed out" in page.text
    requeued = client.post("/admin/queue/requeue", data={
        "csrf": _csrf(page.text), "queue": enrich_messages.queue_name, "job": "job-a"},
        follow_redirects=False)
    assert requeued.status_code == 303
    assert [m.message_id for m in dead_letters] == ["job-b"]
    depth = {row.name: row for row in queues.depths()}[enrich_messages.queue_name]
    assert (depth.ready, depth.dead) == (1, 1)
    waiting = queue.broker.queues[enrich_messages.queue_name].get_nowait()  # type: ignore
    again = dramatiq.Message.decode(waiting)
    assert again.message_id == "job-a" and list(again.args) == [[101, 102]]
    assert "retries" not in again.options and "traceback" not in again.options
    [entry] = _audits(session, "queue.requeue")
    assert entry.object_id == "job-a"
    assert entry.details["actor"] == "enrich_messages"
    after = client.get("/admin/queue")
    assert "возвращена в очередь" in after.text and 'data-job="job-a"' not in after.text


def test_drop_deletes_the_job_for_good(session: Session, client: Any,
                                       dead_letters: list[Any]) -> None:
    _admin(session, client)
    csrf = _csrf(client.get("/admin/queue").text)
    dropped = client.post("/admin/queue/drop", data={
        "csrf": csrf, "queue": enrich_messages.queue_name, "job": "job-b"},
        follow_redirects=False)
    assert dropped.status_code == 303
    assert [m.message_id for m in dead_letters] == ["job-a"]
    assert queues.depths()[0].ready == 0 or all(r.ready == 0 for r in queues.depths())
    [entry] = _audits(session, "queue.drop")
    assert entry.details["error"] == "RuntimeError: the geocoder timed out"
    assert entry.details["args"] == [list(range(103, 123))]  # a batch's ids, cut to 20
    gone = client.post("/admin/queue/drop", data={
        "csrf": csrf, "queue": enrich_messages.queue_name, "job": "job-b"},
        headers={"accept": "text/html"})
    assert gone.status_code == 404  # dropped meanwhile: said, not a 500
    unknown = client.post("/admin/queue/drop", data={
        "csrf": csrf, "queue": "no-such-queue", "job": "job-a"})
    assert unknown.status_code == 404


def test_only_an_admin_of_all_regions_with_the_form_token(session: Session, client: Any,
                                                          dead_letters: list[Any]) -> None:
    assert client.get("/admin/queue", headers={"accept": "text/html"},
                      follow_redirects=False).status_code == 303  # to the login form
    regional = make_user(session, Role.admin, ["68"])
    login(client, regional.username, PASSWORD)
    assert client.get("/admin/queue").status_code == 404
    client.cookies.clear()
    operator = make_user(session, Role.operator, all_regions=True)
    login(client, operator.username, PASSWORD)
    assert client.get("/admin/queue").status_code == 403
    client.cookies.clear()
    _admin(session, client)
    refused = client.post("/admin/queue/drop", data={
        "csrf": "forged", "queue": enrich_messages.queue_name, "job": "job-a"})
    assert refused.status_code == 403
    assert len(dead_letters) == 2 and not _audits(session, "queue.drop")
    assert "/admin/queue" in client.get("/admin").text


def test_the_page_says_when_the_broker_is_unreachable(session: Session, client: Any,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    def down(*_: object) -> None:
        raise ConnectionRefusedError("connection refused")

    monkeypatch.setattr(queues, "depths", down)
    _admin(session, client)
    page = client.get("/admin/queue")
    assert page.status_code == 200
    assert 'data-testid="broker-error"' in page.text and "ConnectionRefusedError" in page.text


# --- RabbitMQ and Redis ------------------------------------------------------------------

FAILING_QUEUE = "otklik_test_failing"


@pytest.fixture(params=["rabbitmq", "redis"])
def real_broker(request: pytest.FixtureRequest) -> Iterator[dramatiq.Broker]:
    """A real broker of the test's own: a RabbitMQ virtual host, a Redis key namespace."""
    if request.param == "rabbitmq":
        if not rabbitmq_available():
            pytest.fail("RabbitMQ is not running at 127.0.0.1:5672 (with rabbitmqctl): "
                        ".ci/run starts it; start it with `rabbitmq-server -detached`")
        with rabbitmq_vhost() as vhost:
            broker = queue.build_broker(f"amqp://guest:guest@127.0.0.1:5672/{vhost}")
            try:
                yield broker
            finally:
                broker.close()
        return
    from dramatiq.brokers.redis import RedisBroker

    namespace = f"otklik_test_{uuid.uuid4().hex[:10]}"
    broker = RedisBroker(url=REDIS_URL, namespace=namespace, middleware=queue._middleware())
    try:
        broker.client.ping()
    except Exception as exc:  # redis' connection errors
        pytest.fail(f"Redis is not running at {REDIS_URL} ({exc})")
    try:
        yield broker
    finally:
        keys = list(broker.client.scan_iter(f"{namespace}:*"))
        if keys:
            broker.client.delete(*keys)
        broker.close()


def _dead_count(broker: dramatiq.Broker) -> int:
    return {r.name: r for r in queues.depths(broker)}[FAILING_QUEUE].dead


def _depth_becomes(broker: dramatiq.Broker, ready: int, dead: int) -> None:
    """Wait until the failing queue holds ``ready`` jobs and ``dead`` dead ones (the broker
    counts a published job a moment later: a fixed sleep failed on a loaded machine)."""
    def reached() -> bool:
        depth = {r.name: r for r in queues.depths(broker)}[FAILING_QUEUE]
        return (depth.ready, depth.dead) == (ready, dead)

    wait_for(reached, 30, f"{ready} ready and {dead} dead jobs in {FAILING_QUEUE}")


def _fail_two_jobs(broker: dramatiq.Broker) -> dramatiq.Actor[Any, Any]:
    """Two jobs of an actor that always fails, really run (and retried once) by a worker."""

    def geocode(case_id: int) -> None:
        raise RuntimeError(f"the geocoder refused case {case_id}")

    actor: dramatiq.Actor[Any, Any] = dramatiq.Actor(
        geocode, broker=broker, actor_name="geocode_case", queue_name=FAILING_QUEUE,
        priority=0, options={"max_retries": 1, "min_backoff": 10, "max_backoff": 20})
    actor.send(7)
    actor.send(8)
    worker = dramatiq.Worker(broker, worker_threads=1, worker_timeout=100)
    worker.start()
    try:
        wait_for(lambda: _dead_count(broker) == 2, 60, "two dead-lettered jobs")
    finally:
        queue.stop_worker(worker)
    return actor


@pytest.mark.timeout(180)
def test_dead_letters_listed_requeued_and_dropped(real_broker: dramatiq.Broker) -> None:
    _fail_two_jobs(real_broker)
    depth = {r.name: r for r in queues.depths(real_broker)}[FAILING_QUEUE]
    assert (depth.ready, depth.dead) == (0, 2)
    dead = queues.dead_letters(FAILING_QUEUE, real_broker)
    assert sorted(job.args[0] for job in dead) == [7, 8]
    assert {job.actor for job in dead} == {"geocode_case"}
    assert all(job.error_line.startswith("RuntimeError: the geocoder refused case")
               for job in dead)  # the traceback of the attempt before the last
    # Listing took nothing out: the jobs are still dead-lettered, in their order.
    assert [j.message_id for j in queues.dead_letters(FAILING_QUEUE, real_broker)] == \
        [j.message_id for j in dead]
    first, second = dead
    queues.requeue(FAILING_QUEUE, first.message_id, real_broker)
    queues.drop(FAILING_QUEUE, second.message_id, real_broker)
    _depth_becomes(real_broker, ready=1, dead=0)
    with pytest.raises(NotFound, match="no longer dead-lettered"):
        queues.drop(FAILING_QUEUE, second.message_id, real_broker)
    queues.check_broker(real_broker)


@pytest.mark.timeout(180)
def test_the_page_requeues_on_a_real_broker_with_the_audit(
        session: Session, client: Any, real_broker: dramatiq.Broker,
        monkeypatch: pytest.MonkeyPatch) -> None:
    _fail_two_jobs(real_broker)
    monkeypatch.setattr(queue, "broker", real_broker)
    _admin(session, client)
    page = client.get("/admin/queue")
    assert page.status_code == 200
    assert f'data-queue="{FAILING_QUEUE}"' in page.text
    jobs = re.findall(r'data-testid="dead-job" data-job="([^"]+)"', page.text)
    assert len(jobs) == 2 and "RuntimeError: the geocoder refused case" in page.text
    done = client.post("/admin/queue/requeue", data={
        "csrf": _csrf(page.text), "queue": FAILING_QUEUE, "job": jobs[0]},
        follow_redirects=False)
    assert done.status_code == 303
    _depth_becomes(real_broker, ready=1, dead=1)
    assert [e.object_id for e in _audits(session, "queue.requeue")] == [jobs[0]]
