"""workspace: saved views, case assignee, full-text search

Revision ID: 0005_workspace
Revises: 0004_decisions
Create Date: 2026-11-29 05:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import otklik.db.types

revision: str = '0005_workspace'
down_revision: str | None = '0004_decisions'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: The open statuses (the predicate of ix_case_open_due), as in otklik.models.case.
OPEN_STATUS_SQL = ("status IN ('new', 'triage', 'routed', 'in_work', 'clarification', "
                   "'answer_drafted', 'on_moderation')")

#: Full-text search objects that live only in the migration (otklik.db.migrate keeps
#: autogenerate from comparing them): a GIN index on PostgreSQL, an FTS5 table on SQLite.
FTS_TRIGGERS = {
    "message_fts_ai": "AFTER INSERT ON message BEGIN "
                      "INSERT INTO message_fts(rowid, text) VALUES (new.id, new.text); END",
    "message_fts_ad": "AFTER DELETE ON message BEGIN "
                      "INSERT INTO message_fts(message_fts, rowid, text) "
                      "VALUES ('delete', old.id, old.text); END",
    "message_fts_au": "AFTER UPDATE OF text ON message BEGIN "
                      "INSERT INTO message_fts(message_fts, rowid, text) "
                      "VALUES ('delete', old.id, old.text); "
                      "INSERT INTO message_fts(rowid, text) VALUES (new.id, new.text); END",
}


def upgrade() -> None:
    op.create_table('saved_view',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('query', sa.String(length=2000), nullable=False),
    sa.Column('created_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['user_account.id'], name=op.f('fk_saved_view_user_id_user_account'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_view')),
    sa.UniqueConstraint('user_id', 'name', name=op.f('uq_saved_view_user_id_name'))
    )
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.add_column(sa.Column('assignee_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_case_assignee_id_user_account'),
                                    'user_account', ['assignee_id'], ['id'], ondelete='SET NULL')
    op.create_index(op.f('ix_case_assignee_id'), 'case', ['assignee_id'], unique=False)
    op.create_index('ix_case_due_id', 'case', ['resolution_due', 'id'], unique=False)
    op.create_index('ix_case_received_id', 'case', ['received_at', 'id'], unique=False)
    op.create_index('ix_case_open_due', 'case', ['resolution_due', 'id'], unique=False,
                    postgresql_where=sa.text(OPEN_STATUS_SQL), sqlite_where=sa.text(OPEN_STATUS_SQL))
    op.create_index('ix_case_region_topic_status', 'case', ['region_code', 'topic', 'status'],
                    unique=False)
    op.create_index('ix_case_region_municipality_status', 'case',
                    ['region_code', 'municipality_id', 'status'], unique=False)
    # Text search goes from matching messages to their cases: both steps index-only.
    op.create_index('ix_case_message_message_case', 'case_message', ['message_id', 'case_id'],
                    unique=False)
    op.create_index('ix_case_search_cover', 'case',
                    ['id', 'region_code', 'status', 'resolution_due', 'received_at'],
                    unique=False)
    # Overdue counters: every column of the overdue test, open cases only (index-only scans).
    op.create_index('ix_case_open_region_status', 'case',
                    ['region_code', 'status', 'resolution_due', 'first_response_due',
                     'first_response_at'], unique=False,
                    postgresql_where=sa.text(OPEN_STATUS_SQL), sqlite_where=sa.text(OPEN_STATUS_SQL))

    if dialect == 'postgresql':
        op.execute("CREATE INDEX ix_message_text_fts ON message "
                   "USING gin (to_tsvector('russian'::regconfig, text))")
    elif dialect == 'sqlite' and _has_fts5():
        # External content: the index points at message rows; triggers keep it in step.
        op.execute("CREATE VIRTUAL TABLE message_fts USING fts5("
                   "text, content='message', content_rowid='id', "
                   "tokenize='unicode61 remove_diacritics 2')")
        for name, body in FTS_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        op.execute("INSERT INTO message_fts(message_fts) VALUES ('rebuild')")


def _has_fts5() -> bool:
    """True when this SQLite build has FTS5 (else search falls back to substrings)."""
    try:
        op.get_bind().exec_driver_sql("CREATE VIRTUAL TABLE temp._fts5_probe USING fts5(x)")
    except sa.exc.OperationalError:
        return False
    op.get_bind().exec_driver_sql("DROP TABLE temp._fts5_probe")
    return True


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == 'postgresql':
        op.execute("DROP INDEX IF EXISTS ix_message_text_fts")
    elif dialect == 'sqlite':
        for name in FTS_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS message_fts")
    op.drop_index('ix_case_open_region_status', table_name='case')
    op.drop_index('ix_case_search_cover', table_name='case')
    op.drop_index('ix_case_message_message_case', table_name='case_message')
    op.drop_index('ix_case_region_municipality_status', table_name='case')
    op.drop_index('ix_case_region_topic_status', table_name='case')
    op.drop_index('ix_case_open_due', table_name='case')
    op.drop_index('ix_case_received_id', table_name='case')
    op.drop_index('ix_case_due_id', table_name='case')
    op.drop_index(op.f('ix_case_assignee_id'), table_name='case')
    with op.batch_alter_table('case', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_case_assignee_id_user_account'),
                                 type_='foreignkey')
        batch_op.drop_column('assignee_id')
    op.drop_table('saved_view')
