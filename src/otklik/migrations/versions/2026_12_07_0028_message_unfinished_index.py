"""message: the index of enrichment status becomes a partial index of the unfinished
messages (pending or failed), by id. The reconciler and `otklik check` look for messages whose
enrichment is not done (`enrich_status <> 'done'`), which a plain index on a column that is
'done' for nearly every row could not serve: each run read the whole table. The partial index
holds only the unfinished rows (a handful between batches, not millions), serves `= 'pending'`
too, and a message leaving it on enrichment writes no new index entry.

Revision ID: 0028_message_unfinished_index
Revises: 0027_enrichment_dedup_key_plain
Create Date: 2026-12-07 13:10:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0028_message_unfinished_index'
down_revision: str | None = '0027_enrichment_dedup_key_plain'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNFINISHED = "enrich_status <> 'done'"


def upgrade() -> None:
    op.create_index('ix_message_unfinished', 'message', ['id'], unique=False,
                    postgresql_where=sa.text(UNFINISHED), sqlite_where=sa.text(UNFINISHED))
    op.drop_index('ix_message_enrich_status', table_name='message')


def downgrade() -> None:
    op.create_index('ix_message_enrich_status', 'message', ['enrich_status'], unique=False)
    op.drop_index('ix_message_unfinished', table_name='message')
