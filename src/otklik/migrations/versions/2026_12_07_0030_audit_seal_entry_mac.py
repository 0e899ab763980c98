"""audit_seal: an index on ``entry_mac``. The sealer looks up, for each entry not sealed yet,
whether an entry with its MAC is sealed already (a copied row is sealed once); without an
index SQLite read every seal for every entry — sealing the demo's ≈ 60,000 entries after its
load took over ten minutes and held the database's write lock meanwhile — and PostgreSQL hashed
the whole seal table at every round.

Revision ID: 0030_audit_seal_entry_mac
Revises: 0029_report_delivery_pending
Create Date: 2026-12-07 20:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0030_audit_seal_entry_mac'
down_revision: str | None = '0029_report_delivery_pending'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index('ix_audit_seal_entry_mac', 'audit_seal', ['entry_mac'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_audit_seal_entry_mac', table_name='audit_seal')
