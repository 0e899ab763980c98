"""The counts of fakes in ``otklik stats --json``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from otklik.fakes.repository import FakeRepository
from otklik.ops.stats import stat_provider


@stat_provider
def _fakes(session: Session) -> dict[str, Any]:
    repo = FakeRepository(session)
    return {"fakes": repo.count(), "fake_copies": repo.count_copies()}
