"""message.archived: history loads are enriched and counted but never made into cases

Revision ID: 0021_scale
Revises: 0020_security
Create Date: 2026-12-06 06:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0021_scale'
down_revision: str | None = '0020_security'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # A plain ADD COLUMN (SQLite supports it): a batch operation would rebuild the table and
    # drop the full-text triggers of migration 0005 with it.
    op.add_column('message', sa.Column('archived', sa.Boolean(), server_default=sa.false(),
                                       nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_column('archived')
