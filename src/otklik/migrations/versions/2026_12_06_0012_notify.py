"""outgoing alerts, duty roster, deliveries, webhook subscriptions (reserved: filled in by the change that needs it; a no-op until then)

Revision ID: 0012_notify
Revises: 0011_user_sessions
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

revision: str = '0012_notify'
down_revision: str | None = '0011_user_sessions'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
