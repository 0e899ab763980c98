"""Entry module for ``dramatiq otklik.worker``: imports every module that declares jobs, and
sets the garbage collector's pace for a process that runs them (:data:`GC_THRESHOLDS`)."""

import gc
import logging
import time

import dramatiq

import otklik.analytics.tasks  # noqa: F401
import otklik.audit.tasks  # noqa: F401  (the audit sealer)
import otklik.cases.tasks  # noqa: F401
import otklik.consumers  # noqa: F401  (the consumers of events)
import otklik.incidents.tasks  # noqa: F401
import otklik.intake.tasks  # noqa: F401
import otklik.notify.tasks  # noqa: F401
import otklik.reports.tasks  # noqa: F401
import otklik.upkeep.jobs  # noqa: F401  (connectors polling, due reports, reconcile)
from otklik.queue import broker  # noqa: F401

#: Python's cyclic collector runs a young collection every 700 new container objects and,
#: every hundredth time, a full one over every object of the process: in a worker ~510,000
#: (the libraries, the language models, the near-duplicate memory), ~0.3 s each. A batch's
#: ORM rows and results set it off constantly (it was 15-20 % of the whole path); they are
#: freed by reference counting, not by the collector. With a young generation of 20,000 the
#: collector runs ~30 times less often and full collections ~100 times less often; cyclic
#: garbage waits a little longer. `bench/profile_batch_tasks.py` (2,000 messages, every job
#: in one process, PostgreSQL): collector 3.6 → 0.5 s, jobs 22.9 → 19.8 s (docs/performance.md).
GC_THRESHOLDS = (20_000, 20, 20)


def pace_collector() -> None:
    """Set :data:`GC_THRESHOLDS` (this process runs jobs: a worker, or the API's embedded
    queue)."""
    gc.set_threshold(*GC_THRESHOLDS)


pace_collector()
log = logging.getLogger(__name__)


class Preload(dramatiq.Middleware):  # type: ignore[misc]
    """Load the language pipeline (models, the territory index: seconds) when a worker
    process boots, before it takes its first job: the first batch is not held up by the load
    (nor its time limit spent on it), and Dramatiq's "Worker process is ready for action"
    means ready. Only a separate worker (RabbitMQ, Redis): the embedded in-process queue of
    the API and the CLI loads the pipeline when its first batch comes, so their start stays
    fast. A pipeline that can't be built now (the database is away) is built by the first
    batch, as before."""

    def before_worker_boot(self, broker: dramatiq.Broker, worker: dramatiq.Worker) -> None:
        from otklik.queue import is_in_memory

        if is_in_memory():
            return
        only = getattr(worker, "consumer_whitelist", None)
        if only and "enrich" not in only:
            return  # takes no enrichment job (``otklik worker --queues``): no models needed
        started = time.perf_counter()
        try:
            from otklik.db.session import session_scope
            from otklik.intake.tasks import active_pipeline

            with session_scope() as session:
                active_pipeline(session)
        except Exception:  # noqa: BLE001 - the first batch loads it, and says why if it can't
            log.warning("the language pipeline was not preloaded; the first batch loads it",
                        exc_info=True)
            return
        log.info("language pipeline loaded in %.1f s", time.perf_counter() - started)


broker.add_middleware(Preload())


#: The queues of the path import → enrichment → case → problem → rollup: ``otklik worker
#: --queues path`` takes only these (a host for the path); the other queues (the emergency
#: detector, fakes, the direct line, publishing, audit seals, notifications, webhooks,
#: reports, upkeep) go to workers started with their names (docs/deploy.md).
PATH_QUEUES = ("enrich", "cases", "analytics")


def chosen_queues(asked: list[str]) -> list[str]:
    """The queue names of ``otklik worker --queues`` (repeated or comma-separated; ``path``
    stands for :data:`PATH_QUEUES`), checked against the queues the jobs are declared on: a
    misspelt name would leave its jobs waiting forever."""
    from otklik.errors import InvalidInput
    from otklik.ops.queues import queue_names

    declared = set(queue_names(broker))
    names: list[str] = []
    for item in asked:
        for name in (part.strip() for part in item.split(",")):
            for one in (PATH_QUEUES if name == "path" else (name,) if name else ()):
                if one not in declared:
                    raise InvalidInput(f"--queues: no job runs on a queue named {one!r}; the "
                                       f"queues are: path, {', '.join(sorted(declared))}")
                if one not in names:
                    names.append(one)
    if not names:
        raise InvalidInput("--queues: name at least one queue (or leave the option out: every "
                           "queue)")
    return names
