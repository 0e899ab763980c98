"""message_enrichment: an index on duplicate_of_id (a message's copies are looked up by it:
the fakes' spread of a batch, the copies of late originals)

Revision ID: 0026_enrichment_duplicate_index
Revises: 0025_webhook_key_owner
Create Date: 2026-12-07 00:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0026_enrichment_duplicate_index'
down_revision: str | None = '0025_webhook_key_owner'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('message_enrichment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_message_enrichment_duplicate_of_id'),
                              ['duplicate_of_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('message_enrichment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_message_enrichment_duplicate_of_id'))
