"""Participation's consumers are registered with the events they follow."""

from __future__ import annotations

from otklik import events
from otklik.participation import consumers


def test_consumers_are_registered() -> None:
    import otklik.consumers  # noqa: F401  (the composition root)

    def names(event: type[events.Event]) -> set[str]:
        return {c.actor_name for c in events.consumers_of(event)}

    enriched = names(events.MessagesEnriched)
    assert any("collect_after_enrichment" in n for n in enriched), enriched
    assert any("promise_answered" in n for n in names(events.CaseAnswered))
    assert any("promise_closed" in n for n in names(events.CaseClosed))
    # a bulk load of history is left alone (no database is touched)
    consumers.collect_after_enrichment.fn({"message_ids": [1], "live": False})
