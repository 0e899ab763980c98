"""Query plans in tests: whether an index can serve a query at all, on either database."""

from __future__ import annotations

from sqlalchemy import Engine


def plan_of(engine: Engine, query: object) -> list[str]:
    """Each database's plan of ``query``, one line a step, with whole-table reads and
    whole-table joins ruled out on PostgreSQL (its planner picks them for tables this small):
    what is left shows whether the indexes can serve the query at all."""
    with engine.connect() as connection:
        compiled = query.compile(connection,  # type: ignore[attr-defined]
                                 compile_kwargs={"render_postcompile": True})
        if connection.dialect.name == "postgresql":
            for setting in ("enable_seqscan", "enable_hashjoin", "enable_mergejoin"):
                connection.exec_driver_sql(f"SET {setting} = off")
            rows = connection.exec_driver_sql(f"EXPLAIN {compiled}", compiled.params).all()
            return [str(row[0]).strip() for row in rows]
        rows = connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}",
                                          tuple(compiled.params.values())).all()
        return [str(row[-1]) for row in rows]
