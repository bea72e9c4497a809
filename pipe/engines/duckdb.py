"""DuckDB, in process: the default engine, for one machine and for the tests."""

from __future__ import annotations

import logging
import os
import time
from typing import Any, Sequence

import duckdb
import pandas as pd
import pyarrow as pa

from pipe.engines.base import Engine, Replacement, pause_before_commit
from pipe.errors import WarehouseError

log = logging.getLogger(__name__)


class DuckDBEngine(Engine):
    """A DuckDB database file.

    Parameters
    ----------
    path : str
        The database file. It must exist unless ``create`` is true.
    read_only : bool
        Open without write access, so several readers can share the file.
    create : bool
        Create the file when it does not exist (used by ``pipe demo``).
    """

    dialect = "duckdb"

    def __init__(self, path: str, read_only: bool = False, create: bool = False) -> None:
        self.path = path if path == ":memory:" else os.path.abspath(path)
        if not create and self.path != ":memory:" and not os.path.exists(self.path):
            raise WarehouseError(
                f"warehouse file not found: {self.path}; "
                "pass --warehouse with a DuckDB file, or create one with `pipe demo`"
            )
        try:
            self.connection = duckdb.connect(self.path, read_only=read_only)
        except duckdb.Error as error:
            raise WarehouseError(f"cannot open DuckDB warehouse {self.path}: {error}") from error

    def placeholder(self, name: str) -> str:
        return f"${name}"

    def describe(self) -> dict[str, Any]:
        return {"engine": self.dialect, "path": self.path}

    def _execute(self, sql: str, params: dict[str, Any]) -> None:
        # Relation.sql runs a statement at once and leaves no pending result,
        # which DuckDB 2 requires before the next statement on the connection.
        relation = self.connection.sql(sql, params=params or None)
        if relation is not None:
            relation.fetchall()

    def _fetch_arrow(self, sql: str, params: dict[str, Any]) -> pa.Table:
        relation = self.connection.sql(sql, params=params or None)
        # DuckDB 1.4 renamed Relation.arrow to to_arrow_table.
        to_arrow = getattr(relation, "to_arrow_table", None) or relation.arrow
        return to_arrow()

    def table_exists(self, name: str) -> bool:
        found = self.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = $name", {"name": name})
        return bool(found)

    def upload(self, name: str, table: pa.Table | pd.DataFrame) -> None:
        view = f"_pipe_upload_{name}"
        self.connection.register(view, table)
        try:
            self._execute(f'CREATE OR REPLACE TEMP TABLE "{name}" AS SELECT * FROM "{view}"', {})
        finally:
            self.connection.unregister(view)

    def replace_rows(self, replacements: Sequence[Replacement]) -> None:
        # DuckDB makes a transaction durable only at COMMIT, so a process
        # killed before it leaves the tables as they were (tests/test_daily.py
        # kills one inside the transaction and checks this).
        started = time.perf_counter()
        self._execute("BEGIN TRANSACTION", {})
        try:
            for replacement in replacements:
                self._replace_in_transaction(replacement)
            pause_before_commit()
            self._execute("COMMIT", {})
        except BaseException:
            try:
                self._execute("ROLLBACK", {})
            except duckdb.Error as error:
                # The first error is the one to report; DuckDB drops the
                # uncommitted transaction when the connection closes anyway.
                log.error("ROLLBACK after a failed replacement of %s failed: %s",
                          ", ".join(r.table for r in replacements), error)
            raise
        log.debug("replaced rows of %s in one transaction in %.2f s",
                  ", ".join(r.table for r in replacements), time.perf_counter() - started)

    def _replace_in_transaction(self, replacement: Replacement) -> None:
        table = f'"{replacement.table}"'
        self._execute(replacement.create_sql, {})
        condition = " AND ".join(f'"{column}" = ${column}' for column in replacement.key)
        deleted = self.connection.sql(f"DELETE FROM {table} WHERE {condition}", params=replacement.key).fetchall()[0][0]
        if replacement.rows.num_rows:
            view = f"_pipe_insert_{replacement.table}"
            columns = ", ".join(f'"{name}"' for name in replacement.rows.column_names)
            self.connection.register(view, replacement.rows)
            try:
                self._execute(f'INSERT INTO {table} ({columns}) SELECT {columns} FROM "{view}"', {})
            finally:
                self.connection.unregister(view)
        log.debug("%s %s: deleted %d rows, inserted %d", replacement.table, replacement.key, deleted, replacement.rows.num_rows)

    def close(self) -> None:
        self.connection.close()
