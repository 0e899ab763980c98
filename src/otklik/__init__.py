"""Otklik: an open-source platform for Regional Management Centers (ЦУР)."""

__version__ = "0.1.0"
