"""The invariants of ``otklik check`` as Prometheus gauges (``otklik_invariant_broken``).

Registered with ops' scrape-time gauges when the application starts (app.py imports this
module); cached a minute, as the check reads whole tables' aggregates."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from otklik.ops.gauges import Gauge, gauge_provider
from otklik.upkeep.invariants import DEFAULT_GRACE, INVARIANTS, check


@gauge_provider("invariants", ttl=60.0)
def invariant_gauges(session: Session, now: datetime) -> list[Gauge]:
    """Each invariant's count of breaking rows (0 = holds), and the totals."""
    counts = check(session, now=now, grace=DEFAULT_GRACE).counts
    return [
        Gauge("otklik_invariant_broken", "Rows breaking an invariant of otklik check "
              "(each must be 0)", ("name",),
              tuple(((name,), float(counts[name])) for name in INVARIANTS)),
        Gauge("otklik_messages_not_enriched", "Messages stored over a minute ago and not "
              "enriched", (), (((), float(counts["messages_not_enriched"])),)),
        Gauge("otklik_messages", "Messages stored", (), (((), float(counts["messages"])),)),
        Gauge("otklik_messages_enriched", "Messages enriched", (),
              (((), float(counts["enriched"])),)),
    ]
