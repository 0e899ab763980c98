"""retraining challengers: why each was or was not activated, its figures, what it learnt from

Revision ID: 0019_learning
Revises: 0018_contests
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import otklik.db.types

revision: str = '0019_learning'
down_revision: str | None = '0018_contests'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('model_version', schema=None) as batch_op:
        batch_op.add_column(sa.Column('decision', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('reason', sa.String(length=1000), nullable=True))
        batch_op.add_column(sa.Column('compared_with', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('evaluation', otklik.db.types.JSONType, nullable=True))
        batch_op.add_column(sa.Column('trained_on', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('last_label_id', sa.BigInteger(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('model_version', schema=None) as batch_op:
        batch_op.drop_column('last_label_id')
        batch_op.drop_column('trained_on')
        batch_op.drop_column('evaluation')
        batch_op.drop_column('compared_with')
        batch_op.drop_column('reason')
        batch_op.drop_column('decision')
