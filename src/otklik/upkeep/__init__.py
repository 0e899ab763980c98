"""Upkeep: the database is the source of truth, and this package keeps the rest honest.

``invariants.py`` counts what must be zero (``otklik check --json``), ``reconcile.py`` puts
stored-but-unfinished work back on the queue (``otklik reconcile``), ``scheduler.py`` runs
the periodic work with one leader across hosts (``otklik scheduler``).
"""
