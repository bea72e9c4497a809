"""The subqueries of a warehouse configuration in HiveQL, for Impala and Spark.

``pipe.config`` parses the file and runs the checks. This module writes the
SQL that reads a mapped table on an Impala or Spark engine, and finds the
table's columns with ``DESCRIBE``. Impala and Spark SQL share backquoted
identifiers and the ``STRING`` type, so one subquery serves both::

    (SELECT CAST(`id` AS BIGINT) AS site_id, ..., `created` AS created_at, ...
     FROM `analytics`.`sites_v2` AS `source` WHERE `id` IS NOT NULL)

The dialect is the engine's (``Engine.dialect``): an ``impala://`` URL that
reaches Spark's Thrift server renders Spark SQL. The two differ in how they
read text:

- Spark's ``CAST(text AS TIMESTAMP)`` converts a zone suffix (``Z``,
  ``+02:00``, ``UTC``, ``Europe/Paris``) to the session's time zone, which
  the engine sets to UTC, and reads text without one as UTC, as DuckDB does.
  Spark 4 runs in ANSI mode, so a CAST of a bad value raises; the value
  check uses ``TRY_CAST``.
- Impala's TIMESTAMP has no time zone, and its CAST does not convert a zone
  suffix to UTC. Text timestamps are read as UTC, and a value with a zone
  suffix fails the value check, so the command stops at open time rather
  than read a wrong instant. Impala's CAST returns NULL for a bad value,
  which is how the check finds one.

Columns of TIMESTAMP type are read as UTC on both engines. Spark's
TIMESTAMP_NTZ is cast to TIMESTAMP in the session's time zone (UTC).
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from pipe import config
from pipe.config import TABLE_COLUMNS, Column, TableSource, WarehouseConfig
from pipe.engines.hive_sql import first_line, quote_identifier, quote_string
from pipe.errors import WarehouseError

if TYPE_CHECKING:
    from pipe.engines.base import Engine

#: pipe's column types in HiveQL: Impala and Spark SQL cast to STRING, not VARCHAR.
HIVE_TYPES = {"BIGINT": "BIGINT", "BOOLEAN": "BOOLEAN", "DATE": "DATE", "TIMESTAMP": "TIMESTAMP", "VARCHAR": "STRING"}

#: Source column types (lower case, without a length) that contain text.
TEXT_TYPES = ("string", "varchar", "char")

#: Source column types that a TIMESTAMP or DATE column of pipe's schema can read.
TIME_TYPES = ("timestamp", "timestamp_ntz", "timestamp_ltz", "date", *TEXT_TYPES)

#: A time of day followed by a zone: a letter (``Z``, ``UTC``, a zone name) or
#: a signed offset, with or without a space before it. A date alone does not match.
ZONE_SUFFIX_PATTERN = "[0-9]:[0-9]{2}([.][0-9]*)? *([A-Za-z]|[+-][0-9])"


def base_type(source_type: str) -> str:
    """Return a DESCRIBE type without its length or precision, in lower case: ``varchar(10)`` is ``varchar``."""
    return source_type.split("(")[0].strip().lower()


def is_text(source_type: str) -> bool:
    return base_type(source_type) in TEXT_TYPES


def is_time_type(source_type: str) -> bool:
    return base_type(source_type) in TIME_TYPES


def source_sql(source: TableSource) -> str:
    """Return the FROM item of a mapped table, each part of ``database.table`` in backquotes."""
    return ".".join(quote_identifier(part) for part in source.table.split("."))


def column_sql(column: Column, reference: str, source_type: str) -> str:
    """Return the expression that reads a source column as ``column.type``.

    Text is cast to TIMESTAMP before DATE, so that a time and a zone suffix
    count as they do for a TIMESTAMP column.
    """
    target = HIVE_TYPES[column.type]
    source = base_type(source_type)
    if source == target.lower():
        return reference
    if column.type == "DATE" and source in TEXT_TYPES:
        return f"CAST(CAST({reference} AS TIMESTAMP) AS DATE)"
    return f"CAST({reference} AS {target})"


def table_subquery(source: TableSource, types: dict[str, str]) -> str:
    """Return the subquery that reads ``source`` with pipe's column names and types.

    ``types`` maps each source column to its type as DESCRIBE returns it.
    """
    # Impala requires an alias after a subquery in FROM, so a template must
    # write one after each table(...) call; tests/test_templates.py checks the shipped ones.
    return config.table_subquery(source, types, quote=quote_identifier, column_sql=column_sql,
                                 from_sql=source_sql(source), type_name=lambda type_: HIVE_TYPES[type_])


def unreadable_condition(column: Column, reference: str, dialect: str) -> str:
    """Return the condition that is true for a text value that cannot be read as ``column``.

    On Impala a text timestamp with a zone suffix counts as unreadable too,
    because Impala cannot convert it to UTC.
    """
    time = column.type in ("TIMESTAMP", "DATE")
    target = "TIMESTAMP" if time else HIVE_TYPES[column.type]
    if dialect == "spark":
        return f"{reference} IS NOT NULL AND TRY_CAST({reference} AS {target}) IS NULL"
    condition = f"CAST({reference} AS {target}) IS NULL"
    if time:
        condition = f"({condition} OR {reference} RLIKE {quote_string(ZONE_SUFFIX_PATTERN)})"
    return f"{reference} IS NOT NULL AND {condition}"


def expected_text(column: Column, dialect: str) -> str:
    """Return what a value of ``column`` must look like, for the value check's message."""
    if column.type not in ("TIMESTAMP", "DATE"):
        return column.type
    if dialect == "spark":
        return "a timestamp"
    return "a timestamp without a time zone suffix (Impala reads text timestamps as UTC and cannot convert a suffix)"


def source_types(engine: "Engine", config: WarehouseConfig, source: TableSource) -> dict[str, str]:
    """Return the source table's columns and their DESCRIBE types, or raise WarehouseError when the table is missing.

    Spark's DESCRIBE repeats the partition columns after a ``# Partition
    Information`` row, so the list ends at the first row whose name is
    empty or starts with ``#``.
    """
    where = f"tables.{source.name}.table"
    if not engine.table_exists(source.table):
        raise WarehouseError(f"{config.file}: {where} {source.table!r} not found in the warehouse {config.url}")
    try:
        described = engine.fetch_arrow(f"DESCRIBE {source_sql(source)}")
    except WarehouseError as error:
        raise WarehouseError(f"{config.file}: cannot describe {where} {source.table!r} in the warehouse {config.url}: "
                             f"{first_line(error)}") from error
    types: dict[str, str] = {}
    names, kinds = described.column(0).to_pylist(), described.column(1).to_pylist()
    for name, kind in zip(names, kinds):
        name = (name or "").strip()
        if not name or name.startswith("#"):
            break
        types[name] = (kind or "").strip()
    return types


def match_case(source: TableSource, types: dict[str, str]) -> TableSource:
    """Return ``source`` with each mapped column spelled as the table spells it.

    Impala and Spark match column names without regard to case, and Impala
    reports them in lower case, so ``UserId`` in the file reads ``userid``.
    A column that matches no name stays as written, for the column check to report.
    """
    by_lower = {name.lower(): name for name in types}
    columns = {name: (by_lower.get(mapped.lower(), mapped) if mapped is not None else None)
               for name, mapped in source.columns.items()}
    return dataclasses.replace(source, columns=columns)
