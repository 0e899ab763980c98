"""taxonomy versions editable by an admin

Revision ID: 0007_taxonomy
Revises: 0006_analytics
Create Date: 2026-11-29 05:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = '0007_taxonomy'
down_revision: str | None = '0006_analytics'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
