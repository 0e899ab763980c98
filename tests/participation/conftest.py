"""Builders for participation tests: a direct line of Tambov and the case tests' builders."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session
from tests.cases.conftest import make_message, michurinsk, people  # noqa: F401  (fixtures)

from otklik.audit.actor import Actor
from otklik.models.participation import Campaign
from otklik.participation import campaigns
from otklik.participation.schemas import CampaignCreate

SYSTEM = Actor.system("tests")
ANNOUNCEMENT = "https://vk.com/wall-990_1"


@pytest.fixture
def make_campaign(session: Session) -> Callable[..., Campaign]:
    """A direct line of Tambov; by default collecting now and on air in a week."""

    def build(*, opens: datetime | None = None, closes: datetime | None = None,
              air: datetime | None = None, region: str = "68") -> Campaign:
        now = datetime.now(UTC)
        opens = opens or now - timedelta(days=5)
        closes = closes or now + timedelta(days=2)
        return campaigns.create_campaign(session, SYSTEM, CampaignCreate(
            region_code=region, title="Прямая линия губернатора", opens_at=opens,
            closes_at=closes, air_at=air or closes + timedelta(days=1),
            announcement_urls=[ANNOUNCEMENT]))

    return build
