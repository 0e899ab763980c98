"""channel places: a community that speaks for one town places the messages that name none

Revision ID: 0008_channel_places
Revises: 0007_taxonomy
Create Date: 2026-11-29 05:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import otklik.db.types

revision: str = '0008_channel_places'
down_revision: str | None = '0007_taxonomy'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('channel_place',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('channel', sa.String(length=255), nullable=False),
    sa.Column('territory_id', sa.Integer(), nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['territory_id'], ['territory.id'],
                            name=op.f('fk_channel_place_territory_id_territory'),
                            ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_channel_place')),
    sa.UniqueConstraint('channel', name=op.f('uq_channel_place_channel'))
    )


def downgrade() -> None:
    op.drop_table('channel_place')
