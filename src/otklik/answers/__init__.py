"""Answers to residents: brush-off (отписка) check, templates, parsing of residents' replies."""
