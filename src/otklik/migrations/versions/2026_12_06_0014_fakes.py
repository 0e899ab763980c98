"""the fakes registry, copies, suspects (reserved: filled in by the change that needs it; a no-op until then)

Revision ID: 0014_fakes
Revises: 0013_incidents
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = '0014_fakes'
down_revision: str | None = '0013_incidents'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
