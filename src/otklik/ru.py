"""Small helpers for Russian text that several domains need."""

from __future__ import annotations


def plural(n: int, one: str, few: str, many: str) -> str:
    """The form of a noun for a count: 1 сообщение, 2 сообщения, 5 сообщений, 11 сообщений."""
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many
