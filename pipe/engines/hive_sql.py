"""SQL text shared by the Impala (HiveServer2) and Spark engines.

Both engines write values into SQL text: impyla binds parameters on the
client by formatting literals, and Hive-style ``PARTITION (...)`` clauses take
only literals. ``sql_literal`` is the one place that turns a Python value into
a literal that Impala and Spark SQL both read back as the same value.
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from typing import Any, Iterator

import numpy as np
import pyarrow as pa

from pipe.engines.base import Replacement

#: The key columns of pipe's output tables, which are their partition columns.
PARTITION_COLUMNS = ("project", "day")

#: Maximum characters of one ``INSERT ... VALUES`` statement that ``values_statements`` writes.
MAX_STATEMENT_CHARS = 1_000_000

_STRING_ESCAPES = str.maketrans({"\\": "\\\\", "'": "\\'", "\n": "\\n", "\r": "\\r", "\t": "\\t", "\0": "\\0"})


def quote_string(text: str) -> str:
    """Return ``text`` as a single-quoted SQL string literal with backslash escapes.

    Impala and Spark SQL both read backslash escapes in string literals, so a
    quote or a backslash in ``text`` stays data.
    """
    return "'" + text.translate(_STRING_ESCAPES) + "'"


def sql_literal(value: Any) -> str:
    """Return the SQL literal of a Python, numpy or Arrow scalar value.

    Timestamps become ``CAST('YYYY-MM-DD HH:MM:SS.ffffff' AS TIMESTAMP)`` in
    UTC (an aware value is converted, a naive one is taken as UTC), dates
    ``CAST('YYYY-MM-DD' AS DATE)``. A float NaN becomes NULL, as pandas uses
    NaN for a missing value.
    """
    if isinstance(value, pa.Scalar):
        value = value.as_py()
    if isinstance(value, np.generic):
        value = value.item()
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NULL"
        if math.isinf(value):
            return f"CAST({quote_string('Infinity' if value > 0 else '-Infinity')} AS DOUBLE)"
        return repr(value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, str):
        return quote_string(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return f"CAST('{value.isoformat(sep=' ', timespec='microseconds')}' AS TIMESTAMP)"
    if isinstance(value, dt.date):
        return f"CAST('{value.isoformat()}' AS DATE)"
    raise TypeError(f"cannot write a {type(value).__name__} value as an SQL literal: {value!r}")


def sql_type(arrow_type: pa.DataType) -> str:
    """Return the Impala and Spark SQL column type for an Arrow type."""
    if pa.types.is_boolean(arrow_type):
        return "BOOLEAN"
    if pa.types.is_int8(arrow_type):
        return "TINYINT"
    if pa.types.is_int16(arrow_type) or pa.types.is_uint8(arrow_type):
        return "SMALLINT"
    if pa.types.is_int32(arrow_type) or pa.types.is_uint16(arrow_type):
        return "INT"
    if pa.types.is_integer(arrow_type):
        return "BIGINT"
    if pa.types.is_float32(arrow_type):
        return "FLOAT"
    if pa.types.is_floating(arrow_type):
        return "DOUBLE"
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type) or pa.types.is_dictionary(arrow_type):
        return "STRING"
    if pa.types.is_timestamp(arrow_type):
        return "TIMESTAMP"
    if pa.types.is_date(arrow_type):
        return "DATE"
    if pa.types.is_decimal(arrow_type):
        return f"DECIMAL({arrow_type.precision}, {arrow_type.scale})"
    if pa.types.is_null(arrow_type):
        return "STRING"
    raise TypeError(f"cannot store an Arrow column of type {arrow_type} in an Impala or Spark table")


def quote_identifier(name: str) -> str:
    """Return ``name`` in backquotes, the identifier quotes of Impala and Spark SQL."""
    if "`" in name:
        raise ValueError(f"invalid identifier {name!r}: it contains a backquote")
    return f"`{name}`"


def column_definitions(schema: pa.Schema) -> str:
    """Return ``name TYPE, ...`` for every field of ``schema``."""
    return ", ".join(f"{quote_identifier(field.name)} {sql_type(field.type)}" for field in schema)


def values_statements(target: str, table: pa.Table, max_chars: int = MAX_STATEMENT_CHARS) -> Iterator[str]:
    """Yield ``INSERT INTO target VALUES ...`` statements that together insert every row of ``table``.

    Each statement stays under about ``max_chars`` characters, so that no
    single request to the server grows with the data.
    """
    head = f"INSERT INTO {target} VALUES "
    columns = [table.column(i).to_pylist() for i in range(table.num_columns)]
    rows: list[str] = []
    size = len(head)
    for values in zip(*columns):
        row = "(" + ", ".join(sql_literal(value) for value in values) + ")"
        if rows and size + len(row) + 2 > max_chars:
            yield head + ", ".join(rows)
            rows, size = [], len(head)
        rows.append(row)
        size += len(row) + 2
    if rows:
        yield head + ", ".join(rows)


def partition_spec(key: dict[str, Any]) -> str:
    """Return ``PARTITION (project = '...', day = DATE '...')`` for a replacement's key."""
    parts = []
    for name, value in key.items():
        literal = f"DATE '{value.isoformat()}'" if isinstance(value, dt.date) and not isinstance(value, dt.datetime) else sql_literal(value)
        parts.append(f"{quote_identifier(name)} = {literal}")
    return f"PARTITION ({', '.join(parts)})"


def check_partition_key(replacement: Replacement) -> None:
    """Raise ValueError unless the replacement's key is exactly the partition columns."""
    if tuple(replacement.key) != PARTITION_COLUMNS:
        raise ValueError(
            f"{replacement.table}: rows can be replaced only by the partition key {PARTITION_COLUMNS}, not {tuple(replacement.key)}"
        )


def overwrite_statement(replacement: Replacement, source: str, table_columns: list[str]) -> str:
    """Return the INSERT OVERWRITE that replaces the key's partition with the rows of ``source``.

    ``source`` contains the replacement's rows without the key columns.
    ``table_columns`` are the target table's columns in its order, because
    INSERT matches the selected columns to the table's by position.
    """
    columns = [name for name in table_columns if name.lower() not in replacement.key]
    missing = sorted(set(columns) - {name.lower() for name in replacement.rows.column_names})
    if missing:
        raise ValueError(f"{replacement.table} has columns {missing} that the replacement rows lack")
    selected = ", ".join(quote_identifier(name) for name in columns)
    return f"INSERT OVERWRITE TABLE {replacement.table} {partition_spec(replacement.key)} SELECT {selected} FROM {source}"


def drop_partition_statement(replacement: Replacement) -> str:
    """Return the statement that removes the key's partition, used when there are no rows."""
    return f"ALTER TABLE {replacement.table} DROP IF EXISTS {partition_spec(replacement.key)}"


def value_columns(replacement: Replacement) -> pa.Table:
    """Return the replacement's rows without the key columns."""
    return replacement.rows.drop_columns([name for name in replacement.key if name in replacement.rows.column_names])


_TOKENS = re.compile(
    r"""'(?:[^'\\]|\\.)*'        # a string literal
      | "(?:[^"\\]|\\.)*"        # a double-quoted string
      | `[^`]*`                  # a quoted identifier
      | --[^\n]*                 # a line comment
      | /\*.*?\*/                # a block comment
      | (?<![\w.])([A-Za-z_]\w*)(?![\w(])  # a bare, unqualified identifier""",
    re.VERBOSE | re.DOTALL,
)


def rename_tables(sql: str, names: dict[str, str]) -> str:
    """Replace each bare table name of ``names`` (lower case) in ``sql`` by its mapped name.

    String literals, quoted identifiers, comments, qualified names (``x.name``)
    and function calls are left as they are.
    """
    if not names:
        return sql

    def replace(match: re.Match) -> str:
        word = match.group(1)
        if word is None:
            return match.group(0)
        return names.get(word.lower(), word)

    return _TOKENS.sub(replace, sql)


def bind_parameters(sql: str, params: dict[str, Any], placeholder: str = "%({name})s") -> str:
    """Return ``sql`` with each placeholder of ``params`` replaced by its value's literal.

    Only the exact placeholders of the given names are replaced, so a ``%``
    or ``:`` elsewhere in the SQL text stays as it is.
    """
    if not params:
        return sql
    pattern = "|".join(re.escape(placeholder.format(name=name)) for name in sorted(params, key=len, reverse=True))
    literals = {placeholder.format(name=name): sql_literal(value) for name, value in params.items()}
    return re.sub(pattern, lambda match: literals[match.group(0)], sql)


def first_line(error: BaseException) -> str:
    """Return the first non-empty line of an error's message, or its type's name."""
    for line in str(error).splitlines():
        if line.strip():
            return line.strip()
    return type(error).__name__
