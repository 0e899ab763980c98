"""direct lines (campaigns, questions, promises) and residents' proposals (with votes and steps)

Revision ID: 0017_participation
Revises: 0016_publics
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import otklik.db.types

revision: str = '0017_participation'
down_revision: str | None = '0016_publics'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('campaign',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('opens_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('closes_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('air_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('announcement_urls', otklik.db.types.JSONType, nullable=False),
    sa.Column('keywords', otklik.db.types.JSONType, nullable=False),
    sa.Column('finished_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_campaign_created_by_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign'))
    )
    op.create_index(op.f('ix_campaign_region_code'), 'campaign', ['region_code'], unique=False)
    op.create_table('campaign_question',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=True),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('author_key', sa.String(length=32), nullable=True),
    sa.Column('received_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('municipality_id', sa.Integer(), nullable=True),
    sa.Column('settlement_id', sa.Integer(), nullable=True),
    sa.Column('problem_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('urgency', sa.String(length=16), nullable=False),
    sa.Column('signature', sa.String(length=192), nullable=True),
    sa.Column('duplicate_of_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('supporters', sa.Integer(), nullable=False),
    sa.Column('picked', sa.Boolean(), nullable=False),
    sa.Column('pick_reasons', otklik.db.types.JSONType, nullable=False),
    sa.Column('pick_note', sa.String(length=500), nullable=True),
    sa.Column('confirmed', sa.Boolean(), nullable=False),
    sa.Column('confirmed_by_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('answer_text', sa.Text(), nullable=True),
    sa.Column('answered_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('control_case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_campaign_question_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_campaign_question_case_id_case'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['confirmed_by_id'], ['user_account.id'], name=op.f('fk_campaign_question_confirmed_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['control_case_id'], ['case.id'], name=op.f('fk_campaign_question_control_case_id_case'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['duplicate_of_id'], ['campaign_question.id'], name=op.f('fk_campaign_question_duplicate_of_id_campaign_question'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_campaign_question_message_id_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['municipality_id'], ['territory.id'], name=op.f('fk_campaign_question_municipality_id_territory'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['problem_id'], ['problem.id'], name=op.f('fk_campaign_question_problem_id_problem'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['settlement_id'], ['territory.id'], name=op.f('fk_campaign_question_settlement_id_territory'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaign_question')),
    sa.UniqueConstraint('campaign_id', 'external_id', name=op.f('uq_campaign_question_campaign_id_external_id')),
    sa.UniqueConstraint('campaign_id', 'message_id', name=op.f('uq_campaign_question_campaign_id_message_id'))
    )
    op.create_index(op.f('ix_campaign_question_campaign_id'), 'campaign_question', ['campaign_id'], unique=False)
    op.create_index(op.f('ix_campaign_question_duplicate_of_id'), 'campaign_question', ['duplicate_of_id'], unique=False)
    op.create_index(op.f('ix_campaign_question_message_id'), 'campaign_question', ['message_id'], unique=False)
    op.create_table('proposal',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=False),
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('source', sa.String(length=16), nullable=True),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('public_text', sa.Text(), nullable=False),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('municipality_id', sa.Integer(), nullable=True),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('decline_reason', sa.Text(), nullable=True),
    sa.Column('supporters', sa.Integer(), nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_proposal_case_id_case'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_proposal_message_id_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['municipality_id'], ['territory.id'], name=op.f('fk_proposal_municipality_id_territory'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_proposal_organization_id_organization'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal')),
    sa.UniqueConstraint('message_id', name=op.f('uq_proposal_message_id'))
    )
    op.create_index(op.f('ix_proposal_organization_id'), 'proposal', ['organization_id'], unique=False)
    op.create_index(op.f('ix_proposal_region_code'), 'proposal', ['region_code'], unique=False)
    op.create_index('ix_proposal_region_status', 'proposal', ['region_code', 'status'], unique=False)
    op.create_index(op.f('ix_proposal_status'), 'proposal', ['status'], unique=False)
    op.create_table('promise',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('campaign_id', sa.Integer(), nullable=False),
    sa.Column('question_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('organization_id', sa.Integer(), nullable=True),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('due_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('stages', otklik.db.types.JSONType, nullable=False),
    sa.Column('case_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('decision_id', sa.Integer(), nullable=True),
    sa.Column('done_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_by_id', sa.Integer(), nullable=True),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['campaign_id'], ['campaign.id'], name=op.f('fk_promise_campaign_id_campaign'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['case_id'], ['case.id'], name=op.f('fk_promise_case_id_case'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['created_by_id'], ['user_account.id'], name=op.f('fk_promise_created_by_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['decision_id'], ['decision.id'], name=op.f('fk_promise_decision_id_decision'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['organization_id'], ['organization.id'], name=op.f('fk_promise_organization_id_organization'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['question_id'], ['campaign_question.id'], name=op.f('fk_promise_question_id_campaign_question'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_promise'))
    )
    op.create_index(op.f('ix_promise_campaign_id'), 'promise', ['campaign_id'], unique=False)
    op.create_index(op.f('ix_promise_case_id'), 'promise', ['case_id'], unique=False)
    op.create_index(op.f('ix_promise_decision_id'), 'promise', ['decision_id'], unique=False)
    op.create_index(op.f('ix_promise_due_at'), 'promise', ['due_at'], unique=False)
    op.create_index(op.f('ix_promise_organization_id'), 'promise', ['organization_id'], unique=False)
    op.create_index(op.f('ix_promise_question_id'), 'promise', ['question_id'], unique=False)
    op.create_index(op.f('ix_promise_region_code'), 'promise', ['region_code'], unique=False)
    op.create_table('proposal_event',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.Column('actor', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('from_status', sa.String(length=16), nullable=True),
    sa.Column('to_status', sa.String(length=16), nullable=True),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('meeting_on', sa.Date(), nullable=True),
    sa.Column('answer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['user_account.id'], name=op.f('fk_proposal_event_actor_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['answer_id'], ['answer.id'], name=op.f('fk_proposal_event_answer_id_answer'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_proposal_event_proposal_id_proposal'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_event'))
    )
    op.create_index(op.f('ix_proposal_event_proposal_id'), 'proposal_event', ['proposal_id'], unique=False)
    op.create_table('proposal_vote',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('proposal_id', sa.Integer(), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('voter_key', sa.String(length=32), nullable=False),
    sa.Column('message_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['message_id'], ['message.id'], name=op.f('fk_proposal_vote_message_id_message'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['proposal_id'], ['proposal.id'], name=op.f('fk_proposal_vote_proposal_id_proposal'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_proposal_vote')),
    sa.UniqueConstraint('proposal_id', 'source', 'voter_key', name=op.f('uq_proposal_vote_proposal_id_source_voter_key'))
    )
    op.create_index(op.f('ix_proposal_vote_proposal_id'), 'proposal_vote', ['proposal_id'], unique=False)


def downgrade() -> None:
    op.drop_index(op.f('ix_proposal_vote_proposal_id'), table_name='proposal_vote')
    op.drop_table('proposal_vote')
    op.drop_index(op.f('ix_proposal_event_proposal_id'), table_name='proposal_event')
    op.drop_table('proposal_event')
    op.drop_index(op.f('ix_promise_region_code'), table_name='promise')
    op.drop_index(op.f('ix_promise_question_id'), table_name='promise')
    op.drop_index(op.f('ix_promise_organization_id'), table_name='promise')
    op.drop_index(op.f('ix_promise_due_at'), table_name='promise')
    op.drop_index(op.f('ix_promise_decision_id'), table_name='promise')
    op.drop_index(op.f('ix_promise_case_id'), table_name='promise')
    op.drop_index(op.f('ix_promise_campaign_id'), table_name='promise')
    op.drop_table('promise')
    op.drop_index(op.f('ix_proposal_status'), table_name='proposal')
    op.drop_index('ix_proposal_region_status', table_name='proposal')
    op.drop_index(op.f('ix_proposal_region_code'), table_name='proposal')
    op.drop_index(op.f('ix_proposal_organization_id'), table_name='proposal')
    op.drop_table('proposal')
    op.drop_index(op.f('ix_campaign_question_message_id'), table_name='campaign_question')
    op.drop_index(op.f('ix_campaign_question_duplicate_of_id'), table_name='campaign_question')
    op.drop_index(op.f('ix_campaign_question_campaign_id'), table_name='campaign_question')
    op.drop_table('campaign_question')
    op.drop_index(op.f('ix_campaign_region_code'), table_name='campaign')
    op.drop_table('campaign')
