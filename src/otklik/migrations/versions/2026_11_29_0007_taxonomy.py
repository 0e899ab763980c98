"""taxonomy versions editable by an admin

Revision ID: 0007_taxonomy
Revises: 0006_analytics
Create Date: 2026-11-29 05:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import otklik.db.types

revision: str = '0007_taxonomy'
down_revision: str | None = '0006_analytics'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('taxonomy_version',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('number', sa.Integer(), nullable=False),
    sa.Column('document', otklik.db.types.JSONType, nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('author', sa.String(length=128), nullable=False),
    sa.Column('comment', sa.String(length=500), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['user_account.id'], name=op.f('fk_taxonomy_version_author_id_user_account'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_taxonomy_version')),
    sa.UniqueConstraint('number', name=op.f('uq_taxonomy_version_number'))
    )
    # At most one active version.
    op.create_index('ix_taxonomy_version_one_active', 'taxonomy_version', ['active'],
                    unique=True, postgresql_where=sa.text('active'),
                    sqlite_where=sa.text('active'))


def downgrade() -> None:
    op.drop_index('ix_taxonomy_version_one_active', table_name='taxonomy_version',
                  postgresql_where=sa.text('active'), sqlite_where=sa.text('active'))
    op.drop_table('taxonomy_version')
