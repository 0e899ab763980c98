"""official public pages, snapshots, methodology versions, ratings (reserved: filled in by the change that needs it; a no-op until then)

Revision ID: 0016_publics
Revises: 0015_open311
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = '0016_publics'
down_revision: str | None = '0015_open311'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
