"""webhooks: a subscription made by an integrator's API key belongs to that key

Revision ID: 0025_webhook_key_owner
Revises: 0024_pd_rows
Create Date: 2026-12-06 17:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0025_webhook_key_owner'
down_revision: str | None = '0024_pd_rows'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('webhook_subscription', schema=None) as batch_op:
        batch_op.add_column(sa.Column('owner_token_id', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_webhook_subscription_owner_token_id'),
                              ['owner_token_id'], unique=False)
        batch_op.create_foreign_key(
            batch_op.f('fk_webhook_subscription_owner_token_id_api_token'), 'api_token',
            ['owner_token_id'], ['id'], ondelete='SET NULL')


def downgrade() -> None:
    with op.batch_alter_table('webhook_subscription', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('fk_webhook_subscription_owner_token_id_api_token'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_webhook_subscription_owner_token_id'))
        batch_op.drop_column('owner_token_id')
