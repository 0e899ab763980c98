"""personal data: consents, anonymised messages; login throttling

Revision ID: 0022_pd
Revises: 0021_scale
Create Date: 2026-12-06 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import otklik.db.types

revision: str = '0022_pd'
down_revision: str | None = '0021_scale'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    op.create_table('pd_consent',
    sa.Column('id', BigId, nullable=False),
    sa.Column('message_id', BigId, nullable=True),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('author_key', sa.String(length=32), nullable=True),
    sa.Column('policy_version', sa.String(length=32), nullable=False),
    sa.Column('policy_url', sa.String(length=1000), nullable=False),
    sa.Column('given', sa.Boolean(), nullable=False),
    sa.Column('given_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'],
                            name=op.f('fk_pd_consent_message_id_message'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pd_consent'))
    )
    with op.batch_alter_table('pd_consent', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pd_consent_message_id'), ['message_id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_pd_consent_author_key'), ['author_key'],
                              unique=False)
    op.create_table('pd_anonymization',
    sa.Column('message_id', BigId, nullable=False),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'],
                            name=op.f('fk_pd_anonymization_message_id_message'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_pd_anonymization'))
    )
    with op.batch_alter_table('pd_anonymization', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_pd_anonymization_at'), ['at'], unique=False)
    op.create_table('login_throttle',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('key', sa.String(length=255), nullable=False),
    sa.Column('failures', sa.Integer(), nullable=False),
    sa.Column('window_started_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('locked_until', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_login_throttle')),
    sa.UniqueConstraint('kind', 'key', name=op.f('uq_login_throttle_kind_key'))
    )


def downgrade() -> None:
    op.drop_table('login_throttle')
    with op.batch_alter_table('pd_anonymization', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pd_anonymization_at'))
    op.drop_table('pd_anonymization')
    with op.batch_alter_table('pd_consent', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_pd_consent_author_key'))
        batch_op.drop_index(batch_op.f('ix_pd_consent_message_id'))
    op.drop_table('pd_consent')
