"""workspace: saved views, case assignee, full-text search

Revision ID: 0005_workspace
Revises: 0004_decisions
Create Date: 2026-11-29 05:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = '0005_workspace'
down_revision: str | None = '0004_decisions'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
