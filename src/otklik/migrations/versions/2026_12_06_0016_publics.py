"""official public pages: registry, daily snapshots, posts, comments, methodology versions, weekly ratings

Revision ID: 0016_publics
Revises: 0015_open311
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import otklik.db.types

revision: str = '0016_publics'
down_revision: str | None = '0015_open311'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('public_page',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=False),
    sa.Column('platform', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=128), nullable=False),
    sa.Column('url', sa.String(length=500), nullable=False),
    sa.Column('name', sa.String(length=500), nullable=False),
    sa.Column('owner_name', sa.String(length=500), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('municipality_id', sa.Integer(), nullable=True),
    sa.Column('page_type', sa.String(length=32), nullable=False),
    sa.Column('page_class', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('connector_id', sa.Integer(), nullable=True),
    sa.Column('cursor', otklik.db.types.JSONType, nullable=False),
    sa.Column('last_collected_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['connector_id'], ['connector.id'], name=op.f('fk_public_page_connector_id_connector'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['municipality_id'], ['territory.id'], name=op.f('fk_public_page_municipality_id_territory'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_public_page_organization_id_organization'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_public_page')),
    sa.UniqueConstraint('platform', 'external_id', name=op.f('uq_public_page_platform_external_id'))
    )
    with op.batch_alter_table('public_page', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_public_page_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_public_page_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_public_page_region_code'), ['region_code'], unique=False)
        batch_op.create_index('ix_public_page_region_type', ['region_code', 'page_type'], unique=False)

    op.create_table('page_comment',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.String(length=64), nullable=False),
    sa.Column('comment_id', sa.String(length=64), nullable=False),
    sa.Column('reply_to', sa.String(length=64), nullable=True),
    sa.Column('author_id', sa.String(length=64), nullable=True),
    sa.Column('from_page', sa.Boolean(), nullable=False),
    sa.Column('needs_answer', sa.Boolean(), nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['page_id'], ['public_page.id'], name=op.f('fk_page_comment_page_id_public_page'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page_comment')),
    sa.UniqueConstraint('page_id', 'comment_id', name=op.f('uq_page_comment_page_id_comment_id'))
    )
    with op.batch_alter_table('page_comment', schema=None) as batch_op:
        batch_op.create_index('ix_page_comment_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_page_comment_reply', ['page_id', 'reply_to'], unique=False)

    op.create_table('page_methodology',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_page_methodology_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page_methodology')),
    sa.UniqueConstraint('version', name=op.f('uq_page_methodology_version'))
    )
    op.create_table('page_post',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('post_id', sa.String(length=64), nullable=False),
    sa.Column('posted_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('views', sa.Integer(), nullable=False),
    sa.Column('likes', sa.Integer(), nullable=False),
    sa.Column('reposts', sa.Integer(), nullable=False),
    sa.Column('comments', sa.Integer(), nullable=False),
    sa.Column('pinned', sa.Boolean(), nullable=False),
    sa.Column('updated_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['page_id'], ['public_page.id'], name=op.f('fk_page_post_page_id_public_page'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page_post')),
    sa.UniqueConstraint('page_id', 'post_id', name=op.f('uq_page_post_page_id_post_id'))
    )
    with op.batch_alter_table('page_post', schema=None) as batch_op:
        batch_op.create_index('ix_page_post_posted_at', ['posted_at'], unique=False)

    op.create_table('page_snapshot',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('subscribers', sa.Integer(), nullable=True),
    sa.Column('facts', otklik.db.types.JSONType, nullable=False),
    sa.Column('facts_present', sa.Integer(), nullable=False),
    sa.Column('facts_total', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['page_id'], ['public_page.id'], name=op.f('fk_page_snapshot_page_id_public_page'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page_snapshot')),
    sa.UniqueConstraint('page_id', 'day', name=op.f('uq_page_snapshot_page_id_day'))
    )
    op.create_table('page_criterion',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('methodology_id', sa.Integer(), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('page_type', sa.String(length=32), nullable=False),
    sa.Column('page_class', sa.String(length=16), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.ForeignKeyConstraint(['methodology_id'], ['page_methodology.id'], name=op.f('fk_page_criterion_methodology_id_page_methodology'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page_criterion')),
    sa.UniqueConstraint('methodology_id', 'code', 'page_type', 'page_class', name=op.f('uq_page_criterion_methodology_id_code_page_type_page_class'))
    )
    with op.batch_alter_table('page_criterion', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_page_criterion_methodology_id'), ['methodology_id'], unique=False)

    op.create_table('page_rating',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('week', sa.String(length=8), nullable=False),
    sa.Column('page_id', sa.Integer(), nullable=False),
    sa.Column('methodology_id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=False),
    sa.Column('municipality_id', sa.Integer(), nullable=True),
    sa.Column('page_type', sa.String(length=32), nullable=False),
    sa.Column('page_class', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.Column('rank_municipality', sa.Integer(), nullable=True),
    sa.Column('rank_region', sa.Integer(), nullable=True),
    sa.Column('previous_rank', sa.Integer(), nullable=True),
    sa.Column('movement', sa.Integer(), nullable=True),
    sa.Column('computed_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['methodology_id'], ['page_methodology.id'], name=op.f('fk_page_rating_methodology_id_page_methodology'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['page_id'], ['public_page.id'], name=op.f('fk_page_rating_page_id_public_page'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_page_rating')),
    sa.UniqueConstraint('week', 'page_id', 'methodology_id', name=op.f('uq_page_rating_week_page_id_methodology_id'))
    )
    with op.batch_alter_table('page_rating', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_page_rating_methodology_id'), ['methodology_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_page_rating_page_id'), ['page_id'], unique=False)
        batch_op.create_index('ix_page_rating_week_region', ['week', 'region_code'], unique=False)

    op.create_table('page_rating_item',
    sa.Column('rating_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code', sa.String(length=32), nullable=False),
    sa.Column('value', sa.Float(), nullable=True),
    sa.Column('threshold', sa.Float(), nullable=False),
    sa.Column('weight', sa.Float(), nullable=False),
    sa.Column('score', sa.Float(), nullable=True),
    sa.ForeignKeyConstraint(['rating_id'], ['page_rating.id'], name=op.f('fk_page_rating_item_rating_id_page_rating'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('rating_id', 'code', name=op.f('pk_page_rating_item'))
    )


def downgrade() -> None:
    op.drop_table('page_rating_item')
    with op.batch_alter_table('page_rating', schema=None) as batch_op:
        batch_op.drop_index('ix_page_rating_week_region')
        batch_op.drop_index(batch_op.f('ix_page_rating_page_id'))
        batch_op.drop_index(batch_op.f('ix_page_rating_methodology_id'))

    op.drop_table('page_rating')
    with op.batch_alter_table('page_criterion', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_page_criterion_methodology_id'))

    op.drop_table('page_criterion')
    op.drop_table('page_snapshot')
    with op.batch_alter_table('page_post', schema=None) as batch_op:
        batch_op.drop_index('ix_page_post_posted_at')

    op.drop_table('page_post')
    op.drop_table('page_methodology')
    with op.batch_alter_table('page_comment', schema=None) as batch_op:
        batch_op.drop_index('ix_page_comment_reply')
        batch_op.drop_index('ix_page_comment_created_at')

    op.drop_table('page_comment')
    with op.batch_alter_table('public_page', schema=None) as batch_op:
        batch_op.drop_index('ix_public_page_region_type')
        batch_op.drop_index(batch_op.f('ix_public_page_region_code'))
        batch_op.drop_index(batch_op.f('ix_public_page_organization_id'))
        batch_op.drop_index(batch_op.f('ix_public_page_municipality_id'))

    op.drop_table('public_page')
