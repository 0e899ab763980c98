"""analytics cubes: coarser rollups derived from the daily ones

Revision ID: 0009_analytics_cubes
Revises: 0008_channel_places
Create Date: 2026-11-29 07:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = '0009_analytics_cubes'
down_revision: str | None = '0008_channel_places'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
