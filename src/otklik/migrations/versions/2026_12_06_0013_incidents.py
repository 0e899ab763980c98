"""incidents, their timeline and public updates (reserved: filled in by the change that needs it; a no-op until then)

Revision ID: 0013_incidents
Revises: 0012_notify
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = '0013_incidents'
down_revision: str | None = '0012_notify'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
