"""direct lines, proposals, contests (reserved: filled in by the change that needs it; a no-op until then)

Revision ID: 0017_participation
Revises: 0016_publics
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = '0017_participation'
down_revision: str | None = '0016_publics'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
