"""The builders of case tests (a message with its enrichment, a case) for the ops tests."""

from tests.cases.conftest import make_case, make_message  # noqa: F401
