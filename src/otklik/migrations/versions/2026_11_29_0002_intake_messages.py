"""intake messages

Revision ID: 0002_intake_messages
Revises: 0001_foundation
Create Date: 2026-11-29 02:27:37.907483
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import otklik.db.types

revision: str = '0002_intake_messages'
down_revision: str | None = '0001_foundation'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('connector',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=True),
    sa.Column('config', otklik.db.types.JSONType, nullable=False),
    sa.Column('cursor', otklik.db.types.JSONType, nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('last_run_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_success_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('error_count', sa.Integer(), nullable=False),
    sa.Column('messages_total', sa.BigInteger(), nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_connector')),
    sa.UniqueConstraint('name', name=op.f('uq_connector_name'))
    )
    with op.batch_alter_table('connector', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_connector_region_code'), ['region_code'], unique=False)

    op.create_table('intake_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('connector_id', sa.Integer(), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.Column('context', otklik.db.types.JSONType, nullable=False),
    sa.ForeignKeyConstraint(['connector_id'], ['connector.id'], name=op.f('fk_intake_event_connector_id_connector'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_intake_event'))
    )
    with op.batch_alter_table('intake_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_intake_event_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_intake_event_connector_id'), ['connector_id'], unique=False)

    op.create_table('message',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.String(length=255), nullable=False),
    sa.Column('parent_source_id', sa.String(length=255), nullable=True),
    sa.Column('parent_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('owner_id', sa.String(length=64), nullable=True),
    sa.Column('post_id', sa.String(length=64), nullable=True),
    sa.Column('comment_id', sa.String(length=64), nullable=True),
    sa.Column('channel', sa.String(length=255), nullable=True),
    sa.Column('connector_id', sa.Integer(), nullable=True),
    sa.Column('region_code', sa.String(length=3), nullable=True),
    sa.Column('author_id', sa.String(length=255), nullable=True),
    sa.Column('author_key', sa.String(length=32), nullable=True),
    sa.Column('author_name', sa.String(length=255), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('text_length', sa.Integer(), nullable=False),
    sa.Column('text_truncated', sa.Boolean(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=True),
    sa.Column('attachments', otklik.db.types.JSONType, nullable=False),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('reach', otklik.db.types.JSONType, nullable=True),
    sa.Column('raw', otklik.db.types.JSONType, nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('edited_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('deleted_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('enrich_status', sa.String(length=16), nullable=False),
    sa.ForeignKeyConstraint(['connector_id'], ['connector.id'], name=op.f('fk_message_connector_id_connector'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['parent_id'], ['message.id'], name=op.f('fk_message_parent_id_message'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message')),
    sa.UniqueConstraint('source', 'source_id', name=op.f('uq_message_source_source_id'))
    )
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_author_key'), ['author_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_connector_id'), ['connector_id'], unique=False)
        batch_op.create_index('ix_message_created_at', ['created_at'], unique=False)
        batch_op.create_index('ix_message_enrich_status', ['enrich_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_parent_id'), ['parent_id'], unique=False)
        batch_op.create_index('ix_message_orphans', ['source', 'parent_source_id'], unique=False, postgresql_where=sa.text('parent_id IS NULL AND parent_source_id IS NOT NULL'), sqlite_where=sa.text('parent_id IS NULL AND parent_source_id IS NOT NULL'))
        batch_op.create_index(batch_op.f('ix_message_region_code'), ['region_code'], unique=False)
        batch_op.create_index('ix_message_region_created', ['region_code', 'created_at'], unique=False)

    op.create_table('message_enrichment',
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('relevant', sa.Boolean(), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=True),
    sa.Column('language', sa.String(length=16), nullable=True),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('subtopic', sa.String(length=64), nullable=True),
    sa.Column('topic_confidence', sa.Float(), nullable=True),
    sa.Column('sentiment', sa.String(length=16), nullable=True),
    sa.Column('urgency', sa.String(length=16), nullable=True),
    sa.Column('region_code', sa.String(length=3), nullable=True),
    sa.Column('municipality_id', sa.Integer(), nullable=True),
    sa.Column('settlement_id', sa.Integer(), nullable=True),
    sa.Column('street', sa.String(length=255), nullable=True),
    sa.Column('house', sa.String(length=32), nullable=True),
    sa.Column('dedup_key', sa.String(length=192), nullable=True),
    sa.Column('duplicate_of_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('model_version', sa.String(length=64), nullable=True),
    sa.Column('result', otklik.db.types.JSONType, nullable=False),
    sa.Column('enriched_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['message.id'], name=op.f('fk_message_enrichment_duplicate_of_id_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_message_enrichment_message_id_message'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['municipality_id'], ['territory.id'], name=op.f('fk_message_enrichment_municipality_id_territory'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['settlement_id'], ['territory.id'], name=op.f('fk_message_enrichment_settlement_id_territory'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_message_enrichment'))
    )
    with op.batch_alter_table('message_enrichment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_enrichment_dedup_key'), ['dedup_key'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_enrichment_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_enrichment_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_message_enrichment_topic'), ['topic'], unique=False)

    op.create_table('message_revision',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('content_hash', sa.String(length=64), nullable=False),
    sa.Column('raw', otklik.db.types.JSONType, nullable=False),
    sa.Column('valid_until', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_message_revision_message_id_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_message_revision'))
    )
    with op.batch_alter_table('message_revision', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_revision_message_id'), ['message_id'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('message_revision', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_revision_message_id'))

    op.drop_table('message_revision')
    with op.batch_alter_table('message_enrichment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_enrichment_topic'))
        batch_op.drop_index(batch_op.f('ix_message_enrichment_region_code'))
        batch_op.drop_index(batch_op.f('ix_message_enrichment_municipality_id'))
        batch_op.drop_index(batch_op.f('ix_message_enrichment_dedup_key'))

    op.drop_table('message_enrichment')
    with op.batch_alter_table('message', schema=None) as batch_op:
        batch_op.drop_index('ix_message_region_created')
        batch_op.drop_index(batch_op.f('ix_message_region_code'))
        batch_op.drop_index('ix_message_orphans', postgresql_where=sa.text('parent_id IS NULL AND parent_source_id IS NOT NULL'), sqlite_where=sa.text('parent_id IS NULL AND parent_source_id IS NOT NULL'))
        batch_op.drop_index(batch_op.f('ix_message_parent_id'))
        batch_op.drop_index('ix_message_enrich_status')
        batch_op.drop_index('ix_message_created_at')
        batch_op.drop_index(batch_op.f('ix_message_connector_id'))
        batch_op.drop_index(batch_op.f('ix_message_author_key'))

    op.drop_table('message')
    with op.batch_alter_table('intake_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_intake_event_connector_id'))
        batch_op.drop_index(batch_op.f('ix_intake_event_at'))

    op.drop_table('intake_event')
    with op.batch_alter_table('connector', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_connector_region_code'))

    op.drop_table('connector')

