"""Warehouse engines behind one small interface.

``open_engine`` turns a warehouse URL into an engine. A plain path or a
``duckdb:`` URL opens a DuckDB file, in process.
"""

from pipe.engines.base import Engine
from pipe.engines.duckdb import DuckDBEngine

ENGINES = {"duckdb": DuckDBEngine}


def open_engine(url: str, read_only: bool = False) -> Engine:
    """Open the warehouse named by ``url``; see ``Engine`` for the interface."""
    scheme, _, rest = url.partition("://")
    if not rest:
        return DuckDBEngine(url, read_only=read_only)
    if scheme not in ENGINES:
        from pipe.errors import WarehouseError

        raise WarehouseError(
            f"unknown warehouse engine {scheme!r} in {url!r}; "
            f"expected a DuckDB file path or one of: {', '.join(s + '://...' for s in ENGINES)}"
        )
    return ENGINES[scheme](rest, read_only=read_only)


__all__ = ["ENGINES", "Engine", "open_engine"]
