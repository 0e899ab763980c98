"""incidents, their messages and cases, timeline, public updates and channels, detector thresholds

Revision ID: 0013_incidents
Revises: 0012_notify
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy import Text
from sqlalchemy.dialects import postgresql

import otklik.db.types

revision: str = '0013_incidents'
down_revision: str | None = '0012_notify'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('incident_threshold',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=False),
    sa.Column('values', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('updated_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_threshold')),
    sa.UniqueConstraint('region_code', 'topic', name=op.f('uq_incident_threshold_region_code_topic'))
    )
    op.create_table('incident_channel',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=False),
    sa.Column('connector_id', sa.Integer(), nullable=False),
    sa.Column('target_source_id', sa.String(length=255), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['connector_id'], ['connector.id'], name=op.f('fk_incident_channel_connector_id_connector'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_channel'))
    )
    with op.batch_alter_table('incident_channel', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_channel_region_code'), ['region_code'], unique=False)

    op.create_table('incident',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('hazard', sa.String(length=32), nullable=True),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('subtopic', sa.String(length=64), nullable=True),
    sa.Column('region_code', sa.String(length=3), nullable=True),
    sa.Column('municipality_id', sa.Integer(), nullable=True),
    sa.Column('settlement_id', sa.Integer(), nullable=True),
    sa.Column('street', sa.String(length=255), nullable=True),
    sa.Column('territory_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('status', sa.Enum('open', 'acknowledged', 'in_work', 'resolved', 'closed', 'merged', name='incident_status', native_enum=False, length=16), nullable=False),
    sa.Column('people_affected', sa.Integer(), nullable=True),
    sa.Column('organization_ids', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('hq_person', sa.String(length=255), nullable=True),
    sa.Column('hq_user_id', sa.Integer(), nullable=True),
    sa.Column('opened_by', sa.String(length=128), nullable=False),
    sa.Column('signal_key', sa.String(length=255), nullable=True),
    sa.Column('signal', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('problem_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('merged_into_id', sa.Integer(), nullable=True),
    sa.Column('summary', sa.Text(), nullable=True),
    sa.Column('pending_answer', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=True),
    sa.Column('acknowledged_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('started_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closed_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['hq_user_id'], ['user_account.id'], name=op.f('fk_incident_hq_user_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['merged_into_id'], ['incident.id'], name=op.f('fk_incident_merged_into_id_incident'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['municipality_id'], ['territory.id'], name=op.f('fk_incident_municipality_id_territory'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_incident_problem_id_problem'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['settlement_id'], ['territory.id'], name=op.f('fk_incident_settlement_id_territory'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident')),
    sa.UniqueConstraint('signal_key', name=op.f('uq_incident_signal_key'))
    )
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_problem_id'), ['problem_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_region_code'), ['region_code'], unique=False)
        batch_op.create_index('ix_incident_region_status', ['region_code', 'status'], unique=False)
        batch_op.create_index('ix_incident_started', ['started_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_incident_topic'), ['topic'], unique=False)

    op.create_table('incident_case',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('added_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_incident_case_case_id_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_incident_case_incident_id_incident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id', 'case_id', name=op.f('pk_incident_case'))
    )
    with op.batch_alter_table('incident_case', schema=None) as batch_op:
        batch_op.create_index('ix_incident_case_case', ['case_id'], unique=False)

    op.create_table('incident_entry',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('author', sa.String(length=255), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('details', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.Column('dedup_key', sa.String(length=128), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_incident_entry_author_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_incident_entry_incident_id_incident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_entry')),
    sa.UniqueConstraint('incident_id', 'dedup_key', name=op.f('uq_incident_entry_incident_id_dedup_key'))
    )
    with op.batch_alter_table('incident_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_entry_incident_id'), ['incident_id'], unique=False)

    op.create_table('incident_message',
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('added_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_incident_message_incident_id_incident'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_incident_message_message_id_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('incident_id', 'message_id', name=op.f('pk_incident_message'))
    )
    with op.batch_alter_table('incident_message', schema=None) as batch_op:
        batch_op.create_index('ix_incident_message_message', ['message_id'], unique=False)

    op.create_table('incident_update',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('incident_id', sa.Integer(), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author', sa.String(length=255), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('deliveries', sa.JSON().with_variant(postgresql.JSONB(astext_type=Text()), 'postgresql'), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_incident_update_author_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['incident_id'], ['incident.id'], name=op.f('fk_incident_update_incident_id_incident'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_incident_update'))
    )
    with op.batch_alter_table('incident_update', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_incident_update_incident_id'), ['incident_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('incident_update', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_update_incident_id'))

    op.drop_table('incident_update')
    with op.batch_alter_table('incident_message', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_message_message')

    op.drop_table('incident_message')
    with op.batch_alter_table('incident_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_entry_incident_id'))

    op.drop_table('incident_entry')
    with op.batch_alter_table('incident_case', schema=None) as batch_op:
        batch_op.drop_index('ix_incident_case_case')

    op.drop_table('incident_case')
    with op.batch_alter_table('incident', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_topic'))
        batch_op.drop_index(batch_op.f('ix_incident_status'))
        batch_op.drop_index('ix_incident_started')
        batch_op.drop_index('ix_incident_region_status')
        batch_op.drop_index(batch_op.f('ix_incident_region_code'))
        batch_op.drop_index(batch_op.f('ix_incident_problem_id'))
        batch_op.drop_index(batch_op.f('ix_incident_municipality_id'))

    op.drop_table('incident')
    with op.batch_alter_table('incident_channel', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_incident_channel_region_code'))

    op.drop_table('incident_channel')
    op.drop_table('incident_threshold')
