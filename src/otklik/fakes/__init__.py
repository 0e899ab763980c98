"""Fakes: a registry of false claims and the matcher that finds their copies in messages.

The matcher (:mod:`otklik.fakes.matcher`) is pure: no database; ``otklik fakes match`` runs
it over files (docs/fakes.md).
"""
