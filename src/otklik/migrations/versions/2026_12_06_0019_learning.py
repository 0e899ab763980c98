"""retraining runs and challengers (reserved: filled in by the change that needs it; a no-op until then)

Revision ID: 0019_learning
Revises: 0018_contests
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = '0019_learning'
down_revision: str | None = '0018_contests'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
