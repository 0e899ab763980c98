"""the tamper-evident audit log: a MAC per entry, the chain of seals (audit_seal)

Revision ID: 0020_security
Revises: 0019_learning
Create Date: 2026-12-06 06:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import otklik.db.types

revision: str = '0020_security'
down_revision: str | None = '0019_learning'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SEAL_GUARD_PG = """
CREATE TRIGGER audit_seal_no_update BEFORE UPDATE OR DELETE ON audit_seal
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
"""


def upgrade() -> None:
    op.add_column('audit_log', sa.Column('nonce', sa.String(length=32), nullable=True))
    op.add_column('audit_log', sa.Column('mac', sa.String(length=64), nullable=True))
    op.create_index('uq_audit_log_mac', 'audit_log', ['mac'], unique=True)
    op.create_table('audit_seal',
    sa.Column('seq', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'),
              autoincrement=False, nullable=False),
    sa.Column('entry_id', sa.BigInteger(), nullable=False),
    sa.Column('entry_mac', sa.String(length=64), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('sealed_at', otklik.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('seq', name=op.f('pk_audit_seal')),
    sa.UniqueConstraint('entry_id', name=op.f('uq_audit_seal_entry_id'))
    )
    _mac_existing_entries()
    if op.get_bind().dialect.name == "postgresql":
        op.execute(SEAL_GUARD_PG)
    else:
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER audit_seal_no_{verb.lower()} BEFORE {verb} ON "
                       "audit_seal BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); "
                       "END")


def _mac_existing_entries() -> None:
    """Entries written before the chain get their MAC now (the append-only guard is lifted
    for this one statement per row, inside the migration's transaction); the sealer chains
    them with the rest."""
    from otklik.audit.chain import entry_mac, new_nonce

    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"
    if postgres:
        op.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update")
    else:
        op.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
    log = sa.table('audit_log', sa.column('id', sa.BigInteger),
                   sa.column('at', otklik.db.types.UTCDateTime()),
                   sa.column('actor_id'), sa.column('actor'), sa.column('action'),
                   sa.column('object_type'), sa.column('object_id'), sa.column('region_code'),
                   sa.column('details', otklik.db.types.JSONType), sa.column('ip'),
                   sa.column('nonce'), sa.column('mac'))
    rows = bind.execute(sa.select(log).where(log.c.mac.is_(None))).mappings().all()
    for row in rows:
        values = dict(row)
        values["nonce"] = new_nonce()
        bind.execute(sa.update(log).where(log.c.id == row["id"])
                     .values(nonce=values["nonce"], mac=entry_mac(values)))
    if postgres:
        op.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_no_update")
    else:
        op.execute("CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log "
                   "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_seal_no_update ON audit_seal")
    op.drop_table('audit_seal')
    op.drop_index('uq_audit_log_mac', table_name='audit_log')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_column('mac')
        batch_op.drop_column('nonce')
    if op.get_bind().dialect.name != "postgresql":  # SQLite rebuilt the table: guard again
        for verb in ("UPDATE", "DELETE"):
            op.execute(f"DROP TRIGGER IF EXISTS audit_log_no_{verb.lower()}")
            op.execute(f"CREATE TRIGGER audit_log_no_{verb.lower()} BEFORE {verb} ON audit_log "
                       "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")
