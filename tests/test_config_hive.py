"""Warehouse configuration files for Impala and Spark, without a JVM or a server.

The subqueries are checked as SQL text. The checks at open time run against
``HiveDouble``, an engine that returns canned DESCRIBE rows and value-check
counts and records every statement. ``tests/test_engine_spark.py`` runs a
configuration on a real local SparkSession.
"""

from __future__ import annotations

import json
import textwrap

import pyarrow as pa
import pytest

from pipe import config_hive
from pipe.config import TableSource, load_config, open_configured, redact
from pipe.engines.base import Engine
from pipe.errors import WarehouseError

SPARK_URL = "spark+local://2/analytics?warehouse=/tmp/pipe-warehouse"
IMPALA_URL = "impala://etl@hs2.example.com:21050/analytics?auth=LDAP"

CONFIG = f"""\
engine: spark
connection:
  url: {SPARK_URL}
complete_through: 2025-09-01
tables:
  sites:
    table: analytics.sites_v2
    columns: {{site_id: id, user_id: Owner, created_at: created, lang: language}}
  events:
    table: raw.events
    columns: {{user_id: UserId, event: Kind, ts: EVENT_TIME}}
"""

SITES = TableSource("sites", {"site_id": "id", "user_id": "owner", "created_at": "created", "lang": "language", "country": None},
                    table="analytics.sites_v2")
SITES_TYPES = {"id": "int", "owner": "bigint", "created": "string", "language": "varchar(20)"}


def write_config(folder, text: str = CONFIG):
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "warehouse.yml"
    path.write_text(text)
    return path


# --- rendered SQL ------------------------------------------------------------


def test_sites_subquery():
    sql = config_hive.table_subquery(SITES, SITES_TYPES)

    assert sql == (
        "(SELECT CAST(`id` AS BIGINT) AS site_id, `owner` AS user_id, CAST(`created` AS TIMESTAMP) AS created_at, "
        "CAST(`language` AS STRING) AS lang, CAST(NULL AS STRING) AS country "
        "FROM `analytics`.`sites_v2` AS `source` WHERE `id` IS NOT NULL)"
    )


def test_events_subquery_reads_typed_columns():
    source = TableSource("events", {"site_id": None, "user_id": "uid", "event": "kind", "ts": "at"}, table="events")

    sql = config_hive.table_subquery(source, {"uid": "bigint", "kind": "string", "at": "timestamp_ntz"})

    assert sql == (
        "(SELECT CAST(NULL AS BIGINT) AS site_id, `uid` AS user_id, `kind` AS event, CAST(`at` AS TIMESTAMP) AS ts "
        "FROM `events` AS `source` WHERE `kind` IS NOT NULL)"
    )


def test_timestamp_column_read_as_is():
    source = TableSource("events", {"site_id": "s", "user_id": "u", "event": "e", "ts": "t"}, table="db.events")

    sql = config_hive.table_subquery(source, {"s": "bigint", "u": "bigint", "e": "string", "t": "timestamp"})

    assert "`t` AS ts" in sql
    assert "`s` AS site_id" in sql


def test_text_date_cast_through_timestamp():
    source = TableSource("traffic", {"site_id": "site", "day": "day", "views": "views", "visitors": None}, table="traffic")

    sql = config_hive.table_subquery(source, {"site": "bigint", "day": "string", "views": "int"})

    assert "CAST(CAST(`day` AS TIMESTAMP) AS DATE) AS day" in sql
    assert "CAST(`views` AS BIGINT) AS views" in sql
    assert "CAST(NULL AS BIGINT) AS visitors" in sql
    assert "WHERE" not in sql


def test_boolean_from_text_cast():
    source = TableSource("subscriptions", {"site_id": "site_id", "user_id": None, "product": "product", "is_paid": "paid",
                                           "started_at": "started_at", "ended_at": "ended_at"}, table="subs")
    types = {"site_id": "bigint", "product": "string", "paid": "string", "started_at": "date", "ended_at": "timestamp"}

    sql = config_hive.table_subquery(source, types)

    assert "CAST(`paid` AS BOOLEAN) AS is_paid" in sql
    assert "CAST(`started_at` AS TIMESTAMP) AS started_at" in sql
    assert "`ended_at` AS ended_at" in sql


def test_spark_value_check_uses_try_cast():
    column = config_hive.TABLE_COLUMNS["events"]["ts"]

    condition = config_hive.unreadable_condition(column, "`at`", "spark")

    assert condition == "`at` IS NOT NULL AND TRY_CAST(`at` AS TIMESTAMP) IS NULL"


def test_impala_value_check_rejects_zone_suffix():
    column = config_hive.TABLE_COLUMNS["events"]["ts"]

    condition = config_hive.unreadable_condition(column, "`at`", "impala")

    assert condition == ("`at` IS NOT NULL AND (CAST(`at` AS TIMESTAMP) IS NULL "
                         "OR `at` RLIKE '[0-9]:[0-9]{2}([.][0-9]*)? *([A-Za-z]|[+-][0-9])')")


def test_impala_value_check_of_bigint():
    column = config_hive.TABLE_COLUMNS["sites"]["site_id"]

    assert config_hive.unreadable_condition(column, "`id`", "impala") == "`id` IS NOT NULL AND CAST(`id` AS BIGINT) IS NULL"


@pytest.mark.parametrize("value, zoned", [
    ("2025-01-02T12:00:00+02:00", True),
    ("2025-01-01T00:00:00Z", True),
    ("2025-01-05T00:00:00.000Z", True),
    ("2025-01-01 00:00:00 UTC", True),
    ("2025-01-01 00:00:00 Europe/Paris", True),
    ("2025-01-06 00:00-05:00", True),
    ("2025-01-03 08:00:00", False),
    ("2025-01-03T08:00:00.123456", False),
    ("2025-01-02", False),
])
def test_zone_suffix_pattern(value, zoned):
    import re

    # Impala's RLIKE finds the pattern anywhere in the value, as re.search does.
    assert (re.search(config_hive.ZONE_SUFFIX_PATTERN, value) is not None) == zoned


# --- checks at open time, on an engine double --------------------------------


class HiveDouble(Engine):
    """An Impala or Spark engine that returns canned DESCRIBE rows and value-check results."""

    def __init__(self, dialect: str, tables: dict[str, list[tuple[str, str]]], bad_values: dict[str, tuple[int, str]] | None = None):
        self.dialect = dialect
        self.tables = tables
        self.bad_values = bad_values or {}
        self.statements: list[str] = []
        self.closed = False

    def placeholder(self, name: str) -> str:
        return f":{name}"

    def describe(self) -> dict:
        return {"engine": self.dialect, "path": SPARK_URL + "&conf.spark.hadoop.fs.s3a.secret.key=hidden"}

    def _execute(self, sql, params) -> None:
        self.statements.append(sql)

    def _fetch_arrow(self, sql, params) -> pa.Table:
        self.statements.append(sql)
        if sql.startswith("DESCRIBE "):
            name = sql.removeprefix("DESCRIBE ").replace("`", "")
            rows = self.tables[name]
            return pa.table({"col_name": [r[0] for r in rows], "data_type": [r[1] for r in rows], "comment": [None] * len(rows)})
        count, example = next((found for column, found in self.bad_values.items() if f"`{column}`" in sql), (0, None))
        return pa.table({"bad_0": [count], "example_0": [example]})

    def table_exists(self, name: str) -> bool:
        return name in self.tables

    def upload(self, name, table) -> None:
        raise NotImplementedError

    def close(self) -> None:
        self.closed = True


SPARK_TABLES = {
    "analytics.sites_v2": [("id", "bigint"), ("Owner", "bigint"), ("created", "timestamp"), ("language", "string"),
                           ("country", "string"), ("# Partition Information", ""), ("# col_name", "data_type"), ("country", "string")],
    "raw.events": [("site_id", "bigint"), ("userid", "bigint"), ("kind", "string"), ("event_time", "string")],
}


@pytest.fixture
def double(monkeypatch):
    """Make open_engine return the HiveDouble that a test puts in ``holder[0]``."""
    holder: list[HiveDouble] = []

    def fake_open_engine(url, read_only=False):
        return holder[0]

    monkeypatch.setattr("pipe.engines.open_engine", fake_open_engine)
    return holder


def test_open_matches_case_and_skips_partition_rows(tmp_path, double):
    double.append(HiveDouble("spark", SPARK_TABLES))

    engine = open_configured(load_config(write_config(tmp_path / "wh")))

    sites = engine.config.sql["sites"]
    events = engine.config.sql["events"]
    assert "`Owner` AS user_id" in sites
    assert "`country` AS country" in sites
    assert "`userid` AS user_id" in events
    assert "CAST(`event_time` AS TIMESTAMP) AS ts" in events
    value_checks = [sql for sql in double[0].statements if sql.startswith("SELECT")]
    assert value_checks == [
        "SELECT count(CASE WHEN `event_time` IS NOT NULL AND TRY_CAST(`event_time` AS TIMESTAMP) IS NULL THEN 1 END) AS bad_0, "
        "min(CASE WHEN `event_time` IS NOT NULL AND TRY_CAST(`event_time` AS TIMESTAMP) IS NULL THEN `event_time` END) AS example_0 "
        "FROM `raw`.`events` AS source_rows"
    ]


def test_open_on_impala_rejects_zone_suffix(tmp_path, double):
    double.append(HiveDouble("impala", SPARK_TABLES, bad_values={"event_time": (3, "2025-01-01T00:00:00Z")}))
    config = write_config(tmp_path / "wh", CONFIG.replace(SPARK_URL, IMPALA_URL).replace("engine: spark", "engine: impala"))

    with pytest.raises(WarehouseError) as raised:
        open_configured(load_config(config))

    message = raised.value.format_message()
    assert message.startswith(f"{config}: column ts of table events has 3 values in table 'raw.events'")
    assert "without a time zone suffix" in message
    assert "'2025-01-01T00:00:00Z'" in message
    assert " RLIKE " in double[0].statements[-1]
    assert double[0].closed


def test_open_rejects_missing_table(tmp_path, double):
    double.append(HiveDouble("spark", {"raw.events": SPARK_TABLES["raw.events"]}))
    config = write_config(tmp_path / "wh")

    with pytest.raises(WarehouseError) as raised:
        open_configured(load_config(config))

    assert raised.value.format_message() == f"{config}: tables.sites.table 'analytics.sites_v2' not found in the warehouse {SPARK_URL}"
    assert double[0].closed


def test_open_rejects_missing_column(tmp_path, double):
    double.append(HiveDouble("spark", SPARK_TABLES))
    config = write_config(tmp_path / "wh", CONFIG.replace("ts: EVENT_TIME", "ts: happened_at"))

    with pytest.raises(WarehouseError) as raised:
        open_configured(load_config(config))

    message = raised.value.format_message()
    assert message.startswith(f"{config}: column ts of table events reads column 'happened_at', which table 'raw.events' does not have")
    assert "tables.events.columns.ts" in message


def test_open_rejects_number_as_timestamp(tmp_path, double):
    tables = {**SPARK_TABLES, "raw.events": [("site_id", "bigint"), ("userid", "bigint"), ("kind", "string"), ("event_time", "bigint")]}
    double.append(HiveDouble("spark", tables))
    config = write_config(tmp_path / "wh")

    with pytest.raises(WarehouseError) as raised:
        open_configured(load_config(config))

    assert "reads 'event_time' of type bigint from table 'raw.events'; expected a timestamp, a date or text" in raised.value.format_message()


def test_url_secret_rejected_unshown(tmp_path):
    secret_url = SPARK_URL + "&conf.spark.hadoop.fs.s3a.secret.key=hidden&conf.spark.executor.memory=2g"
    config = write_config(tmp_path / "wh", CONFIG.replace(SPARK_URL, secret_url))

    with pytest.raises(WarehouseError) as raised:
        load_config(config)

    message = raised.value.format_message()
    assert "'conf.spark.hadoop.fs.s3a.secret.key' looks like a secret" in message
    assert "hidden" not in message


def test_redact_url_options():
    content = {"connection": {"url": "spark://h:7077/db?conf.spark.ssl.keyPassword=x&conf.a=1", "password": "p"}}

    assert redact(content) == {"connection": {"url": "spark://h:7077/db?conf.a=1"}}


# --- the file's keys ----------------------------------------------------------


def assert_rejected(result, home, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert len(result.stderr.splitlines()) == 1, result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert not home.exists()


def spark_config(old: str, new: str) -> str:
    assert old in CONFIG
    return CONFIG.replace(old, new)


INVALID_CONFIGS = [
    ("file source on spark", spark_config("    table: raw.events", "    file: exports/events.parquet"),
     ["tables.events.file 'exports/events.parquet': engine spark reads tables only", "table:"]),
    ("impala scheme for spark", spark_config(SPARK_URL, IMPALA_URL),
     ["connection.url has scheme 'impala', which does not fit engine spark", "spark+local://..."]),
    ("spark scheme for impala", spark_config("engine: spark", "engine: impala"),
     ["connection.url has scheme 'spark+local', which does not fit engine impala; expected impala://..."]),
    ("missing url", spark_config(f"  url: {SPARK_URL}", "  path: wh.duckdb"),
     ["connection.path applies to engine duckdb; engine spark reads connection.url"]),
    ("no connection", spark_config(f"connection:\n  url: {SPARK_URL}\n", ""),
     ["missing key 'connection.url': engine spark needs a warehouse URL"]),
    ("url for duckdb", spark_config("engine: spark", "engine: duckdb"),
     ["connection.url needs engine: impala or engine: spark; engine duckdb (the default) reads connection.path"]),
    ("invalid spark url", spark_config(SPARK_URL, "spark+local://many/analytics"),
     ["connection.url: invalid Spark warehouse URL", "'many' is not a number of cores"]),
    ("unknown connection key", spark_config(f"  url: {SPARK_URL}", f"  url: {SPARK_URL}\n  user: etl"),
     ["unknown key 'connection.user'"]),
]


@pytest.mark.parametrize("text, fragments", [c[1:] for c in INVALID_CONFIGS], ids=[c[0].replace(" ", "-") for c in INVALID_CONFIGS])
def test_invalid_hive_config_rejected(run, tmp_path, text, fragments):
    config = write_config(tmp_path / "wh", text)

    result = run("init", "p", "--warehouse", str(config), "--conversion", "site_any:event_like_^buy$",
                 "--analysis-end", "2025-08-01", "--window", "10")

    assert_rejected(result, tmp_path / "home", str(config), *fragments)


def test_password_in_url_rejected(run, tmp_path):
    text = CONFIG.replace("engine: spark", "engine: impala").replace(SPARK_URL, "impala://etl:hunter2@hs2.example.com/analytics?auth=LDAP")
    config = write_config(tmp_path / "wh", text)

    result = run("init", "p", "--warehouse", str(config), "--conversion", "site_any:event_like_^buy$",
                 "--analysis-end", "2025-08-01", "--window", "10")

    assert_rejected(result, tmp_path / "home", str(config), "connection.url: invalid Impala warehouse URL", "set PIPE_IMPALA_PASSWORD")
    assert "hunter2" not in result.stderr


def test_impala_config_parsed(tmp_path):
    text = textwrap.dedent(f"""\
        engine: impala
        connection: {{url: "{IMPALA_URL}"}}
        tables:
          users: {{table: accounts, columns: {{user_id: id}}}}
          events: {{table: raw.events}}
        """)

    config = load_config(write_config(tmp_path / "wh", text))

    assert config.engine == "impala"
    assert config.url == IMPALA_URL
    assert config.database is None
    assert config.tables["users"].table == "accounts"
    assert config.tables["events"].columns["ts"] == "ts"


def test_failed_value_check_names_file(tmp_path, double):
    class RejectingDouble(HiveDouble):
        def _fetch_arrow(self, sql, params):
            if sql.startswith("SELECT"):
                raise WarehouseError("impalad rejected a statement: AnalysisException: Invalid type cast")
            return super()._fetch_arrow(sql, params)

    double.append(RejectingDouble("impala", SPARK_TABLES))
    config = write_config(tmp_path / "wh", CONFIG.replace(SPARK_URL, IMPALA_URL).replace("engine: spark", "engine: impala"))

    with pytest.raises(WarehouseError) as raised:
        open_configured(load_config(config))

    assert raised.value.format_message() == (f"{config}: cannot check the values of ts of table events in table 'raw.events': "
                                             "impalad rejected a statement: AnalysisException: Invalid type cast")
