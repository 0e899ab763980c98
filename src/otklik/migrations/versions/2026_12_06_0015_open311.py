"""Open311 requests, API keys for integrators (api_token without a user, with a region), residents' photos

Revision ID: 0015_open311
Revises: 0014_fakes
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import otklik.db.types

revision: str = '0015_open311'
down_revision: str | None = '0014_fakes'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BIG_ID = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column('region_code', sa.String(length=3), nullable=True))
    op.create_table('photo',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('message_id', BIG_ID, nullable=True),
    sa.Column('key', sa.String(length=96), nullable=False),
    sa.Column('content_type', sa.String(length=32), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('width', sa.Integer(), nullable=False),
    sa.Column('height', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('origin', sa.String(length=16), nullable=False),
    sa.Column('gps_lat', sa.Float(), nullable=True),
    sa.Column('gps_lon', sa.Float(), nullable=True),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'],
                            name=op.f('fk_photo_message_id_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_photo')),
    sa.UniqueConstraint('key', name=op.f('uq_photo_key'))
    )
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_photo_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_photo_sha256'), ['sha256'], unique=False)
    op.create_table('open311_request',
    sa.Column('id', BIG_ID, nullable=False),
    sa.Column('token', sa.String(length=64), nullable=False),
    sa.Column('message_id', BIG_ID, nullable=False),
    sa.Column('api_token_id', sa.Integer(), nullable=True),
    sa.Column('dedupe_key', sa.String(length=64), nullable=False),
    sa.Column('service_code', sa.String(length=64), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=False),
    sa.Column('attributes', otklik.db.types.JSONType, nullable=False),
    sa.Column('reporter', otklik.db.types.JSONType, nullable=False),
    sa.Column('address_string', sa.String(length=255), nullable=True),
    sa.Column('address_id', sa.String(length=64), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('media_url', sa.String(length=1000), nullable=True),
    sa.Column('photos', sa.Integer(), nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['api_token_id'], ['api_token.id'],
                            name=op.f('fk_open311_request_api_token_id_api_token'),
                            ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'],
                            name=op.f('fk_open311_request_message_id_message'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_open311_request')),
    sa.UniqueConstraint('token', name=op.f('uq_open311_request_token'))
    )
    with op.batch_alter_table('open311_request', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_open311_request_api_token_id'), ['api_token_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_open311_request_dedupe_key'), ['dedupe_key'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_open311_request_message_id'), ['message_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_open311_request_region_code'), ['region_code'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('open311_request', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_open311_request_region_code'))
        batch_op.drop_index(batch_op.f('ix_open311_request_message_id'))
        batch_op.drop_index(batch_op.f('ix_open311_request_dedupe_key'))
        batch_op.drop_index(batch_op.f('ix_open311_request_api_token_id'))
    op.drop_table('open311_request')
    with op.batch_alter_table('photo', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_photo_sha256'))
        batch_op.drop_index(batch_op.f('ix_photo_message_id'))
    op.drop_table('photo')
    op.execute("DELETE FROM api_token WHERE user_id IS NULL")
    with op.batch_alter_table('api_token', schema=None) as batch_op:
        batch_op.drop_column('region_code')
        batch_op.alter_column('user_id', existing_type=sa.Integer(), nullable=False)
