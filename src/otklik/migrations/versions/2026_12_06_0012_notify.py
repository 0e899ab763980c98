"""notify: user contacts, duty rosters, alerts and their recipients, the delivery log shared by
every outgoing channel (deliveries and attempts), and integrators' webhook subscriptions

Revision ID: 0012_notify
Revises: 0011_user_sessions
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import otklik.db.types

revision: str = '0012_notify'
down_revision: str | None = '0011_user_sessions'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('notify_state',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', otklik.db.types.JSONType, nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_notify_state'))
    )
    op.create_table('duty_roster',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=True),
    sa.Column('topic', sa.String(length=64), nullable=True),
    sa.Column('escalate_after_minutes', sa.Integer(), nullable=False),
    sa.Column('webhook_url', sa.String(length=1000), nullable=True),
    sa.Column('webhook_secret', sa.String(length=128), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['region_id'], ['territory.id'], name=op.f('fk_duty_roster_region_id_territory'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['territory_id'], ['territory.id'], name=op.f('fk_duty_roster_territory_id_territory'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_roster'))
    )
    with op.batch_alter_table('duty_roster', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duty_roster_region_id'), ['region_id'], unique=False)

    op.create_table('alert',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sa.String(length=16), nullable=False),
    sa.Column('subject_id', sa.BigInteger(), nullable=False),
    sa.Column('title', sa.String(length=300), nullable=False),
    sa.Column('severity', sa.String(length=16), nullable=False),
    sa.Column('url_path', sa.String(length=500), nullable=False),
    sa.Column('region_id', sa.Integer(), nullable=True),
    sa.Column('roster_id', sa.Integer(), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('escalate_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('acknowledged_by', sa.String(length=255), nullable=True),
    sa.Column('ack_user_id', sa.Integer(), nullable=True),
    sa.Column('ack_channel', sa.String(length=16), nullable=True),
    sa.Column('updated_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['ack_user_id'], ['user_account.id'], name=op.f('fk_alert_ack_user_id_user_account'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['region_id'], ['territory.id'], name=op.f('fk_alert_region_id_territory'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['roster_id'], ['duty_roster.id'], name=op.f('fk_alert_roster_id_duty_roster'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert')),
    sa.UniqueConstraint('subject', 'subject_id', name=op.f('uq_alert_subject_subject_id'))
    )
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_escalate_at'), ['escalate_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_region_id'), ['region_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_roster_id'), ['roster_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_alert_status'), ['status'], unique=False)

    op.create_table('duty_member',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('roster_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('telegram_chat_id', sa.String(length=32), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('start_hour', sa.SmallInteger(), nullable=False),
    sa.Column('end_hour', sa.SmallInteger(), nullable=False),
    sa.Column('timezone', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['roster_id'], ['duty_roster.id'], name=op.f('fk_duty_member_roster_id_duty_roster'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_duty_member_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_member'))
    )
    with op.batch_alter_table('duty_member', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duty_member_roster_id'), ['roster_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_duty_member_user_id'), ['user_id'], unique=False)

    op.create_table('notify_contact',
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('telegram_chat_id', sa.String(length=32), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('updated_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_notify_contact_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('user_id', name=op.f('pk_notify_contact'))
    )
    op.create_table('webhook_subscription',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('url', sa.String(length=1000), nullable=False),
    sa.Column('events', otklik.db.types.JSONType, nullable=False),
    sa.Column('secret', sa.String(length=128), nullable=False),
    sa.Column('region_code', sa.String(length=3), nullable=True),
    sa.Column('owner_id', sa.Integer(), nullable=True),
    sa.Column('is_active', sa.Boolean(), nullable=False),
    sa.Column('consecutive_failures', sa.Integer(), nullable=False),
    sa.Column('disabled_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('disabled_reason', sa.String(length=500), nullable=True),
    sa.Column('updated_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['owner_id'], ['user_account.id'], name=op.f('fk_webhook_subscription_owner_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_webhook_subscription'))
    )
    with op.batch_alter_table('webhook_subscription', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_webhook_subscription_owner_id'), ['owner_id'], unique=False)

    op.create_table('alert_recipient',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('member_id', sa.Integer(), nullable=True),
    sa.Column('user_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=16), nullable=False),
    sa.Column('name', sa.String(length=255), nullable=False),
    sa.Column('telegram_chat_id', sa.String(length=32), nullable=True),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('telegram_thread_id', sa.String(length=32), nullable=True),
    sa.Column('email_thread_id', sa.String(length=255), nullable=True),
    sa.Column('token_salt', sa.String(length=32), nullable=False),
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('notified_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alert.id'], name=op.f('fk_alert_recipient_alert_id_alert'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['member_id'], ['duty_member.id'], name=op.f('fk_alert_recipient_member_id_duty_member'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_alert_recipient_user_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alert_recipient')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_alert_recipient_token_hash'))
    )
    with op.batch_alter_table('alert_recipient', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alert_recipient_alert_id'), ['alert_id'], unique=False)

    op.create_table('delivery',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('channel', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=1000), nullable=False),
    sa.Column('source', sa.String(length=16), nullable=False),
    sa.Column('source_id', sa.Integer(), nullable=True),
    sa.Column('alert_id', sa.Integer(), nullable=True),
    sa.Column('event', sa.String(length=64), nullable=False),
    sa.Column('payload', otklik.db.types.JSONType, nullable=False),
    sa.Column('dedup_key', sa.String(length=64), nullable=True),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('next_attempt_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_status_code', sa.Integer(), nullable=True),
    sa.Column('last_error', sa.String(length=1000), nullable=True),
    sa.Column('external_id', sa.String(length=255), nullable=True),
    sa.Column('sent_at', otklik.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('updated_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['alert_id'], ['alert.id'], name=op.f('fk_delivery_alert_id_alert'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery')),
    sa.UniqueConstraint('dedup_key', name=op.f('uq_delivery_dedup_key'))
    )
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_alert_id'), ['alert_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_channel'), ['channel'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_next_attempt_at'), ['next_attempt_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_source'), ['source'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_source_id'), ['source_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_delivery_status'), ['status'], unique=False)

    op.create_table('delivery_attempt',
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('delivery_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('started_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('duration_ms', sa.Integer(), nullable=False),
    sa.Column('ok', sa.Boolean(), nullable=False),
    sa.Column('status_code', sa.Integer(), nullable=True),
    sa.Column('response', sa.String(length=1000), nullable=True),
    sa.Column('error', sa.String(length=1000), nullable=True),
    sa.ForeignKeyConstraint(['delivery_id'], ['delivery.id'], name=op.f('fk_delivery_attempt_delivery_id_delivery'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_delivery_attempt'))
    )
    with op.batch_alter_table('delivery_attempt', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_attempt_delivery_id'), ['delivery_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('delivery_attempt', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_attempt_delivery_id'))

    op.drop_table('delivery_attempt')
    with op.batch_alter_table('delivery', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_status'))
        batch_op.drop_index(batch_op.f('ix_delivery_source_id'))
        batch_op.drop_index(batch_op.f('ix_delivery_source'))
        batch_op.drop_index(batch_op.f('ix_delivery_next_attempt_at'))
        batch_op.drop_index(batch_op.f('ix_delivery_channel'))
        batch_op.drop_index(batch_op.f('ix_delivery_alert_id'))

    op.drop_table('delivery')
    with op.batch_alter_table('alert_recipient', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_recipient_alert_id'))

    op.drop_table('alert_recipient')
    with op.batch_alter_table('webhook_subscription', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_webhook_subscription_owner_id'))

    op.drop_table('webhook_subscription')
    op.drop_table('notify_contact')
    with op.batch_alter_table('duty_member', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duty_member_user_id'))
        batch_op.drop_index(batch_op.f('ix_duty_member_roster_id'))

    op.drop_table('duty_member')
    with op.batch_alter_table('alert', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alert_status'))
        batch_op.drop_index(batch_op.f('ix_alert_roster_id'))
        batch_op.drop_index(batch_op.f('ix_alert_region_id'))
        batch_op.drop_index(batch_op.f('ix_alert_escalate_at'))

    op.drop_table('alert')
    with op.batch_alter_table('duty_roster', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duty_roster_region_id'))

    op.drop_table('duty_roster')
    op.drop_table('notify_state')
