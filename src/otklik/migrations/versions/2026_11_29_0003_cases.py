"""cases

Revision ID: 0003_cases
Revises: 0002_intake_messages
Create Date: 2026-11-29 02:45:04.919526
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import otklik.db.types

revision: str = '0003_cases'
down_revision: str | None = '0002_intake_messages'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table('calendar_exception',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=True),
    sa.Column('day', sa.String(length=10), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_calendar_exception')),
    sa.UniqueConstraint('region_code', 'day', name=op.f('uq_calendar_exception_region_code_day'))
    )
    with op.batch_alter_table('calendar_exception', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_calendar_exception_region_code'), ['region_code'], unique=False)

    op.create_table('deadline_policy',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=True),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('policy', otklik.db.types.JSONType, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deadline_policy'))
    )
    with op.batch_alter_table('deadline_policy', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deadline_policy_region_code'), ['region_code'], unique=False)

    op.create_table('model_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('label_field', sa.String(length=32), nullable=False),
    sa.Column('version', sa.String(length=64), nullable=False),
    sa.Column('path', sa.String(length=1000), nullable=False),
    sa.Column('metrics', otklik.db.types.JSONType, nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('activated_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('accuracy', sa.Float(), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_model_version')),
    sa.UniqueConstraint('version', name=op.f('uq_model_version_version'))
    )
    with op.batch_alter_table('model_version', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_model_version_label_field'), ['label_field'], unique=False)

    op.create_table('problem',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('subtopic', sa.String(length=64), nullable=True),
    sa.Column('municipality_id', sa.Integer(), nullable=True),
    sa.Column('settlement_id', sa.Integer(), nullable=True),
    sa.Column('street', sa.String(length=255), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('first_seen', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('state', otklik.db.types.JSONType, nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['municipality_id'], ['territory.id'], name=op.f('fk_problem_municipality_id_territory'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['settlement_id'], ['territory.id'], name=op.f('fk_problem_settlement_id_territory'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_problem'))
    )
    with op.batch_alter_table('problem', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_problem_last_seen'), ['last_seen'], unique=False)
        batch_op.create_index(batch_op.f('ix_problem_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_problem_region_code'), ['region_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_problem_topic'), ['topic'], unique=False)

    op.create_table('routing_rule',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('subtopic', sa.String(length=64), nullable=True),
    sa.Column('territory_id', sa.Integer(), nullable=True),
    sa.Column('executor_id', sa.Integer(), nullable=False),
    sa.Column('enabled', sa.Boolean(), nullable=False),
    sa.Column('note', sa.String(length=255), nullable=True),
    sa.ForeignKeyConstraint(['executor_id'], ['organization.id'], name=op.f('fk_routing_rule_executor_id_organization'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['territory_id'], ['territory.id'], name=op.f('fk_routing_rule_territory_id_territory'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_routing_rule'))
    )
    with op.batch_alter_table('routing_rule', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_routing_rule_region_code'), ['region_code'], unique=False)

    op.create_table('case',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=True),
    sa.Column('status', sa.Enum('new', 'triage', 'routed', 'in_work', 'clarification', 'answer_drafted', 'on_moderation', 'answered', 'closed', 'rejected', name='case_status', native_enum=False, length=16), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('subtopic', sa.String(length=64), nullable=True),
    sa.Column('kind', sa.String(length=32), nullable=True),
    sa.Column('urgency', sa.String(length=16), nullable=False),
    sa.Column('sentiment', sa.String(length=16), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=True),
    sa.Column('municipality_id', sa.Integer(), nullable=True),
    sa.Column('settlement_id', sa.Integer(), nullable=True),
    sa.Column('street', sa.String(length=255), nullable=True),
    sa.Column('house', sa.String(length=32), nullable=True),
    sa.Column('executor_id', sa.Integer(), nullable=True),
    sa.Column('problem_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('problem_pinned', sa.Boolean(), nullable=False),
    sa.Column('merged_into_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('routing', otklik.db.types.JSONType, nullable=False),
    sa.Column('received_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('routed_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_response_due', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('resolution_due', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('warn_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('first_response_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('answered_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('closed_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('paused_since', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('pauses', otklik.db.types.JSONType, nullable=False),
    sa.Column('clarification_due', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('escalation_level', sa.Integer(), nullable=False),
    sa.Column('reopen_count', sa.Integer(), nullable=False),
    sa.Column('handback_count', sa.Integer(), nullable=False),
    sa.Column('reject_reason', sa.String(length=32), nullable=True),
    sa.Column('rating', sa.Integer(), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['executor_id'], ['organization.id'], name=op.f('fk_case_executor_id_organization'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['merged_into_id'], ['case.id'], name=op.f('fk_case_merged_into_id_case'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['municipality_id'], ['territory.id'], name=op.f('fk_case_municipality_id_territory'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_case_problem_id_problem'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['settlement_id'], ['territory.id'], name=op.f('fk_case_settlement_id_territory'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case'))
    )
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_executor_id'), ['executor_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_municipality_id'), ['municipality_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_problem_id'), ['problem_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_region_code'), ['region_code'], unique=False)
        batch_op.create_index('ix_case_region_received', ['region_code', 'received_at'], unique=False)
        batch_op.create_index('ix_case_region_status_due', ['region_code', 'status', 'resolution_due'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_resolution_due'), ['resolution_due'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_status'), ['status'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_topic'), ['topic'], unique=False)

    op.create_table('answer',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('problem_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('quality', otklik.db.types.JSONType, nullable=False),
    sa.Column('moderator_id', sa.Integer(), nullable=True),
    sa.Column('moderation_comment', sa.Text(), nullable=True),
    sa.Column('signature', sa.String(length=192), nullable=True),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('approved_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('published_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_answer_author_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_answer_case_id_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['moderator_id'], ['user_account.id'], name=op.f('fk_answer_moderator_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_answer_organization_id_organization'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_answer_problem_id_problem'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_answer'))
    )
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_answer_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_answer_organization_id'), ['organization_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_answer_problem_id'), ['problem_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_answer_status'), ['status'], unique=False)

    op.create_table('case_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=32), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=True),
    sa.Column('details', otklik.db.types.JSONType, nullable=False),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_case_event_actor_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_case_event_case_id_case'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_event'))
    )
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_event_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_case_event_kind'), ['kind'], unique=False)

    op.create_table('case_message',
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('is_primary', sa.Boolean(), nullable=False),
    sa.Column('added_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_case_message_case_id_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_case_message_message_id_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('message_id', name=op.f('pk_case_message'))
    )
    with op.batch_alter_table('case_message', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_message_case_id'), ['case_id'], unique=False)

    op.create_table('extension',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('requested_by', sa.Integer(), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('requested_until', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decided_by', sa.Integer(), nullable=True),
    sa.Column('decided_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_extension_case_id_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['decided_by'], ['user_account.id'], name=op.f('fk_extension_decided_by_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['requested_by'], ['user_account.id'], name=op.f('fk_extension_requested_by_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_extension'))
    )
    with op.batch_alter_table('extension', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_extension_case_id'), ['case_id'], unique=False)

    op.create_table('label',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('field', sa.String(length=32), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.Column('previous', sa.String(length=255), nullable=True),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_label_author_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_label_case_id_case'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_label_message_id_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_label'))
    )
    with op.batch_alter_table('label', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_label_case_id'), ['case_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_label_field'), ['field'], unique=False)
        batch_op.create_index(batch_op.f('ix_label_message_id'), ['message_id'], unique=False)

    op.create_table('publication',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('answer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=32), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.Column('published_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['answer_id'], ['answer.id'], name=op.f('fk_publication_answer_id_answer'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_publication_message_id_message'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_publication')),
    sa.UniqueConstraint('answer_id', 'message_id', name=op.f('uq_publication_answer_id_message_id'))
    )
    with op.batch_alter_table('publication', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_publication_message_id'), ['message_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_publication_status'), ['status'], unique=False)




def downgrade() -> None:

    with op.batch_alter_table('publication', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_publication_status'))
        batch_op.drop_index(batch_op.f('ix_publication_message_id'))

    op.drop_table('publication')
    with op.batch_alter_table('label', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_label_message_id'))
        batch_op.drop_index(batch_op.f('ix_label_field'))
        batch_op.drop_index(batch_op.f('ix_label_case_id'))

    op.drop_table('label')
    with op.batch_alter_table('extension', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_extension_case_id'))

    op.drop_table('extension')
    with op.batch_alter_table('case_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_message_case_id'))

    op.drop_table('case_message')
    with op.batch_alter_table('case_event', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_event_kind'))
        batch_op.drop_index(batch_op.f('ix_case_event_case_id'))

    op.drop_table('case_event')
    with op.batch_alter_table('answer', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_answer_status'))
        batch_op.drop_index(batch_op.f('ix_answer_problem_id'))
        batch_op.drop_index(batch_op.f('ix_answer_organization_id'))
        batch_op.drop_index(batch_op.f('ix_answer_case_id'))

    op.drop_table('answer')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_topic'))
        batch_op.drop_index(batch_op.f('ix_case_status'))
        batch_op.drop_index(batch_op.f('ix_case_resolution_due'))
        batch_op.drop_index('ix_case_region_status_due')
        batch_op.drop_index('ix_case_region_received')
        batch_op.drop_index(batch_op.f('ix_case_region_code'))
        batch_op.drop_index(batch_op.f('ix_case_problem_id'))
        batch_op.drop_index(batch_op.f('ix_case_municipality_id'))
        batch_op.drop_index(batch_op.f('ix_case_executor_id'))

    op.drop_table('case')
    with op.batch_alter_table('routing_rule', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_routing_rule_region_code'))

    op.drop_table('routing_rule')
    with op.batch_alter_table('problem', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_problem_topic'))
        batch_op.drop_index(batch_op.f('ix_problem_region_code'))
        batch_op.drop_index(batch_op.f('ix_problem_municipality_id'))
        batch_op.drop_index(batch_op.f('ix_problem_last_seen'))

    op.drop_table('problem')
    with op.batch_alter_table('model_version', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_model_version_label_field'))

    op.drop_table('model_version')
    with op.batch_alter_table('deadline_policy', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deadline_policy_region_code'))

    op.drop_table('deadline_policy')
    with op.batch_alter_table('calendar_exception', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_calendar_exception_region_code'))

    op.drop_table('calendar_exception')

