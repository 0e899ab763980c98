"""Intake: every channel residents write in, stored once, nothing lost."""
