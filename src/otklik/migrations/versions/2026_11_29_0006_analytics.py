"""analytics: coarser rollups, case rollup, report schedules

Revision ID: 0006_analytics
Revises: 0005_workspace
Create Date: 2026-11-29 05:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = '0006_analytics'
down_revision: str | None = '0005_workspace'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
