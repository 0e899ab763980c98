"""personal data: rows of the later domains whose residents' data was removed

Revision ID: 0024_pd_rows
Revises: 0022_pd
Create Date: 2026-12-06 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import otklik.db.types

revision: str = '0024_pd_rows'
down_revision: str | None = '0022_pd'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('pd_anonymized_row',
    sa.Column('table_name', sa.String(length=32), nullable=False),
    sa.Column('row_id', BigId, nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('table_name', 'row_id', name=op.f('pk_pd_anonymized_row'))
    )


def downgrade() -> None:
    op.drop_table('pd_anonymized_row')
