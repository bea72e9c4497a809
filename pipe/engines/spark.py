"""Spark through pyspark: a SparkSession in the pipe process.

Warehouse URLs name the master and the database::

    spark+local://N[/DATABASE][?OPTION=VALUE&...]        master local[N] ("*" for every core)
    spark://HOST:PORT[/DATABASE][?OPTION=VALUE&...]      a standalone cluster's master
    spark+yarn:///DATABASE[?OPTION=VALUE&...]            master yarn

DATABASE defaults to ``default``. Options:

``warehouse``
    the folder of managed tables (``spark.sql.warehouse.dir``). With
    ``spark+local``, the Hive metastore is a Derby database in
    ``WAREHOUSE/metastore_db``, so tables outlive the process.
``catalog``
    ``hive`` (default: tables are kept in a Hive metastore, Derby unless the
    classpath has a hive-site.xml) or ``in-memory`` (tables last as long as
    the process).
``conf.KEY``
    any Spark setting, for example ``conf.spark.driver.memory=2g``; a KEY
    that contains ``password``, ``token`` or ``secret`` is rejected, because
    the URL is recorded in info.json.

The session's time zone is set to UTC, because Spark reads and prints
TIMESTAMP values in it. One SparkSession serves the whole process: a second
engine in the same process reuses it, and ``close`` drops only the engine's
temporary views. Bound parameters are Spark's named parameter markers
(``:name``), so values never become SQL text. Output tables are partitioned
by (project, day), and a day's rows are replaced with INSERT OVERWRITE of its
partition under ``spark.sql.sources.partitionOverwriteMode=dynamic``.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any, Sequence

import pandas as pd
import pyarrow as pa

from pipe.engines.base import Engine, Replacement
from pipe.engines.hive_sql import (
    check_partition_key,
    drop_partition_statement,
    first_line,
    overwrite_statement,
    quote_identifier,
    value_columns,
)
from pipe.config import SECRET_KEY_PARTS as SECRET_NAME_PARTS, redact_url
from pipe.errors import WarehouseError

log = logging.getLogger(__name__)

SCHEMES = ("spark", "spark+local", "spark+yarn")
CATALOGS = ("hive", "in-memory")


@dataclass(frozen=True)
class SparkSettings:
    """The settings of a ``spark...://`` URL."""

    scheme: str
    master: str
    location: str
    database: str = "default"
    warehouse: str | None = None
    catalog: str = "hive"
    conf: dict[str, str] = field(default_factory=dict)

    def url(self) -> str:
        """Return the URL that opens these settings again."""
        query = {}
        if self.warehouse:
            query["warehouse"] = self.warehouse
        if self.catalog != "hive":
            query["catalog"] = self.catalog
        query.update({f"conf.{key}": value for key, value in self.conf.items()})
        text = f"{self.scheme}://{self.location}/{self.database}"
        return text + (f"?{urllib.parse.urlencode(query, safe='/:*')}" if query else "")


def _invalid(url: str, message: str) -> WarehouseError:
    return WarehouseError(f"invalid Spark warehouse URL {redact_url(url)!r}: {message}")


def parse_url(url: str) -> SparkSettings:
    """Parse a Spark warehouse URL (see the module docstring); raise WarehouseError when it is invalid."""
    scheme, _, rest = url.partition("://")
    if scheme not in SCHEMES:
        raise _invalid(url, f"expected one of: {', '.join(s + '://' for s in SCHEMES)}")
    rest, _, query = rest.partition("?")
    location, _, database = rest.partition("/")
    database = database.strip("/") or "default"
    if "/" in database:
        raise _invalid(url, f"{database!r} is not one database name")
    if scheme == "spark+local":
        if location != "*" and not (location.isdigit() and int(location) > 0):
            raise _invalid(url, f"{location!r} is not a number of cores; expected spark+local://N or spark+local://*")
        master = f"local[{location}]"
    elif scheme == "spark":
        if not location or ":" not in location:
            raise _invalid(url, "expected spark://HOST:PORT[/DATABASE], the standalone master's address")
        master = f"spark://{location}"
    else:
        if location:
            raise _invalid(url, "expected spark+yarn:///DATABASE; YARN finds the cluster from HADOOP_CONF_DIR")
        master = "yarn"

    options: dict[str, Any] = {"conf": {}}
    for name, values in urllib.parse.parse_qs(query, keep_blank_values=True).items():
        text = values[-1]
        if name == "warehouse":
            options["warehouse"] = os.path.abspath(text) if scheme == "spark+local" else text
        elif name == "catalog":
            if text not in CATALOGS:
                raise _invalid(url, f"catalog={text!r}; expected one of: {', '.join(CATALOGS)}")
            options["catalog"] = text
        elif name.startswith("conf.") and len(name) > 5:
            if any(part in name.lower() for part in SECRET_NAME_PARTS):
                # A URL is recorded in info.json and shown in logs, so a secret must not travel in one.
                raise _invalid(url, f"option {name!r} looks like a secret; set it in spark-defaults.conf "
                                    "(SPARK_CONF_DIR) or the environment instead of the warehouse URL")
            options["conf"][name[5:]] = text
        else:
            raise _invalid(url, f"unknown option {name!r}; expected warehouse, catalog or conf.KEY")
    return SparkSettings(scheme=scheme, master=master, location=location, database=database, **options)


def _session(settings: SparkSettings):
    """Return the process's SparkSession, creating it from ``settings`` when there is none."""
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        raise WarehouseError(f"the Spark engine needs pyspark 4 or newer: pip install pyspark (for {settings.url()})") from None

    active = SparkSession.getActiveSession()
    if active is not None:
        master = active.sparkContext.master
        if master != settings.master:
            log.warning("reusing this process's SparkSession on master %s, not %s", master, settings.master)
        return active
    builder = SparkSession.builder.master(settings.master).appName("pipe")
    builder = builder.config("spark.sql.session.timeZone", "UTC").config("spark.ui.enabled", "false")
    builder = builder.config("spark.ui.showConsoleProgress", "false")
    builder = builder.config("spark.sql.sources.partitionOverwriteMode", "dynamic")
    if settings.scheme == "spark+local":
        # Keep the driver on the loopback interface: a local session needs no other.
        builder = builder.config("spark.driver.host", "127.0.0.1").config("spark.driver.bindAddress", "127.0.0.1")
    if settings.warehouse:
        builder = builder.config("spark.sql.warehouse.dir", settings.warehouse)
        if settings.scheme == "spark+local" and settings.catalog == "hive":
            metastore = os.path.join(settings.warehouse, "metastore_db")
            builder = builder.config("spark.hadoop.javax.jdo.option.ConnectionURL", f"jdbc:derby:;databaseName={metastore};create=true")
            if "spark.driver.extraJavaOptions" not in settings.conf:
                # Derby writes its derby.log into this folder, not the working directory.
                builder = builder.config("spark.driver.extraJavaOptions", f"-Dderby.system.home={settings.warehouse}")
    for key, value in settings.conf.items():
        builder = builder.config(key, value)
    if settings.catalog == "hive":
        builder = builder.enableHiveSupport()
    started = time.perf_counter()
    try:
        session = builder.getOrCreate()
    except Exception as error:  # py4j and the JVM raise many error types here
        raise WarehouseError(f"cannot start Spark on master {settings.master}: {first_line(error)}") from error
    # Spark's own INFO and WARN lines would drown pipe's output on stderr.
    session.sparkContext.setLogLevel("ERROR")
    log.info("started Spark %s on %s in %.1f s", session.version, settings.master, time.perf_counter() - started)
    return session


def _to_parameter(value: Any) -> Any:
    """Return a parameter value as Spark should bind it.

    Dates and timestamps are passed as ISO text, which every template casts:
    pyspark would otherwise read a naive datetime in the Python process's
    local time zone.
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return value.isoformat(sep=" ", timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _to_spark_arrow(table: pa.Table) -> pa.Table:
    """Mark naive timestamps as UTC, so that Spark does not read them in another zone."""
    fields = []
    for field_ in table.schema:
        if pa.types.is_timestamp(field_.type) and field_.type.tz is None:
            field_ = field_.with_type(pa.timestamp("us", tz="UTC"))
        elif pa.types.is_dictionary(field_.type):
            field_ = field_.with_type(field_.type.value_type)
        fields.append(field_)
    return table.cast(pa.schema(fields))


def _from_spark_arrow(table: pa.Table) -> pa.Table:
    """Return Spark's result with UTC timestamps made naive, as pipe reads every time as UTC."""
    fields = []
    for field_ in table.schema:
        if pa.types.is_timestamp(field_.type) and field_.type.tz is not None:
            field_ = field_.with_type(pa.timestamp("us"))
        fields.append(field_)
    return table.cast(pa.schema(fields))


class SparkEngine(Engine):
    """A SparkSession and a database of its catalog."""

    dialect = "spark"

    def __init__(self, settings: SparkSettings, read_only: bool = False) -> None:
        self.settings = settings
        self.read_only = read_only
        self.session = _session(settings)
        self.views: set[str] = set()
        self.session.conf.set("spark.sql.session.timeZone", "UTC")
        self.session.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
        if not self.session.catalog.databaseExists(settings.database):
            raise WarehouseError(f"database {settings.database!r} not found in Spark's catalog ({settings.url()}); "
                                 f"the catalog has: {', '.join(d.name for d in self.session.catalog.listDatabases())}")
        self.session.catalog.setCurrentDatabase(settings.database)

    @classmethod
    def from_location(cls, scheme: str, location: str, read_only: bool = False) -> "SparkEngine":
        """Open the engine of ``scheme://location``, as ``open_engine`` passes it."""
        return cls(parse_url(f"{scheme}://{location}"), read_only=read_only)

    def placeholder(self, name: str) -> str:
        return f":{name}"

    def describe(self) -> dict[str, Any]:
        return {
            "engine": "spark",
            "path": self.settings.url(),
            "master": self.settings.master,
            "database": self.settings.database,
            "spark": self.session.version,
        }

    def _sql(self, sql: str, params: dict[str, Any]):
        from pyspark.errors import PySparkException

        try:
            return self.session.sql(sql, args={name: _to_parameter(value) for name, value in params.items()} or None)
        except PySparkException as error:
            raise WarehouseError(f"Spark rejected a statement: {first_line(error)}") from error

    def _execute(self, sql: str, params: dict[str, Any]) -> None:
        from pyspark.errors import PySparkException

        frame = self._sql(sql, params)
        try:
            frame.collect()
        except PySparkException as error:
            raise WarehouseError(f"Spark failed to run a statement: {first_line(error)}") from error

    def _fetch_arrow(self, sql: str, params: dict[str, Any]) -> pa.Table:
        from pyspark.errors import PySparkException

        frame = self._sql(sql, params)
        try:
            return _from_spark_arrow(frame.toArrow())
        except PySparkException as error:
            raise WarehouseError(f"Spark failed to run a query: {first_line(error)}") from error

    def table_exists(self, name: str) -> bool:
        if name in self.views:
            return True
        database, _, table = name.rpartition(".")
        return bool(self.session.catalog.tableExists(f"{database or self.settings.database}.{table}"))

    def upload(self, name: str, table: pa.Table | pd.DataFrame) -> None:
        rows = table if isinstance(table, pa.Table) else pa.Table.from_pandas(table, preserve_index=False)
        frame = self.session.createDataFrame(_to_spark_arrow(rows))
        frame.createOrReplaceTempView(name)
        self.views.add(name)

    def replace_rows(self, replacements: Sequence[Replacement]) -> None:
        # NOTE: each table's day is one INSERT OVERWRITE of its partition,
        # which Spark commits when the job ends; there is no transaction
        # across tables, so when the second table fails, the first keeps its
        # new rows until a re-run.
        if self.read_only:
            raise WarehouseError(f"the warehouse {self.settings.url()} was opened read-only, so output tables cannot be written")
        for replacement in replacements:
            check_partition_key(replacement)
            self._execute(replacement.create_sql, {})
            if replacement.rows.num_rows == 0:
                self._execute(drop_partition_statement(replacement), {})
                continue
            view = f"pipe_replace_{replacement.table}"
            self.session.createDataFrame(_to_spark_arrow(value_columns(replacement))).createOrReplaceTempView(view)
            try:
                columns = [name.lower() for name in self.session.table(replacement.table).columns]
                self._execute(overwrite_statement(replacement, quote_identifier(view), columns), {})
            finally:
                self.session.catalog.dropTempView(view)
            log.debug("%s %s: partition overwritten with %d rows", replacement.table, replacement.key, replacement.rows.num_rows)

    def close(self) -> None:
        for view in sorted(self.views):
            self.session.catalog.dropTempView(view)
        self.views.clear()
