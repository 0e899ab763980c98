"""analytics: coarser rollups, case rollup, report schedules

Revision ID: 0006_analytics
Revises: 0005_workspace
Create Date: 2026-11-29 05:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import otklik.db.types

revision: str = '0006_analytics'
down_revision: str | None = '0005_workspace'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_TYPE = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), 'postgresql')


def upgrade() -> None:
    op.create_table('case_daily_stat',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('executor_id', sa.Integer(), nullable=True),
    sa.Column('region_code', sa.String(length=3), nullable=True),
    sa.Column('municipality_id', sa.Integer(), nullable=True),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=True),
    sa.Column('cases', sa.Integer(), nullable=False),
    sa.Column('rejected', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.Column('on_time', sa.Integer(), nullable=False),
    sa.Column('answered_late', sa.Integer(), nullable=False),
    sa.Column('with_answer', sa.Integer(), nullable=False),
    sa.Column('brush_offs', sa.Integer(), nullable=False),
    sa.Column('reopened', sa.Integer(), nullable=False),
    *[sa.Column(f'{kind}_h{i}', sa.Integer(), nullable=False)
      for kind in ('first', 'resolution') for i in range(13)],
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_daily_stat'))
    )
    with op.batch_alter_table('case_daily_stat', schema=None) as batch_op:
        batch_op.create_index('ix_case_daily_stat_day', ['day'], unique=False)
        batch_op.create_index('ix_case_daily_stat_region_day', ['region_code', 'day'], unique=False)

    op.create_table('message_monthly_stat',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('month', sa.Date(), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=True),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('sentiment', sa.String(length=16), nullable=True),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_monthly_stat'))
    )
    with op.batch_alter_table('message_monthly_stat', schema=None) as batch_op:
        batch_op.create_index('ix_message_monthly_stat_month', ['month'], unique=False)
        batch_op.create_index('ix_message_monthly_stat_region_month', ['region_code', 'month'], unique=False)

    op.create_table('message_okrug_daily_stat',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('okrug', sa.String(length=64), nullable=True),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('sentiment', sa.String(length=16), nullable=True),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_okrug_daily_stat'))
    )
    with op.batch_alter_table('message_okrug_daily_stat', schema=None) as batch_op:
        batch_op.create_index('ix_message_okrug_daily_stat_day', ['day'], unique=False)

    op.create_table('problem_daily_stat',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('problem_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=True),
    sa.Column('municipality_id', sa.Integer(), nullable=True),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('messages', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_problem_daily_stat'))
    )
    with op.batch_alter_table('problem_daily_stat', schema=None) as batch_op:
        batch_op.create_index('ix_problem_daily_stat_day', ['day'], unique=False)
        batch_op.create_index('ix_problem_daily_stat_region_day', ['region_code', 'day'], unique=False)

    op.create_table('report_schedule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=True),
    sa.Column('okrug', sa.String(length=64), nullable=True),
    sa.Column('period_kind', sa.String(length=8), nullable=False),
    sa.Column('formats', JSON_TYPE, nullable=False),
    sa.Column('recipients', sa.String(length=1000), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('last_period', sa.String(length=16), nullable=True),
    sa.Column('last_run_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_report_schedule_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_schedule'))
    )
    with op.batch_alter_table('report_schedule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_schedule_region_code'), ['region_code'], unique=False)

    op.create_table('report_file',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('schedule_id', sa.Integer(), nullable=True),
    sa.Column('region_code', sa.String(length=3), nullable=True),
    sa.Column('period', sa.String(length=16), nullable=False),
    sa.Column('fmt', sa.String(length=8), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['schedule_id'], ['report_schedule.id'], name=op.f('fk_report_file_schedule_id_report_schedule'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_report_file')),
    sa.UniqueConstraint('schedule_id', 'region_code', 'period', 'fmt', name=op.f('uq_report_file_schedule_id_region_code_period_fmt'))
    )
    with op.batch_alter_table('report_file', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_file_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_file_schedule_id'), ['schedule_id'], unique=False)

    with op.batch_alter_table('message_enrichment', schema=None) as batch_op:
        batch_op.create_index('ix_message_enrichment_enriched_at', ['enriched_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('message_enrichment', schema=None) as batch_op:
        batch_op.drop_index('ix_message_enrichment_enriched_at')
    with op.batch_alter_table('report_file', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_file_schedule_id'))
        batch_op.drop_index(batch_op.f('ix_report_file_region_code'))
    op.drop_table('report_file')
    with op.batch_alter_table('report_schedule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_schedule_region_code'))
    op.drop_table('report_schedule')
    with op.batch_alter_table('message_monthly_stat', schema=None) as batch_op:
        batch_op.drop_index('ix_message_monthly_stat_region_month')
        batch_op.drop_index('ix_message_monthly_stat_month')
    op.drop_table('message_monthly_stat')
    with op.batch_alter_table('problem_daily_stat', schema=None) as batch_op:
        batch_op.drop_index('ix_problem_daily_stat_region_day')
        batch_op.drop_index('ix_problem_daily_stat_day')
    op.drop_table('problem_daily_stat')
    with op.batch_alter_table('message_okrug_daily_stat', schema=None) as batch_op:
        batch_op.drop_index('ix_message_okrug_daily_stat_day')
    op.drop_table('message_okrug_daily_stat')
    with op.batch_alter_table('case_daily_stat', schema=None) as batch_op:
        batch_op.drop_index('ix_case_daily_stat_region_day')
        batch_op.drop_index('ix_case_daily_stat_day')
    op.drop_table('case_daily_stat')
