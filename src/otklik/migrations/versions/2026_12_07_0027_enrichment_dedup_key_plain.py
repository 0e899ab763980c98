"""message_enrichment: no index on dedup_key (no query looks a row up by its near-duplicate
key: the near-duplicate stage compares keys in memory, and the worker's memory reads them by
message id; the index was the table's largest, a 171-character key per row, and every
enrichment row paid for it)

Revision ID: 0027_enrichment_dedup_key_plain
Revises: 0026_enrichment_duplicate_index
Create Date: 2026-12-07 10:30:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0027_enrichment_dedup_key_plain'
down_revision: str | None = '0026_enrichment_duplicate_index'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_index('ix_message_enrichment_dedup_key', table_name='message_enrichment')


def downgrade() -> None:
    op.create_index('ix_message_enrichment_dedup_key', 'message_enrichment', ['dedup_key'],
                    unique=False)
