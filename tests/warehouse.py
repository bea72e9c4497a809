"""Tiny hand-written warehouses for tests: every row is chosen by the test."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd

SCHEMA = {
    "sites": "site_id BIGINT, user_id BIGINT, created_at TIMESTAMP, lang VARCHAR, country VARCHAR",
    "users": "user_id BIGINT, created_at TIMESTAMP, lang VARCHAR, country VARCHAR",
    "subscriptions": "site_id BIGINT, user_id BIGINT, product VARCHAR, is_paid BOOLEAN, started_at TIMESTAMP, ended_at TIMESTAMP",
    "events": "site_id BIGINT, user_id BIGINT, event VARCHAR, ts TIMESTAMP",
    "traffic": "site_id BIGINT, day DATE, views BIGINT, visitors BIGINT",
}


def ts(text: str) -> dt.datetime:
    """Parse 'YYYY-MM-DD' or 'YYYY-MM-DD HH:MM[:SS[.ffffff]]' as a naive UTC instant."""
    return dt.datetime.fromisoformat(text)


def write_warehouse(path: Path, tables: dict[str, list[tuple]], skip: tuple[str, ...] = ()) -> Path:
    """Create a DuckDB file with the warehouse schema and the given rows.

    ``tables`` maps a table name to its rows as tuples in schema order;
    tables named in ``skip`` are not created at all.
    """
    connection = duckdb.connect(str(path))
    for name, columns in SCHEMA.items():
        if name in skip:
            continue
        connection.execute(f"CREATE TABLE {name} ({columns})")
        rows = tables.get(name, [])
        if rows:
            width = len(columns.split(","))
            connection.executemany(f"INSERT INTO {name} VALUES ({', '.join(['?'] * width)})", rows)
    connection.close()
    return Path(path)


def read_table(path: Path, sql: str) -> pd.DataFrame:
    connection = duckdb.connect(str(path), read_only=True)
    try:
        return connection.sql(sql).df()
    finally:
        connection.close()
