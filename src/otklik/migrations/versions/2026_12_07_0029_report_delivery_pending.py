"""report_delivery: a partial index of the deliveries still pending, by ``updated_at``. The
reconciler asks every five minutes for the pending deliveries older than its grace; without an
index each look read every brief ever e-mailed (a row per brief and recipient, never deleted).
The partial index holds only the pending rows (a handful), and a delivery leaving ``pending``
leaves it.

The reconciler's other reads at a country's size need nothing new: the windowed look for
relevant messages without a case reads ``ix_message_enrichment_enriched_at`` (0006), unfinished
enrichments ``ix_message_unfinished`` (0028), approved answers ``ix_answer_status`` (0003).

Revision ID: 0029_report_delivery_pending
Revises: 0028_message_unfinished_index
Create Date: 2026-12-07 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0029_report_delivery_pending'
down_revision: str | None = '0028_message_unfinished_index'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PENDING = "status = 'pending'"


def upgrade() -> None:
    op.create_index('ix_report_delivery_pending', 'report_delivery', ['updated_at'],
                    unique=False, postgresql_where=sa.text(PENDING),
                    sqlite_where=sa.text(PENDING))


def downgrade() -> None:
    op.drop_index('ix_report_delivery_pending', table_name='report_delivery')
