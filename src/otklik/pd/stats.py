"""Personal-data counts for ``otklik stats``."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from otklik.ops.stats import stat_provider
from otklik.pd.repository import PdRepository


@stat_provider
def pd_counts(session: Session) -> dict[str, Any]:
    """Messages anonymised (retention or erasure) and consents recorded."""
    repo = PdRepository(session)
    return {"pd_anonymized": repo.count_anonymized(), "pd_consents": repo.count_consents()}
