"""contests: tracks, criteria, experts, applications, attachments, conflicts, reviews

Revision ID: 0018_contests
Revises: 0017_participation
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import otklik.db.types

revision: str = '0018_contests'
down_revision: str | None = '0017_participation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('contest',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('description', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('aggregation', sa.String(length=16), nullable=False),
    sa.Column('outlier_points', sa.Float(), nullable=False),
    sa.Column('opens_on', sa.Date(), nullable=True),
    sa.Column('closes_on', sa.Date(), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_contest_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest'))
    )
    with op.batch_alter_table('contest', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contest_region_code'), ['region_code'], unique=False)

    op.create_table('contest_criterion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('scale_max', sa.Integer(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contest.id'], name=op.f('fk_contest_criterion_contest_id_contest'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest_criterion'))
    )
    with op.batch_alter_table('contest_criterion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contest_criterion_contest_id'), ['contest_id'], unique=False)

    op.create_table('contest_track',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=255), nullable=False),
    sa.Column('budget_rub', sa.BigInteger(), nullable=False),
    sa.Column('grant_min_rub', sa.BigInteger(), nullable=False),
    sa.Column('grant_max_rub', sa.BigInteger(), nullable=False),
    sa.Column('winners', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contest.id'], name=op.f('fk_contest_track_contest_id_contest'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest_track'))
    )
    with op.batch_alter_table('contest_track', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contest_track_contest_id'), ['contest_id'], unique=False)

    op.create_table('contest_application',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('contest_id', sa.Integer(), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('applicant', sa.String(length=255), nullable=False),
    sa.Column('contact', sa.String(length=255), nullable=False),
    sa.Column('title', sa.String(length=500), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('requested_rub', sa.BigInteger(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_ref', sa.String(length=64), nullable=True),
    sa.Column('submitted_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['contest_id'], ['contest.id'], name=op.f('fk_contest_application_contest_id_contest'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['track_id'], ['contest_track.id'], name=op.f('fk_contest_application_track_id_contest_track'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest_application')),
    sa.UniqueConstraint('contest_id', 'source_ref', name=op.f('uq_contest_application_contest_id_source_ref'))
    )
    with op.batch_alter_table('contest_application', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contest_application_contest_id'), ['contest_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contest_application_track_id'), ['track_id'], unique=False)

    op.create_table('contest_expert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('track_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['track_id'], ['contest_track.id'], name=op.f('fk_contest_expert_track_id_contest_track'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_contest_expert_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest_expert')),
    sa.UniqueConstraint('track_id', 'user_id', name=op.f('uq_contest_expert_track_id_user_id'))
    )
    with op.batch_alter_table('contest_expert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contest_expert_track_id'), ['track_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contest_expert_user_id'), ['user_id'], unique=False)

    op.create_table('contest_attachment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('content_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('stored_name', sa.String(length=64), nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['contest_application.id'], name=op.f('fk_contest_attachment_application_id_contest_application'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest_attachment')),
    sa.UniqueConstraint('stored_name', name=op.f('uq_contest_attachment_stored_name'))
    )
    with op.batch_alter_table('contest_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contest_attachment_application_id'), ['application_id'], unique=False)

    op.create_table('contest_conflict',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['contest_application.id'], name=op.f('fk_contest_conflict_application_id_contest_application'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_contest_conflict_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest_conflict')),
    sa.UniqueConstraint('application_id', 'user_id', name=op.f('uq_contest_conflict_application_id_user_id'))
    )
    with op.batch_alter_table('contest_conflict', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contest_conflict_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contest_conflict_user_id'), ['user_id'], unique=False)

    op.create_table('contest_review',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('scores', otklik.db.types.JSONType, nullable=False),
    sa.Column('total', sa.Float(), nullable=False),
    sa.Column('comment', sa.Text(), nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['application_id'], ['contest_application.id'], name=op.f('fk_contest_review_application_id_contest_application'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_contest_review_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_contest_review')),
    sa.UniqueConstraint('application_id', 'user_id', name=op.f('uq_contest_review_application_id_user_id'))
    )
    with op.batch_alter_table('contest_review', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_contest_review_application_id'), ['application_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_contest_review_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('contest_review', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contest_review_user_id'))
        batch_op.drop_index(batch_op.f('ix_contest_review_application_id'))

    op.drop_table('contest_review')
    with op.batch_alter_table('contest_conflict', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contest_conflict_user_id'))
        batch_op.drop_index(batch_op.f('ix_contest_conflict_application_id'))

    op.drop_table('contest_conflict')
    with op.batch_alter_table('contest_attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contest_attachment_application_id'))

    op.drop_table('contest_attachment')
    with op.batch_alter_table('contest_expert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contest_expert_user_id'))
        batch_op.drop_index(batch_op.f('ix_contest_expert_track_id'))

    op.drop_table('contest_expert')
    with op.batch_alter_table('contest_application', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contest_application_track_id'))
        batch_op.drop_index(batch_op.f('ix_contest_application_contest_id'))

    op.drop_table('contest_application')
    with op.batch_alter_table('contest_track', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contest_track_contest_id'))

    op.drop_table('contest_track')
    with op.batch_alter_table('contest_criterion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contest_criterion_contest_id'))

    op.drop_table('contest_criterion')
    with op.batch_alter_table('contest', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_contest_region_code'))

    op.drop_table('contest')
