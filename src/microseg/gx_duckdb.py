"""Great Expectations' SQL datasource on DuckDB.

GX 1.x opens a connection per metric query and closes it before the rows are fetched.
DuckDB's results do not outlive their connection, so every metric comes back empty. GX
already keeps one connection open for dialects that need it (SQLite, SQL Server, ...);
`use_persisted_connection()` adds DuckDB to that list. That is the whole patch:
`pytests/test_gx_duckdb.py` fails if a GX upgrade moves or renames what it touches.
"""

from __future__ import annotations

from great_expectations.execution_engine import sqlalchemy_execution_engine as engine_module

_LIST = "_PERSISTED_CONNECTION_DIALECTS"


class _DuckDBDialect(str):
    """Compares equal to the dialect name "duckdb"; `.value` as GX's dialect enum has."""

    @property
    def value(self) -> str:
        return str(self)


DUCKDB = _DuckDBDialect("duckdb")


def use_persisted_connection() -> None:
    """Make GX keep one DuckDB connection open per execution engine (idempotent)."""
    dialects = getattr(engine_module, _LIST, None)
    if dialects is None:
        raise RuntimeError(
            f"great_expectations no longer has {engine_module.__name__}.{_LIST}: "
            "microseg.gx_duckdb needs updating for this GX version"
        )
    if DUCKDB not in dialects:
        setattr(engine_module, _LIST, (*dialects, DUCKDB))


def release_connections() -> None:
    """Close every connection GX holds open, so another connection (with DuckDB's default
    configuration) can open the file in this process. GX re-creates its engines from the
    context's stored configuration, so closing the ones we created is not enough."""
    import gc

    import sqlalchemy
    from great_expectations.execution_engine import SqlAlchemyExecutionEngine

    for candidate in gc.get_objects():
        if isinstance(candidate, SqlAlchemyExecutionEngine):
            candidate.close()
        elif isinstance(candidate, sqlalchemy.engine.Engine):
            candidate.dispose()
    gc.collect()
