"""the fakes registry, its revisions, copies, suspects, replies and the registry's version

Revision ID: 0014_fakes
Revises: 0013_incidents
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import otklik.db.types

revision: str = '0014_fakes'
down_revision: str | None = '0013_incidents'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), 'sqlite')


def upgrade() -> None:
    state = op.create_table('fake_registry_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fake_registry_state'))
    )
    op.bulk_insert(state, [{'id': 1, 'version': 0}])
    op.create_table('fake',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=False),
    sa.Column('claim', sa.Text(), nullable=False),
    sa.Column('key_phrases', otklik.db.types.JSONType, nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('territory_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('refutation_text', sa.Text(), nullable=True),
    sa.Column('refutation_url', sa.String(length=1000), nullable=True),
    sa.Column('refutation_date', sa.Date(), nullable=True),
    sa.Column('refutation_state', sa.String(length=16), nullable=False),
    sa.Column('refutation_author_id', sa.Integer(), nullable=True),
    sa.Column('refutation_approver_id', sa.Integer(), nullable=True),
    sa.Column('refutation_approved_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_seen_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_fake_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['refutation_approver_id'], ['user_account.id'], name=op.f('fk_fake_refutation_approver_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['refutation_author_id'], ['user_account.id'], name=op.f('fk_fake_refutation_author_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['territory_id'], ['territory.id'], name=op.f('fk_fake_territory_id_territory'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fake'))
    )
    with op.batch_alter_table('fake', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fake_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_fake_status'), ['status'], unique=False)

    op.create_table('fake_copy',
    sa.Column('id', BigId, nullable=False),
    sa.Column('fake_id', sa.Integer(), nullable=False),
    sa.Column('message_id', BigId, nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('origin', sa.Boolean(), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('channel', sa.String(length=255), nullable=True),
    sa.Column('author_key', sa.String(length=32), nullable=True),
    sa.Column('views', sa.BigInteger(), nullable=False),
    sa.Column('reposts', sa.BigInteger(), nullable=False),
    sa.Column('subscribers', sa.BigInteger(), nullable=False),
    sa.Column('reach', sa.BigInteger(), nullable=False),
    sa.Column('posted_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('matched_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['fake_id'], ['fake.id'], name=op.f('fk_fake_copy_fake_id_fake'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_fake_copy_message_id_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fake_copy')),
    sa.UniqueConstraint('fake_id', 'message_id', name=op.f('uq_fake_copy_fake_id_message_id'))
    )
    with op.batch_alter_table('fake_copy', schema=None) as batch_op:
        batch_op.create_index('ix_fake_copy_fake_posted', ['fake_id', 'posted_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_fake_copy_message_id'), ['message_id'], unique=False)

    op.create_table('fake_reply',
    sa.Column('id', BigId, nullable=False),
    sa.Column('fake_id', sa.Integer(), nullable=False),
    sa.Column('message_id', BigId, nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('published_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['fake_id'], ['fake.id'], name=op.f('fk_fake_reply_fake_id_fake'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_fake_reply_message_id_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fake_reply')),
    sa.UniqueConstraint('fake_id', 'message_id', name=op.f('uq_fake_reply_fake_id_message_id'))
    )
    op.create_table('fake_revision',
    sa.Column('id', BigId, nullable=False),
    sa.Column('fake_id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('action', sa.String(length=32), nullable=False),
    sa.Column('changes', otklik.db.types.JSONType, nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_fake_revision_actor_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['fake_id'], ['fake.id'], name=op.f('fk_fake_revision_fake_id_fake'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fake_revision')),
    sa.UniqueConstraint('fake_id', 'number', name=op.f('uq_fake_revision_fake_id_number'))
    )
    op.create_table('fake_suspect',
    sa.Column('id', BigId, nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=True),
    sa.Column('message_id', BigId, nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_hash', sa.String(length=64), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('score', sa.Float(), nullable=False),
    sa.Column('reasons', otklik.db.types.JSONType, nullable=False),
    sa.Column('authors', sa.Integer(), nullable=False),
    sa.Column('asked', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('fake_id', sa.Integer(), nullable=True),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['fake_id'], ['fake.id'], name=op.f('fk_fake_suspect_fake_id_fake'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_fake_suspect_message_id_message'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fake_suspect')),
    sa.UniqueConstraint('text_hash', name=op.f('uq_fake_suspect_text_hash'))
    )
    with op.batch_alter_table('fake_suspect', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fake_suspect_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_fake_suspect_status'), ['status'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('fake_suspect', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fake_suspect_status'))
        batch_op.drop_index(batch_op.f('ix_fake_suspect_region_code'))

    op.drop_table('fake_suspect')
    op.drop_table('fake_revision')
    op.drop_table('fake_reply')
    with op.batch_alter_table('fake_copy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fake_copy_message_id'))
        batch_op.drop_index('ix_fake_copy_fake_posted')

    op.drop_table('fake_copy')
    with op.batch_alter_table('fake', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fake_status'))
        batch_op.drop_index(batch_op.f('ix_fake_region_code'))

    op.drop_table('fake')
    op.drop_table('fake_registry_state')
