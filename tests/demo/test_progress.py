"""The demo's load tracker: weighted percent, never backwards, 100 only when finished."""

from __future__ import annotations

from otklik.demo.progress import LoadTracker


def test_percent_weighs_the_stages_never_goes_back_and_reaches_100_only_at_the_end() -> None:
    tracker = LoadTracker()
    tracker.begin({"messages": 100, "enrichment": 100, "cases": 100, "work": 10})
    assert tracker.snapshot()["loading"] and tracker.percent() == 0
    tracker.advance("messages", 100)
    after_import = tracker.percent()
    tracker.advance("cases", 100)
    # the cases cost more per item than the import: the same count moves the bar further
    assert tracker.percent() - after_import > after_import
    before = tracker.percent()
    tracker.resize("work", 1000)  # more cases than expected: the share done shrinks
    assert tracker.percent() == before
    tracker.advance("work", 1000)
    tracker.advance("enrichment", 100)
    assert tracker.percent() == 99 and not tracker.snapshot()["finished"]
    tracker.finish()
    snapshot = tracker.snapshot()
    assert snapshot["percent"] == 100 and snapshot["finished"] and not snapshot["loading"]


def test_a_failed_load_says_why() -> None:
    tracker = LoadTracker()
    tracker.begin({"messages": 10})
    tracker.advance("messages", 3)
    tracker.fail("disk full")
    snapshot = tracker.snapshot()
    assert snapshot["error"] == "disk full" and not snapshot["loading"]
    assert snapshot["stage"] == "messages" and snapshot["stage_en"] == "messages"
