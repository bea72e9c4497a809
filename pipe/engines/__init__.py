"""Warehouse engines behind one small interface.

``open_engine`` turns a warehouse URL into an engine. A plain path or a
``duckdb:`` URL opens a DuckDB file, in process. A path ending in ``.yml`` or
``.yaml`` is a warehouse configuration file (``pipe.config``).
``impala://`` opens a HiveServer2 session (``pipe.engines.impala``), and
``spark://``, ``spark+local://`` and ``spark+yarn://`` a SparkSession
(``pipe.engines.spark``).
"""

import functools

from pipe.engines.base import Engine
from pipe.engines.duckdb import DuckDBEngine
from pipe.engines.impala import ImpalaEngine
from pipe.engines.spark import SCHEMES as SPARK_SCHEMES, SparkEngine

ENGINES = {
    "duckdb": DuckDBEngine,
    "impala": ImpalaEngine,
    **{scheme: functools.partial(SparkEngine.from_location, scheme) for scheme in SPARK_SCHEMES},
}


def open_engine(url: str, read_only: bool = False) -> Engine:
    """Open the warehouse named by ``url``; see ``Engine`` for the interface."""
    from pipe.config import is_config_path, load_config, open_configured

    if is_config_path(url):
        return open_configured(load_config(url), read_only=read_only)
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
