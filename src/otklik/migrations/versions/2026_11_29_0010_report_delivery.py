"""report delivery: scheduled briefs e-mailed to their recipients, one row per file and address

Revision ID: 0010_report_delivery
Revises: 0009_analytics_cubes
Create Date: 2026-11-29 08:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import otklik.db.types

revision: str = '0010_report_delivery'
down_revision: str | None = '0009_analytics_cubes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('report_delivery',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_file_id', sa.Integer(), nullable=False),
    sa.Column('recipient', sa.String(length=320), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('error', sa.String(length=1000), nullable=True),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('sent_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['report_file_id'], ['report_file.id'],
                            name=op.f('fk_report_delivery_report_file_id_report_file'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_delivery')),
    sa.UniqueConstraint('report_file_id', 'recipient',
                        name=op.f('uq_report_delivery_report_file_id_recipient'))
    )
    with op.batch_alter_table('report_delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_delivery_report_file_id'),
                              ['report_file_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('report_delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_delivery_report_file_id'))
    op.drop_table('report_delivery')
