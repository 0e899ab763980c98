"""Every module that declares consumers of events (:mod:`otklik.events`), listed once.

The composition root of the events: :func:`otklik.events.announce` imports this module the
first time it runs, and the worker imports it too, so every process has every consumer. A
new domain that consumes events adds its ``consumers`` module here; no producer changes.
"""

import otklik.analytics.consumers  # noqa: F401
import otklik.cases.consumers  # noqa: F401
import otklik.contests.consumers  # noqa: F401
import otklik.fakes.consumers  # noqa: F401
import otklik.incidents.consumers  # noqa: F401
import otklik.media.consumers  # noqa: F401
import otklik.notify.consumers  # noqa: F401
import otklik.participation.consumers  # noqa: F401
import otklik.webhooks.consumers  # noqa: F401
