"""contests: tracks, criteria, experts, applications, scores (reserved: filled in by the change that needs it; a no-op until then)

Revision ID: 0018_contests
Revises: 0017_participation
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = '0018_contests'
down_revision: str | None = '0017_participation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
