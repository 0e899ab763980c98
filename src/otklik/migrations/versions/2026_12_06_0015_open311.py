"""Open311 requests, API keys for integrators, residents' photos (reserved: filled in by the change that needs it; a no-op until then)

Revision ID: 0015_open311
Revises: 0014_fakes
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = '0015_open311'
down_revision: str | None = '0014_fakes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
