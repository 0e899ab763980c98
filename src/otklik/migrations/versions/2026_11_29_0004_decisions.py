"""decisions registry and the analytics rollup

Revision ID: 0004_decisions
Revises: 0003_cases
Create Date: 2026-11-29 03:09:18.222188
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import otklik.db.types

revision: str = '0004_decisions'
down_revision: str | None = '0003_cases'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('analytics_watermark',
    sa.Column('name', sa.String(length=32), nullable=False),
    sa.Column('value', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('name', name=op.f('pk_analytics_watermark'))
    )
    op.create_table('message_daily_stat',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=True),
    sa.Column('municipality_id', sa.Integer(), nullable=True),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('sentiment', sa.String(length=16), nullable=True),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_daily_stat'))
    )
    with op.batch_alter_table('message_daily_stat', schema=None) as batch_op:
        batch_op.create_index('ix_message_daily_stat_day', ['day'], unique=False)
        batch_op.create_index('ix_message_daily_stat_region_day', ['region_code', 'day'], unique=False)

    op.create_table('decision',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('decided_on', sa.Date(), nullable=False),
    sa.Column('decided_by', sa.String(length=255), nullable=False),
    sa.Column('budget_rub', sa.BigInteger(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('source_url', sa.String(length=1000), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_decision_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision'))
    )
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_decided_on'), ['decided_on'], unique=False)
        batch_op.create_index(batch_op.f('ix_decision_region_code'), ['region_code'], unique=False)
        batch_op.create_index('ix_decision_region_decided', ['region_code', 'decided_on'], unique=False)

    op.create_table('decision_link',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('decision_id', sa.Integer(), nullable=False),
    sa.Column('problem_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('territory_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['decision_id'], ['decision.id'], name=op.f('fk_decision_link_decision_id_decision'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_decision_link_problem_id_problem'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['territory_id'], ['territory.id'], name=op.f('fk_decision_link_territory_id_territory'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_decision_link'))
    )
    with op.batch_alter_table('decision_link', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_decision_link_decision_id'), ['decision_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_decision_link_problem_id'), ['problem_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('decision_link', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_decision_link_problem_id'))
        batch_op.drop_index(batch_op.f('ix_decision_link_decision_id'))

    op.drop_table('decision_link')
    with op.batch_alter_table('decision', schema=None) as batch_op:
        batch_op.drop_index('ix_decision_region_decided')
        batch_op.drop_index(batch_op.f('ix_decision_region_code'))
        batch_op.drop_index(batch_op.f('ix_decision_decided_on'))

    op.drop_table('decision')
    with op.batch_alter_table('message_daily_stat', schema=None) as batch_op:
        batch_op.drop_index('ix_message_daily_stat_region_day')
        batch_op.drop_index('ix_message_daily_stat_day')

    op.drop_table('message_daily_stat')
    op.drop_table('analytics_watermark')
