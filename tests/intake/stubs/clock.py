"""A fake clock: sleeping only records the wait and moves time on."""

from __future__ import annotations


class FakeClock:
    """Implements the connectors' Clock protocol without waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.sleeps: list[float] = []

    def monotonic(self) -> float:
        """Current fake time."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Record the wait and advance time."""
        self.sleeps.append(seconds)
        self.now += max(0.0, seconds)
