"""Participation: the governor's direct line and residents' proposals."""
