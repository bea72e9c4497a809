"""Impala through impyla, over the HiveServer2 protocol.

Warehouse URL::

    impala://[USER@]HOST[:PORT][/DATABASE][?OPTION=VALUE&...]

PORT defaults to 21050 (Impala's HiveServer2 port) and DATABASE to
``default``. Options:

``auth``
    ``NOSASL`` (default), ``PLAIN``, ``GSSAPI`` (Kerberos) or ``LDAP``.
``tls``
    ``true`` to use TLS; ``ca_cert=PATH`` checks the server's certificate
    against that CA bundle.
``kerberos_service_name``
    the service principal's name for GSSAPI (default ``impala``).
``timeout``
    seconds that one connection attempt or one request may take (default 30).
``retries``, ``backoff``
    connection attempts (default 3) and the seconds before the first retry
    (default 1, doubled after each failed attempt).
``scratch_database``
    where ``upload`` creates its tables (default: DATABASE).
``dialect``
    ``auto`` (default), ``impala`` or ``spark``: the SQL that the server speaks.
    ``auto`` asks the server its name, so Spark's Thrift server, which also
    speaks HiveServer2, gets Spark SQL.

The password for PLAIN and LDAP comes from the environment variable
``PIPE_IMPALA_PASSWORD``, else from the ``keyring`` package (service
``pipe-impala``, the user's name) when it is installed. A password in the URL
is rejected, so that none reaches info.json or a log.

HiveServer2 has no session-scoped tables, so ``upload`` creates a real table
named ``pipe_tmp_<session>_<name>`` in the scratch database, rewrites the bare
name in later SQL of this engine to it, and drops it in ``close``. A process
killed before ``close`` leaves its tables behind; their names start with the
UTC time the session started, so old ones are easy to find and drop.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import secrets
import socket
import time
import urllib.parse
from dataclasses import dataclass
from typing import Any, Sequence

import pandas as pd
import pyarrow as pa

from pipe.engines.base import Engine, Replacement
from pipe.engines.hive_sql import (
    bind_parameters,
    check_partition_key,
    column_definitions,
    drop_partition_statement,
    first_line,
    overwrite_statement,
    quote_identifier,
    quote_string,
    rename_tables,
    value_columns,
    values_statements,
)
from pipe.errors import WarehouseError

log = logging.getLogger(__name__)

# impyla and thrift log every failed connection attempt with a traceback at
# ERROR level; pipe logs its own retries, so those records are dropped unless
# the application configures the "impala" or "thrift" loggers itself.
for _name in ("impala", "thrift"):
    logging.getLogger(_name).addHandler(logging.NullHandler())

PASSWORD_ENV = "PIPE_IMPALA_PASSWORD"
KEYRING_SERVICE = "pipe-impala"
AUTH_MECHANISMS = ("NOSASL", "PLAIN", "GSSAPI", "LDAP")
DIALECTS = ("auto", "impala", "spark")
DEFAULT_PORT = 21050
FETCH_ROWS = 10_000

#: HiveServer2 column types (as impyla reports them) and their Arrow types.
ARROW_TYPES = {
    "BOOLEAN": pa.bool_(),
    "TINYINT": pa.int8(),
    "SMALLINT": pa.int16(),
    "INT": pa.int32(),
    "INTEGER": pa.int32(),
    "BIGINT": pa.int64(),
    "FLOAT": pa.float32(),
    "DOUBLE": pa.float64(),
    "REAL": pa.float64(),
    "STRING": pa.string(),
    "VARCHAR": pa.string(),
    "CHAR": pa.string(),
    "TIMESTAMP": pa.timestamp("us"),
    "DATE": pa.date32(),
}


@dataclass(frozen=True)
class ImpalaSettings:
    """The connection settings of an ``impala://`` URL; no secret is kept here."""

    host: str
    port: int = DEFAULT_PORT
    database: str = "default"
    user: str | None = None
    auth: str = "NOSASL"
    tls: bool = False
    ca_cert: str | None = None
    kerberos_service_name: str = "impala"
    timeout: float = 30.0
    retries: int = 3
    backoff: float = 1.0
    scratch_database: str | None = None
    dialect: str = "auto"

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    def url(self) -> str:
        """Return the URL that opens these settings again; options at their defaults are left out."""
        defaults = ImpalaSettings(host=self.host)
        query = {}
        for name in ("auth", "tls", "ca_cert", "kerberos_service_name", "timeout", "retries", "backoff", "scratch_database", "dialect"):
            value = getattr(self, name)
            if value != getattr(defaults, name):
                if isinstance(value, bool):
                    query[name] = str(value).lower()
                elif isinstance(value, float):
                    query[name] = f"{value:g}"
                else:
                    query[name] = str(value)
        user = f"{urllib.parse.quote(self.user, safe='')}@" if self.user else ""
        text = f"impala://{user}{self.host}:{self.port}/{self.database}"
        return text + (f"?{urllib.parse.urlencode(query)}" if query else "")


def redact_url(url: str) -> str:
    """Return ``url`` with any password in it replaced by ``***``."""
    url = re.sub(r"(//[^/@:]*):[^/@]*@", r"\1:***@", url)
    return re.sub(r"((?:^|[?&])(?:ldap_)?password=)[^&]*", r"\1***", url)


def _invalid(url: str, message: str) -> WarehouseError:
    return WarehouseError(f"invalid Impala warehouse URL {redact_url(url)!r}: {message}")


def _number(url: str, name: str, text: str, kind: type, minimum: float) -> Any:
    try:
        value = kind(text)
    except ValueError:
        raise _invalid(url, f"{name}={text!r} is not a {'whole ' if kind is int else ''}number") from None
    if value < minimum:
        raise _invalid(url, f"{name}={text!r} must be at least {minimum}")
    return value


def parse_url(url: str) -> ImpalaSettings:
    """Parse an ``impala://`` URL (see the module docstring); raise WarehouseError when it is invalid."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "impala":
        raise _invalid(url, "expected impala://HOST[:PORT][/DATABASE]")
    if parts.password is not None:
        raise _invalid(url, f"a password in the URL would be recorded in info.json; set {PASSWORD_ENV} or store it with keyring instead")
    if not parts.hostname:
        raise _invalid(url, "no host; expected impala://HOST[:PORT][/DATABASE]")
    try:
        port = parts.port or DEFAULT_PORT
    except ValueError:
        raise _invalid(url, "the port is not a number from 1 to 65535") from None
    database = parts.path.strip("/") or "default"
    if "/" in database:
        raise _invalid(url, f"{parts.path!r} is not one database name")

    options: dict[str, Any] = {}
    for name, values in urllib.parse.parse_qs(parts.query, keep_blank_values=True).items():
        text = values[-1]
        if name == "auth":
            if text.upper() not in AUTH_MECHANISMS:
                raise _invalid(url, f"auth={text!r}; expected one of: {', '.join(AUTH_MECHANISMS)}")
            options["auth"] = text.upper()
        elif name == "tls":
            if text.lower() not in ("true", "false", "1", "0"):
                raise _invalid(url, f"tls={text!r}; expected true or false")
            options["tls"] = text.lower() in ("true", "1")
        elif name in ("ca_cert", "kerberos_service_name", "scratch_database"):
            options[name] = text
        elif name in ("timeout", "backoff"):
            options[name] = _number(url, name, text, float, 0.1 if name == "timeout" else 0)
        elif name == "retries":
            options[name] = _number(url, name, text, int, 1)
        elif name == "dialect":
            if text not in DIALECTS:
                raise _invalid(url, f"dialect={text!r}; expected one of: {', '.join(DIALECTS)}")
            options[name] = text
        elif name in ("password", "ldap_password"):
            raise _invalid(url, f"a password in the URL would be recorded in info.json; set {PASSWORD_ENV} or store it with keyring instead")
        else:
            raise _invalid(url, f"unknown option {name!r}; expected auth, tls, ca_cert, kerberos_service_name, "
                                "timeout, retries, backoff, scratch_database or dialect")
    user = urllib.parse.unquote(parts.username) if parts.username else None
    return ImpalaSettings(host=parts.hostname, port=port, database=database, user=user, **options)


def find_password(settings: ImpalaSettings) -> str | None:
    """Return the password from ``PIPE_IMPALA_PASSWORD``, else from keyring, else None."""
    password = os.environ.get(PASSWORD_ENV)
    if password:
        return password
    if settings.user is None:
        return None
    try:
        import keyring
    except ImportError:
        return None
    try:
        return keyring.get_password(KEYRING_SERVICE, settings.user)
    except Exception as error:  # keyring raises backend-specific errors
        log.warning("keyring could not read the password of %s (service %s): %s", settings.user, KEYRING_SERVICE, first_line(error))
        return None


def _transient_errors() -> tuple[type[BaseException], ...]:
    """The errors after which a new connection may succeed: network failures and timeouts."""
    from thrift.transport.TTransport import TTransportException

    return (OSError, socket.timeout, TTransportException, EOFError)


class ImpalaEngine(Engine):
    """A HiveServer2 session on Impala (or on Spark's Thrift server).

    Parameters
    ----------
    location : str
        The URL after ``impala://`` (``open_engine`` strips the scheme).
    read_only : bool
        True when the command writes no output table; ``replace_rows`` then raises.
    """

    dialect = "impala"

    def __init__(self, location: str, read_only: bool = False) -> None:
        self.settings = parse_url(location if location.startswith("impala://") else f"impala://{location}")
        self.read_only = read_only
        self.password = find_password(self.settings) if self.settings.auth in ("PLAIN", "LDAP") else None
        if self.settings.auth == "LDAP" and not self.password:
            raise WarehouseError(
                f"auth=LDAP for {self.settings.address} needs a password: set {PASSWORD_ENV}, "
                f"or store it with `keyring set {KEYRING_SERVICE} {self.settings.user or 'USER'}`"
            )
        self.session_id = f"{dt.datetime.now(dt.timezone.utc):%Y%m%d%H%M%S}_{secrets.token_hex(4)}"
        self.scratch_database = self.settings.scratch_database or self.settings.database
        #: Bare names of uploaded tables (lower case) and the scratch tables that hold them.
        self.uploads: dict[str, str] = {}
        self.server = "unknown"
        self.connection = None
        self.cursor = None
        self._connect()
        if self.settings.dialect != "auto":
            self.dialect = self.settings.dialect
        self._start_session()

    # --- connection ---------------------------------------------------------

    def _connect(self) -> None:
        """Open a connection and a session, retrying transient errors with exponential backoff."""
        from impala.dbapi import connect
        from impala.error import HiveServer2Error

        settings = self.settings
        started = time.perf_counter()
        for attempt in range(1, settings.retries + 1):
            try:
                connection = connect(
                    host=settings.host,
                    port=settings.port,
                    database=settings.database,
                    timeout=settings.timeout,
                    use_ssl=settings.tls,
                    ca_cert=settings.ca_cert,
                    auth_mechanism=settings.auth,
                    user=settings.user,
                    password=self.password,
                    kerberos_service_name=settings.kerberos_service_name,
                    retries=1,
                )
                self.cursor = connection.cursor()
                self.connection = connection
                log.debug("connected to HiveServer2 at %s, database %s, in %.2f s", settings.address, settings.database, time.perf_counter() - started)
                return
            except _transient_errors() as error:
                if attempt == settings.retries:
                    raise WarehouseError(
                        f"cannot connect to HiveServer2 at {settings.address}: {first_line(error)} "
                        f"({attempt} attempts in {time.perf_counter() - started:.1f} s); check that the server runs and "
                        "accepts connections there, or raise ?timeout= and ?retries= in the warehouse URL"
                    ) from error
                delay = settings.backoff * 2 ** (attempt - 1)
                log.warning("connecting to HiveServer2 at %s failed (attempt %d of %d): %s; retrying in %.1f s",
                            settings.address, attempt, settings.retries, first_line(error), delay)
                time.sleep(delay)
            except HiveServer2Error as error:
                raise WarehouseError(f"HiveServer2 at {settings.address} rejected the session for database "
                                     f"{settings.database!r} (auth {settings.auth}): {first_line(error)}") from error

    def _start_session(self) -> None:
        """Find out which server this is and set the session's time zone on Spark."""
        server = self._server_name()
        self.server = server
        if self.settings.dialect == "auto":
            lowered = server.lower()
            if "impala" in lowered:
                self.dialect = "impala"
            elif "spark" in lowered:
                self.dialect = "spark"
            else:
                raise WarehouseError(
                    f"the HiveServer2 server at {self.settings.address} is {server!r}; pipe speaks Impala and Spark SQL. "
                    "Add ?dialect=impala or ?dialect=spark to the warehouse URL to choose one"
                )
        if self.dialect == "spark":
            # pipe's timestamps are UTC; Spark reads and prints TIMESTAMP
            # values in the session's time zone.
            self._run("SET spark.sql.session.timeZone=UTC", fetch=False)
        log.debug("HiveServer2 at %s is %s; rendering SQL for %s", self.settings.address, server, self.dialect)

    def _server_name(self) -> str:
        """Return the server's name and version from the HiveServer2 GetInfo call."""
        from impala._thrift_gen.TCLIService.ttypes import TGetInfoReq, TGetInfoType

        session = self.cursor.session
        try:
            names = []
            for info_type in (TGetInfoType.CLI_DBMS_NAME, TGetInfoType.CLI_DBMS_VER):
                response = session._rpc("GetInfo", TGetInfoReq(sessionHandle=session.handle, infoType=info_type))
                names.append(response.infoValue.stringValue or "")
            return " ".join(name for name in names if name) or "unknown"
        except _transient_errors() as error:
            raise self._lost(error, "asking the server its name") from error

    def _lost(self, error: BaseException, what: str) -> WarehouseError:
        return WarehouseError(f"lost the connection to HiveServer2 at {self.settings.address} while {what}: {first_line(error)}")

    # --- statements ---------------------------------------------------------

    def placeholder(self, name: str) -> str:
        return f"%({name})s"

    def _prepare(self, sql: str, params: dict[str, Any]) -> str:
        """Point bare names of uploaded tables at their scratch tables, then write in the parameters' literals."""
        return bind_parameters(rename_tables(sql, self.uploads), params)

    def _run(self, sql: str, fetch: bool) -> list[tuple] | None:
        """Run one prepared statement; a read is retried on a new connection after a network error."""
        from impala.error import HiveServer2Error

        attempts = self.settings.retries if fetch else 1
        for attempt in range(1, attempts + 1):
            try:
                self.cursor.execute(sql)
                if not fetch:
                    return None
                return self._fetch_all()
            except _transient_errors() as error:
                if attempt == attempts:
                    raise self._lost(error, "running a query" if fetch else "running a statement") from error
                delay = self.settings.backoff * 2 ** (attempt - 1)
                log.warning("query on HiveServer2 at %s failed (attempt %d of %d): %s; reconnecting in %.1f s",
                            self.settings.address, attempt, attempts, first_line(error), delay)
                time.sleep(delay)
                self._close_connection()
                self._connect()
                if self.dialect == "spark":
                    self.cursor.execute("SET spark.sql.session.timeZone=UTC")
            except HiveServer2Error as error:
                raise WarehouseError(f"{self.server} at {self.settings.address} rejected a statement: {first_line(error)}") from error
        return None

    def _fetch_all(self) -> list[tuple]:
        rows: list[tuple] = []
        while True:
            batch = self.cursor.fetchmany(FETCH_ROWS)
            if not batch:
                return rows
            rows.extend(batch)

    def _execute(self, sql: str, params: dict[str, Any]) -> None:
        self._run(self._prepare(sql, params), fetch=False)

    def _fetch_arrow(self, sql: str, params: dict[str, Any]) -> pa.Table:
        rows = self._run(self._prepare(sql, params), fetch=True) or []
        description = self.cursor.description or []
        columns = list(zip(*rows)) if rows else [() for _ in description]
        arrays, names = [], []
        for (name, type_name, *_), values in zip(description, columns):
            names.append(name.split(".")[-1])
            arrow_type = ARROW_TYPES.get(str(type_name).upper())
            arrays.append(pa.array(values, type=arrow_type) if arrow_type is not None or values else pa.array(values, type=pa.null()))
        return pa.table(arrays, names=names)

    def describe(self) -> dict[str, Any]:
        settings = self.settings
        return {
            "engine": "impala",
            "path": settings.url(),
            "host": settings.host,
            "port": settings.port,
            "database": settings.database,
            "user": settings.user,
            "auth": settings.auth,
            "tls": settings.tls,
            "server": self.server,
            "dialect": self.dialect,
        }

    # --- tables -------------------------------------------------------------

    def table_exists(self, name: str) -> bool:
        if name.lower() in self.uploads:
            return True
        database, _, table = name.rpartition(".")
        database = database or self.settings.database
        rows = self._run(f"SHOW TABLES IN {quote_identifier(database)} LIKE {quote_string(table)}", fetch=True) or []
        return any(str(value).lower() == table.lower() for row in rows for value in row)

    def _create_scratch(self, name: str, schema: pa.Schema) -> str:
        target = f"{quote_identifier(self.scratch_database)}.{quote_identifier(f'pipe_tmp_{self.session_id}_{name}'.lower())}"
        storage = "USING parquet" if self.dialect == "spark" else "STORED AS PARQUET"
        self._run(f"DROP TABLE IF EXISTS {target}", fetch=False)
        self._run(f"CREATE TABLE {target} ({column_definitions(schema)}) {storage}", fetch=False)
        return target

    def upload(self, name: str, table: pa.Table | pd.DataFrame) -> None:
        started = time.perf_counter()
        rows = table if isinstance(table, pa.Table) else pa.Table.from_pandas(table, preserve_index=False)
        if name.lower() not in self.uploads and self.scratch_database != self.settings.database:
            self._run(f"CREATE DATABASE IF NOT EXISTS {quote_identifier(self.scratch_database)}", fetch=False)
        target = self._create_scratch(name, rows.schema)
        self.uploads[name.lower()] = target
        for statement in values_statements(target, rows):
            self._run(statement, fetch=False)
        log.debug("uploaded %d rows to %s as %s in %.2f s", rows.num_rows, target, name, time.perf_counter() - started)

    def replace_rows(self, replacements: Sequence[Replacement]) -> None:
        # NOTE: each table's day is replaced by one INSERT OVERWRITE of its
        # (project, day) partition, which the server commits as a whole; but
        # Impala and Spark have no transaction across tables, so when the
        # second table fails, the first keeps its new rows until a re-run.
        if self.read_only:
            raise WarehouseError(f"the warehouse {self.settings.url()} was opened read-only, so output tables cannot be written")
        for replacement in replacements:
            check_partition_key(replacement)
            self._run(self._prepare(replacement.create_sql, {}), fetch=False)
            if replacement.rows.num_rows == 0:
                self._run(drop_partition_statement(replacement), fetch=False)
                log.debug("%s %s: partition dropped (no rows)", replacement.table, replacement.key)
                continue
            source = f"replace_{replacement.table}"
            self.upload(source, value_columns(replacement))
            try:
                columns = self._table_columns(replacement.table)
                self._run(overwrite_statement(replacement, self.uploads[source], columns), fetch=False)
            finally:
                self._drop_upload(source)
            log.debug("%s %s: partition overwritten with %d rows", replacement.table, replacement.key, replacement.rows.num_rows)

    def _table_columns(self, table: str) -> list[str]:
        """Return the table's column names (lower case) in the table's order, partition columns included."""
        self._run(f"SELECT * FROM {table} LIMIT 0", fetch=True)
        return [name.split(".")[-1].lower() for name, *_ in self.cursor.description or []]

    def _drop_upload(self, name: str) -> None:
        target = self.uploads.pop(name.lower(), None)
        if target is None:
            return
        try:
            self._run(f"DROP TABLE IF EXISTS {target}", fetch=False)
        except WarehouseError as error:
            log.warning("could not drop the scratch table %s: %s", target, error.format_message())

    def _close_connection(self) -> None:
        for closable in (self.cursor, self.connection):
            if closable is None:
                continue
            try:
                closable.close()
            except Exception as error:  # the connection may already be gone
                log.debug("closing the HiveServer2 connection to %s failed: %s", self.settings.address, first_line(error))
        self.cursor = self.connection = None

    def close(self) -> None:
        if self.cursor is not None:
            for name in list(self.uploads):
                self._drop_upload(name)
        self._close_connection()
