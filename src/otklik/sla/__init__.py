"""Deadlines: the Russian production calendar, working hours, SLA clock and deadline policies."""
