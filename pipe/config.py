"""Warehouse configuration files: a warehouse's own table and column names.

``--warehouse path/to/warehouse.yml`` (a path ending in ``.yml`` or
``.yaml``) opens the warehouse that the file describes; any other plain path
is a DuckDB file. The file names the engine and its connection, the table
and column that hold each table and column of pipe's schema, the last
complete day, and extra template folders::

    engine: duckdb
    connection:
      path: warehouse.duckdb        # omit for an in-memory database
    complete_through: 2018-09-01    # default of init's --complete-through
    sql_path: [sql]                 # template folders, relative to this file
    tables:
      users:
        table: accounts             # a table or view of the database, or
        columns:
          user_id: id
          created_at: signup_time
          lang: null                # no such column: it reads as NULL
          country: country_code
      events:
        file: exports/events-*.csv  # CSV or Parquet files, read in place
        columns: {site_id: null, user_id: UserId, event: Kind, ts: When}

``SCHEMA`` below is the one description of the allowed keys. A column left
out of ``columns`` is read from the source column of the same name.

Every ``{{ table('events') }}`` in a template then renders as a subquery that
returns pipe's column names and types, so templates need no change::

    (SELECT CAST(NULL AS BIGINT) AS site_id, CAST("UserId" AS BIGINT) AS user_id, ...
     FROM read_csv('/abs/exports/events-*.csv', header = true, all_varchar = true) AS source
     WHERE "Kind" IS NOT NULL)

How the subquery reads dirty data (the rules are applied in ``_column_sql``
and ``_source_sql``):

- Timestamps: text with a zone suffix (``Z``, ``+02:00``, ``UTC``, a zone
  name) is converted to UTC; text without one, and TIMESTAMP columns, are
  read as UTC. DuckDB's plain ``CAST(text AS TIMESTAMP)`` would drop the
  offset and keep the wall-clock time.
- Rows of ``sites`` or ``users`` with no id are left out: they cannot be
  joined or scored. Rows of other tables with no entity id stay, and no join
  matches them.
- Rows of ``events`` with no event name are left out: they can neither match
  a pattern nor name a feature. Other event names are kept exactly as they
  are, case and spaces included.
- Repeated identical rows are kept, each one a separate event.

Impala and Spark warehouses are described by ``connection.url``, the same
URL that ``--warehouse`` takes (``pipe.engines.impala``, ``pipe.engines.spark``);
its scheme must fit ``engine``::

    engine: impala                  # or spark: spark://, spark+local://, spark+yarn://
    connection:
      url: impala://etl@hs2.example.com:21050/analytics?auth=LDAP
    tables:
      sites: {table: analytics.sites_v2, columns: {site_id: id, created_at: created}}
      events: {table: raw.events, columns: {ts: event_time}}

There every source is a ``table`` (a table or view, ``database.name`` or a
name in the URL's database); ``file`` sources and ``connection.path`` are
DuckDB's only. Column names match without regard to case, as Impala and
Spark resolve them. The URL is recorded in info.json, so it cannot contain
a secret: an ``impala://`` URL's password comes from
``PIPE_IMPALA_PASSWORD`` or keyring, and a Spark ``conf.KEY`` named like a
password, token or secret is rejected.
``pipe.config_hive`` writes the subqueries in HiveQL. The rules above hold
there, with one exception: Impala cannot convert a text timestamp's zone
suffix to UTC, so on Impala such a value fails the value check below and
the command stops. Spark converts the suffix as DuckDB does.

The file is checked when it is opened, before any query of pipe's stages.
Unknown keys, missing tables and columns, and text values that do not parse
as the column's type raise a ``WarehouseError`` (exit status 2) that names
the key, table or column and the file.

The value check reads every row of each source that has a text column cast
to another type, once per command that opens the warehouse. It is kept on
Impala and Spark too, where that can be a large scan, because there a bad
value would otherwise become NULL (Impala) or fail a build midway (Spark),
and Impala could read a text timestamp with a zone suffix as NULL or as a
wrong instant.
Sources whose columns already have pipe's types (TIMESTAMP, BIGINT, ...) are
not scanned.
"""

from __future__ import annotations

import datetime as dt
import difflib
import glob
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping

import duckdb
import yaml

from pipe.errors import WarehouseError

if TYPE_CHECKING:
    from pipe.engines.base import Engine

CONFIG_SUFFIXES = (".yml", ".yaml")

#: Key names whose values are removed before a configuration is recorded in
#: info.json: a key is secret when its lower-case name contains one of these.
SECRET_KEY_PARTS = ("password", "token", "secret")


@dataclass(frozen=True)
class Column:
    """A column of pipe's warehouse schema: its SQL type and whether it may read as NULL."""

    type: str
    nullable: bool = True


#: pipe's warehouse schema by table, with the same tables and types as the README.
TABLE_COLUMNS: dict[str, dict[str, Column]] = {
    "sites": {
        "site_id": Column("BIGINT", nullable=False),
        "user_id": Column("BIGINT"),
        "created_at": Column("TIMESTAMP", nullable=False),
        "lang": Column("VARCHAR"),
        "country": Column("VARCHAR"),
    },
    "users": {
        "user_id": Column("BIGINT", nullable=False),
        "created_at": Column("TIMESTAMP", nullable=False),
        "lang": Column("VARCHAR"),
        "country": Column("VARCHAR"),
    },
    "subscriptions": {
        "site_id": Column("BIGINT"),
        "user_id": Column("BIGINT"),
        "product": Column("VARCHAR"),
        "is_paid": Column("BOOLEAN", nullable=False),
        "started_at": Column("TIMESTAMP", nullable=False),
        "ended_at": Column("TIMESTAMP"),
    },
    "events": {
        "site_id": Column("BIGINT"),
        "user_id": Column("BIGINT"),
        "event": Column("VARCHAR", nullable=False),
        "ts": Column("TIMESTAMP", nullable=False),
    },
    "traffic": {
        "site_id": Column("BIGINT", nullable=False),
        "day": Column("DATE", nullable=False),
        "views": Column("BIGINT", nullable=False),
        "visitors": Column("BIGINT"),
    },
}

#: The id column of each entity table. Rows where it is NULL are left out.
ENTITY_KEYS = {"sites": "site_id", "users": "user_id"}

#: Tables whose rows belong to a site or a user: at least one of the two
#: columns must be mapped, or no cohort could read the table.
OWNER_COLUMNS = ("site_id", "user_id")
OWNED_TABLES = ("subscriptions", "events")

#: Rows of a table where this column is NULL are left out (see the module docstring).
REQUIRED_VALUES = {**ENTITY_KEYS, "events": "event"}

ENGINES = ("duckdb", "impala", "spark")

#: The URL schemes that each engine other than DuckDB accepts in ``connection.url``.
URL_SCHEMES = {"impala": ("impala",), "spark": ("spark", "spark+local", "spark+yarn")}

FILE_FORMATS = ("csv", "parquet")
FORMAT_SUFFIXES = {".csv": "csv", ".tsv": "csv", ".csv.gz": "csv", ".tsv.gz": "csv", ".parquet": "parquet", ".pq": "parquet"}


# --- the allowed keys ------------------------------------------------------


@dataclass(frozen=True)
class Key:
    """One allowed key of the configuration file.

    ``kind`` is ``mapping`` (with the allowed ``keys``), ``text``, ``date``,
    ``text list`` or ``column`` (a source column name, or null for NULL).
    """

    kind: str
    help: str
    required: bool = False
    keys: Mapping[str, "Key"] = field(default_factory=dict)
    choices: tuple[str, ...] = ()


def _table_key(table: str) -> Key:
    columns = {
        name: Key("column", f"the source column that holds {name} ({column.type})"
                  + ("" if column.nullable else "; it cannot be null"))
        for name, column in TABLE_COLUMNS[table].items()
    }
    return Key("mapping", f"where the warehouse keeps the {table} table", keys={
        "table": Key("text", "a table or view of the database, optionally schema.name"),
        "file": Key("text", "a CSV or Parquet file or glob, relative to this file (DuckDB only)"),
        "format": Key("text", "the format of file when its suffix does not tell", choices=FILE_FORMATS),
        "columns": Key("mapping", "the source column of each of pipe's columns", keys=columns),
    })


SCHEMA = Key("mapping", "a warehouse configuration", keys={
    "engine": Key("text", "the warehouse engine (default duckdb)", choices=ENGINES),
    "connection": Key("mapping", "how to connect to the engine", keys={
        "path": Key("text", "the DuckDB database file, relative to this file; omit it for an in-memory database (DuckDB only)"),
        "url": Key("text", "the warehouse URL of an Impala or Spark engine, as --warehouse takes it (required for those)"),
    }),
    "complete_through": Key("date", "the last complete day of the data (YYYY-MM-DD), init's default for --complete-through"),
    "sql_path": Key("text list", "extra template folders, relative to this file; they win over the shipped templates"),
    "tables": Key("mapping", "the source of each of pipe's tables", required=True,
                  keys={table: _table_key(table) for table in TABLE_COLUMNS}),
})


# --- parsing ---------------------------------------------------------------


@dataclass(frozen=True)
class TableSource:
    """The source of one of pipe's tables in the warehouse.

    Exactly one of ``table`` (a relation of the database) and ``file`` (an
    absolute path or glob) is set. ``columns`` maps each of pipe's columns to
    its source column, or to None when it reads as NULL.
    """

    name: str
    columns: dict[str, str | None]
    table: str | None = None
    file: str | None = None
    format: str | None = None

    @property
    def shown(self) -> str:
        """The source as a user wrote it, for messages."""
        return f"table {self.table!r}" if self.table else f"file {self.file}"


@dataclass
class WarehouseConfig:
    """A parsed warehouse configuration file.

    ``file`` is the YAML file's absolute path; relative paths in it are
    resolved against its folder. ``content`` is the file as read, for
    info.json. ``database`` is DuckDB's file (None for an in-memory
    database) and ``url`` the warehouse URL of an Impala or Spark engine.
    ``sql`` contains each table's subquery once ``open_configured`` has
    checked the sources against the warehouse.
    """

    file: Path
    content: dict[str, Any]
    engine: str
    database: Path | None
    complete_through: dt.date | None
    sql_path: list[Path]
    tables: dict[str, TableSource]
    url: str | None = None
    sql: dict[str, str] = field(default_factory=dict)

    def describe(self) -> dict[str, Any]:
        """Return the file's path and its content without secrets, for info.json."""
        return {"config_file": str(self.file), "config": redact(self.content)}


def is_config_path(url: str) -> bool:
    """Return whether ``url`` names a configuration file rather than a database."""
    return "://" not in url and url.lower().endswith(CONFIG_SUFFIXES)


def _is_secret(name: str) -> bool:
    return any(part in name.lower() for part in SECRET_KEY_PARTS)


def redact_url(url: str) -> str:
    """Return ``url`` without the query options that name a secret, e.g. ``conf.spark.hadoop.fs.s3a.secret.key``."""
    base, mark, query = url.partition("?")
    if not mark:
        return url
    kept = [(name, value) for name, value in urllib.parse.parse_qsl(query, keep_blank_values=True) if not _is_secret(name)]
    return base + (f"?{urllib.parse.urlencode(kept, safe='/:*')}" if kept else "")


def redact(value: Any) -> Any:
    """Return ``value`` with every mapping key that names a secret removed, at any depth.

    The value of a key named ``url`` also loses its secret query options.
    """
    if isinstance(value, dict):
        return {k: redact_url(v) if k == "url" and isinstance(v, str) else redact(v)
                for k, v in value.items() if not _is_secret(str(k))}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def _invalid(file: Path, message: str) -> WarehouseError:
    return WarehouseError(f"invalid warehouse configuration {file}: {message}")


def load_config(path: str | Path) -> WarehouseConfig:
    """Read and check a configuration file without opening the warehouse."""
    file = Path(path).expanduser().resolve()
    try:
        text = file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WarehouseError(f"warehouse configuration not found: {file}") from None
    except OSError as error:
        raise WarehouseError(f"cannot read warehouse configuration {file}: {error}") from error
    try:
        content = yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise _invalid(file, f"not valid YAML ({' '.join(str(error).split())})") from error
    return parse_config(content, file)


def config_from_record(record: Mapping[str, Any]) -> WarehouseConfig:
    """Rebuild the configuration that ``WarehouseConfig.describe`` recorded in info.json."""
    return parse_config(record["config"], Path(record["config_file"]))


def _check_keys(value: Any, key: Key, where: str, file: Path) -> None:
    """Raise WarehouseError when ``value`` does not fit ``key``, named by its dotted path ``where``."""
    shown = where or "the file"
    if key.kind == "mapping":
        if not isinstance(value, dict):
            raise _invalid(file, f"{shown} must be a mapping of keys, not {value!r}")
        for name, item in value.items():
            if name not in key.keys:
                close = difflib.get_close_matches(str(name), list(key.keys), n=1)
                hint = f"; did you mean {close[0]!r}?" if close else ""
                path = f"{where}.{name}" if where else str(name)
                raise _invalid(file, f"unknown key {path!r}; expected one of: {', '.join(key.keys)}{hint}")
            _check_keys(item, key.keys[name], f"{where}.{name}" if where else str(name), file)
        for name, child in key.keys.items():
            if child.required and name not in value:
                raise _invalid(file, f"missing key {f'{where}.{name}' if where else name!r}: {child.help}")
    elif key.kind == "text":
        if not isinstance(value, str) or not value.strip():
            raise _invalid(file, f"{shown} must be non-empty text ({key.help}), not {value!r}")
        if key.choices and value not in key.choices:
            raise _invalid(file, f"{shown} is {value!r}; expected one of: {', '.join(key.choices)}")
    elif key.kind == "column":
        if value is not None and (not isinstance(value, str) or not value):
            raise _invalid(file, f"{shown} must be a column name or null, not {value!r}")
    elif key.kind == "date":
        if isinstance(value, dt.datetime) or not isinstance(value, (dt.date, str)):
            raise _invalid(file, f"{shown} must be a date (YYYY-MM-DD), not {value!r}")
        if isinstance(value, str):
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise _invalid(file, f"{shown} is {value!r}; expected a date (YYYY-MM-DD)") from None
    elif key.kind == "text list":
        items = [value] if isinstance(value, str) else value
        if not isinstance(items, list) or not all(isinstance(item, str) and item for item in items):
            raise _invalid(file, f"{shown} must be a folder or a list of folders, not {value!r}")


def _file_format(table: str, spec: dict, file: Path) -> str:
    if "format" in spec:
        return spec["format"]
    name = spec["file"].lower()
    for suffix, fmt in FORMAT_SUFFIXES.items():
        if name.endswith(suffix):
            return fmt
    raise _invalid(file, f"tables.{table}.file {spec['file']!r} has no .csv or .parquet suffix; add format: csv or format: parquet")


def _table_source(table: str, spec: dict, base: Path, file: Path, engine: str) -> TableSource:
    where = f"tables.{table}"
    source_keys = [k for k in ("table", "file") if k in spec]
    if len(source_keys) != 1:
        raise _invalid(file, f"{where} needs exactly one of 'table' (a table of the database) or 'file' (CSV or Parquet files)")
    if "file" in spec and engine != "duckdb":
        raise _invalid(file, f"{where}.file {spec['file']!r}: engine {engine} reads tables only, and files are read by "
                             "engine duckdb; create a table over the files (CREATE EXTERNAL TABLE ... LOCATION) and map it with table:")
    if "format" in spec and "file" not in spec:
        raise _invalid(file, f"{where}.format applies only to 'file'")

    mapped = spec.get("columns") or {}
    columns: dict[str, str | None] = {}
    for name, column in TABLE_COLUMNS[table].items():
        source = mapped.get(name, name)
        if source is None and not column.nullable:
            raise _invalid(file, f"{where}.columns.{name} cannot be null: pipe needs {name} of {table}")
        columns[name] = source
    if table in OWNED_TABLES and all(columns[name] is None for name in OWNER_COLUMNS):
        raise _invalid(file, f"{where}.columns maps neither site_id nor user_id to a column, so no cohort could read {table}")

    if "table" in spec:
        return TableSource(table, columns, table=spec["table"])
    pattern = spec["file"]
    absolute = Path(pattern).expanduser()
    absolute = absolute if absolute.is_absolute() else base / absolute
    return TableSource(table, columns, file=str(absolute), format=_file_format(table, spec, file))


def parse_config(content: Any, file: Path) -> WarehouseConfig:
    """Check ``content`` (the parsed YAML of ``file``) against ``SCHEMA`` and return it parsed."""
    file = Path(file)
    if content is None:
        content = {}
    _check_keys(content, SCHEMA, "", file)
    base = file.parent
    tables = content["tables"]
    if "events" not in tables:
        raise _invalid(file, "missing table 'events' under tables: pipe reads events for labels, features and the last complete day")
    if not any(name in tables for name in ENTITY_KEYS):
        raise _invalid(file, "missing an entity table under tables: map 'sites', 'users' or both")

    engine = content.get("engine", "duckdb")
    url = _connection_url(content.get("connection", {}), engine, file)
    database = content.get("connection", {}).get("path")
    database_path = None
    if database is not None and database != ":memory:":
        database_path = Path(database).expanduser()
        database_path = database_path if database_path.is_absolute() else base / database_path

    sql_path = content.get("sql_path") or []
    folders = [base / p for p in ([sql_path] if isinstance(sql_path, str) else sql_path)]
    for folder in folders:
        if not folder.is_dir():
            raise _invalid(file, f"sql_path folder not found: {folder}")

    complete_through = content.get("complete_through")
    if isinstance(complete_through, str):
        complete_through = dt.date.fromisoformat(complete_through)

    return WarehouseConfig(
        file=file,
        content=content,
        engine=engine,
        database=database_path,
        complete_through=complete_through,
        sql_path=[folder.resolve() for folder in folders],
        tables={name: _table_source(name, spec, base, file, engine) for name, spec in tables.items()},
        url=url,
    )


def _connection_url(connection: dict, engine: str, file: Path) -> str | None:
    """Return ``connection.url`` checked against ``engine``, or None for DuckDB."""
    url = connection.get("url")
    if engine == "duckdb":
        if url is not None:
            raise _invalid(file, "connection.url needs engine: impala or engine: spark; engine duckdb (the default) reads connection.path")
        return None
    if "path" in connection:
        raise _invalid(file, f"connection.path applies to engine duckdb; engine {engine} reads connection.url")
    schemes = URL_SCHEMES[engine]
    if url is None:
        raise _invalid(file, f"missing key 'connection.url': engine {engine} needs a warehouse URL ({' or '.join(s + '://...' for s in schemes)})")
    scheme = url.partition("://")[0]
    if scheme not in schemes:
        raise _invalid(file, f"connection.url has scheme {scheme!r}, which does not fit engine {engine}; "
                             f"expected {' or '.join(s + '://...' for s in schemes)}")
    if engine == "impala":
        from pipe.engines.impala import parse_url
    else:
        from pipe.engines.spark import parse_url
    try:
        # The engine's own parser: it rejects a password in the URL, so none reaches info.json.
        parse_url(url)
    except WarehouseError as error:
        raise _invalid(file, f"connection.url: {error.format_message()}") from None
    return url


# --- SQL for DuckDB --------------------------------------------------------
# The subqueries use DuckDB's SQL (read_csv, timezone, TRY_CAST). Those of
# Impala and Spark are in pipe.config_hive.


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _source_sql(source: TableSource) -> str:
    """Return the FROM item that reads ``source`` in place."""
    if source.table is not None:
        return ".".join(_quote(part) for part in source.table.split("."))
    if source.format == "csv":
        # Every column is read as text and cast explicitly, so that the types
        # do not depend on DuckDB's sample of the file and bad values are
        # found by the check in _check_values.
        return f"read_csv({_literal(source.file)}, header = true, all_varchar = true)"
    return f"read_parquet({_literal(source.file)})"


def _is_text(source_type: str) -> bool:
    return source_type == "VARCHAR"


def _is_zoned(source_type: str) -> bool:
    return source_type == "TIMESTAMP WITH TIME ZONE"


def _column_sql(column: Column, reference: str, source_type: str) -> str:
    """Return the expression that reads a source column as ``column.type``.

    Zoned timestamps, and text that parses as one, are converted to UTC.
    Casting text to TIMESTAMPTZ reads a value without a zone in the session's
    time zone, which ``open_configured`` sets to UTC.
    """
    if column.type in ("TIMESTAMP", "DATE"):
        if _is_text(source_type):
            utc = f"timezone('UTC', CAST({reference} AS TIMESTAMPTZ))"
        elif _is_zoned(source_type):
            utc = f"timezone('UTC', {reference})"
        else:
            utc = reference
        return f"CAST({utc} AS {column.type})"
    if source_type == column.type:
        return reference
    return f"CAST({reference} AS {column.type})"


def _parse_type(column: Column) -> str:
    """The type that text must parse as to be read as ``column``."""
    return "TIMESTAMPTZ" if column.type in ("TIMESTAMP", "DATE") else column.type


TIME_TYPES = ("TIMESTAMP", "TIMESTAMP_S", "TIMESTAMP_MS", "TIMESTAMP_NS", "TIMESTAMP WITH TIME ZONE", "DATE", "VARCHAR")


def table_subquery(source: TableSource, types: dict[str, str], quote: Callable[[str], str] = _quote,
                   column_sql: Callable[[Column, str, str], str] = _column_sql, from_sql: str | None = None,
                   type_name: Callable[[str], str] = lambda type_: type_) -> str:
    """Return the subquery that reads ``source`` with pipe's column names and types.

    ``types`` maps each source column to its type in the engine. The
    defaults write DuckDB's SQL; ``pipe.config_hive`` passes HiveQL's
    quoting, casts, FROM item and type names.
    """
    selected = []
    for name, column in TABLE_COLUMNS[source.name].items():
        mapped = source.columns[name]
        if mapped is None:
            selected.append(f"CAST(NULL AS {type_name(column.type)}) AS {name}")
        else:
            selected.append(f"{column_sql(column, quote(mapped), types[mapped])} AS {name}")
    sql = f"(SELECT {', '.join(selected)} FROM {from_sql or _source_sql(source)} AS {quote('source')}"
    required = REQUIRED_VALUES.get(source.name)
    if required is not None:
        sql += f" WHERE {quote(source.columns[required])} IS NOT NULL"
    return sql + ")"


# --- checks against the warehouse ------------------------------------------


def _source_types(engine: "Engine", config: WarehouseConfig, source: TableSource) -> dict[str, str]:
    """Return the source's columns and DuckDB types, or raise WarehouseError when the source is missing."""
    table = source.name
    if source.file is not None and not glob.glob(source.file, recursive=True):
        raise WarehouseError(f"{config.file}: tables.{table}.file matches no file: {source.file}")
    try:
        rows = engine.fetch_arrow(f"DESCRIBE SELECT * FROM {_source_sql(source)}").to_pylist()
    except duckdb.Error as error:
        first_line = str(error).splitlines()[0]
        where = f"the warehouse {config.database or ':memory:'}" if source.table else source.file
        raise WarehouseError(f"{config.file}: cannot read table {table} from {source.shown} in {where}: {first_line}") from error
    return {row["column_name"]: row["column_type"] for row in rows}


def _check_columns(config: WarehouseConfig, source: TableSource, types: dict[str, str],
                   is_time_type: Callable[[str], bool] = lambda source_type: source_type in TIME_TYPES) -> None:
    """Raise WarehouseError when a mapped column is missing, or a time column has a type that cannot hold a time."""
    table = source.name
    for name, column in TABLE_COLUMNS[table].items():
        mapped = source.columns[name]
        if mapped is None:
            continue
        if mapped not in types:
            close = difflib.get_close_matches(mapped, list(types), n=1)
            hint = f" (the closest column is {close[0]!r})" if close else ""
            null_hint = f", or write {name}: null" if column.nullable else ""
            raise WarehouseError(
                f"{config.file}: column {name} of table {table} reads column {mapped!r}, which {source.shown} does not have "
                f"(it has {', '.join(types)}); map it under tables.{table}.columns.{name}{hint}{null_hint}"
            )
        if column.type in ("TIMESTAMP", "DATE") and not is_time_type(types[mapped]):
            raise WarehouseError(
                f"{config.file}: column {name} of table {table} reads {mapped!r} of type {types[mapped]} from {source.shown}; "
                "expected a timestamp, a date or text"
            )


@dataclass(frozen=True)
class ValueCheck:
    """A text column to check: ``condition`` is true for each value that cannot be read as ``expected``."""

    name: str
    reference: str
    condition: str
    expected: str


def _duckdb_value_checks(source: TableSource, types: dict[str, str]) -> list[ValueCheck]:
    checks = []
    for name, column in TABLE_COLUMNS[source.name].items():
        mapped = source.columns[name]
        if mapped is not None and _is_text(types[mapped]) and column.type != "VARCHAR":
            reference = _quote(mapped)
            condition = f"{reference} IS NOT NULL AND TRY_CAST({reference} AS {_parse_type(column)}) IS NULL"
            expected = "a timestamp" if column.type in ("TIMESTAMP", "DATE") else column.type
            checks.append(ValueCheck(name, reference, condition, expected))
    return checks


def _hive_value_checks(source: TableSource, types: dict[str, str], dialect: str) -> list[ValueCheck]:
    from pipe import config_hive
    from pipe.engines.hive_sql import quote_identifier

    checks = []
    for name, column in TABLE_COLUMNS[source.name].items():
        mapped = source.columns[name]
        if mapped is not None and config_hive.is_text(types[mapped]) and column.type != "VARCHAR":
            reference = quote_identifier(mapped)
            condition = config_hive.unreadable_condition(column, reference, dialect)
            checks.append(ValueCheck(name, reference, condition, config_hive.expected_text(column, dialect)))
    return checks


def _check_values(engine: "Engine", config: WarehouseConfig, source: TableSource, checks: list[ValueCheck], from_sql: str) -> None:
    """Raise when a text column has a value that does not parse as its column's type.

    One scan of the source counts, for each column of ``checks``, the values
    that cannot be read, so a bad value stops the command here and not in
    the middle of a build. The aggregates use CASE, not FILTER, because
    Impala has no FILTER clause.
    """
    if not checks:
        return
    aggregates = ", ".join(
        f"count(CASE WHEN {check.condition} THEN 1 END) AS bad_{index}, "
        f"min(CASE WHEN {check.condition} THEN {check.reference} END) AS example_{index}"
        for index, check in enumerate(checks)
    )
    try:
        row = engine.fetch_arrow(f"SELECT {aggregates} FROM {from_sql} AS source_rows").to_pylist()[0]
    except WarehouseError as error:
        # Impala and Spark report their errors as WarehouseError, which does not name the file.
        columns = ", ".join(check.name for check in checks)
        raise WarehouseError(f"{config.file}: cannot check the values of {columns} of table {source.name} in {source.shown}: "
                             f"{error.format_message()}") from error
    for index, check in enumerate(checks):
        bad, example = row[f"bad_{index}"], row[f"example_{index}"]
        if bad:
            values_text = "1 value" if bad == 1 else f"{bad} values"
            raise WarehouseError(
                f"{config.file}: column {check.name} of table {source.name} has {values_text} in {source.shown} that cannot be "
                f"read as {check.expected}, e.g. {example!r}; fix the data or map another column"
            )


def open_configured(config: WarehouseConfig, read_only: bool = False) -> "Engine":
    """Open the warehouse that ``config`` describes and check every table against it.

    Returns the engine with ``engine.config`` set and ``config.sql`` filled.
    Raises WarehouseError, and closes the engine, when a table, file, column
    or value does not fit the configuration.
    """
    if config.url is not None:
        return _open_hive(config, read_only)

    from pipe.engines.duckdb import DuckDBEngine

    if config.database is None:
        # DuckDB cannot open an in-memory database read-only, and nothing outlives it anyway.
        engine, created = DuckDBEngine(":memory:"), False
    else:
        engine, created = _open_database_file(config, read_only)
    try:
        # DuckDB reads text timestamps without a zone in the session's time
        # zone, so the session is set to UTC whatever the machine's zone is.
        engine.execute("SET TimeZone = 'UTC'")
        for name, source in config.tables.items():
            types = _source_types(engine, config, source)
            _check_columns(config, source, types)
            _check_values(engine, config, source, _duckdb_value_checks(source, types), _source_sql(source))
            config.sql[name] = table_subquery(source, types)
    except BaseException:
        engine.close()
        if created:
            # A command that fails writes nothing, so the file made for it goes too.
            config.database.unlink(missing_ok=True)
        raise
    engine.config = config
    return engine


def _open_database_file(config: WarehouseConfig, read_only: bool) -> tuple["Engine", bool]:
    """Open the DuckDB file of ``connection.path``; return the engine and whether the file was created.

    A missing file is created for a command that writes output tables
    (``read_only`` false). A read-only command reads an in-memory database
    instead when every table is a ``file`` source, and raises
    WarehouseError when a ``table`` source needs the file.
    """
    import logging

    from pipe.engines.duckdb import DuckDBEngine

    path = config.database
    if path.exists():
        return DuckDBEngine(str(path), read_only=read_only), False
    where = f"{config.file}: connection.path {path}"
    if not read_only:
        if not path.parent.is_dir():
            raise WarehouseError(f"{where} cannot be created because the folder {path.parent} does not exist; create the folder or fix the path")
        logging.getLogger(__name__).info("creating the DuckDB file %s (connection.path of %s) for the output tables", path, config.file)
        return DuckDBEngine(str(path), create=True), True
    in_database = [name for name, source in config.tables.items() if source.table]
    if in_database:
        tables = f"table {in_database[0]} is" if len(in_database) == 1 else f"tables {', '.join(in_database)} are"
        raise WarehouseError(f"{where} does not exist, but the {tables} read from it; "
                             "fix the path, or map them to CSV or Parquet files with file:")
    # Every table is read from files, so nothing is read from the database
    # yet. `pipe predict` and `pipe evaluate` create it for the output tables.
    return DuckDBEngine(":memory:"), False


def _open_hive(config: WarehouseConfig, read_only: bool) -> "Engine":
    """Open the Impala or Spark engine of ``config.url`` and check every table against it, as ``open_configured`` does."""
    from pipe import config_hive
    from pipe.engines import open_engine

    engine = open_engine(config.url, read_only=read_only)
    try:
        for name, source in config.tables.items():
            types = config_hive.source_types(engine, config, source)
            source = config_hive.match_case(source, types)
            _check_columns(config, source, types, config_hive.is_time_type)
            checks = _hive_value_checks(source, types, engine.dialect)
            _check_values(engine, config, source, checks, config_hive.source_sql(source))
            config.sql[name] = config_hive.table_subquery(source, types)
    except BaseException:
        engine.close()
        raise
    engine.config = config
    return engine


def open_recorded(record: Mapping[str, Any], read_only: bool = False) -> "Engine":
    """Open the warehouse of a project's ``info.json`` ``warehouse`` entry.

    A configuration recorded there is rebuilt from its content. Without one,
    ``path`` is opened as a warehouse URL.
    """
    from pipe.engines import open_engine

    if "config" in record:
        return open_configured(config_from_record(record), read_only=read_only)
    return open_engine(record["path"], read_only=read_only)


# --- table lookups for the other modules -----------------------------------


def describe_warehouse(engine: "Engine") -> dict[str, Any]:
    """Return the warehouse entry of info.json: the engine's settings and any configuration."""
    described = engine.describe()
    if engine.config is not None:
        described.update(engine.config.describe())
    return described


def table_sources(engine: "Engine") -> dict[str, str]:
    """Return what ``{{ table(name) }}`` renders for each of pipe's tables the warehouse has.

    Without a configuration every table keeps its own name.
    """
    if engine.config is not None:
        return dict(engine.config.sql)
    return {name: name for name in TABLE_COLUMNS}


def missing_tables(engine: "Engine", names: tuple[str, ...] | list[str]) -> list[str]:
    """Return the tables of ``names`` that the warehouse lacks.

    With a configuration, a table is missing when the file does not map it.
    """
    if engine.config is not None:
        return [name for name in names if name not in engine.config.tables]
    return [name for name in names if not engine.table_exists(name)]


def missing_tables_hint(engine: "Engine") -> str:
    """Return the end of a message about a missing table: where it is missing, and the fix."""
    if engine.config is not None:
        return f"which {engine.config.file} does not map; add it under tables:"
    return f"which the warehouse {engine.describe().get('path', '')} does not have"
