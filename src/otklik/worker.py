"""Entry module for ``dramatiq otklik.worker``: imports every module that declares jobs."""

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
