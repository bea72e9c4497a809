"""Warehouse URLs of the Impala and Spark engines, and the SQL text both write."""

import datetime as dt

import pytest

from pipe.engines.hive_sql import bind_parameters, quote_string, rename_tables, sql_literal
from pipe.engines.impala import parse_url as parse_impala
from pipe.engines.spark import parse_url as parse_spark
from pipe.errors import WarehouseError


def test_impala_url_defaults():
    settings = parse_impala("impala://analyst@db.example:21051/sales")
    assert (settings.host, settings.port, settings.database, settings.user) == ("db.example", 21051, "sales", "analyst")
    assert (settings.auth, settings.tls, settings.retries, settings.timeout) == ("NOSASL", False, 3, 30.0)
    assert settings.url() == "impala://analyst@db.example:21051/sales"


def test_impala_url_options_round_trip():
    url = "impala://u@h:1/d?auth=LDAP&tls=true&timeout=5&retries=2&backoff=0.5&scratch_database=tmp&dialect=impala"
    settings = parse_impala(url)
    assert (settings.auth, settings.tls, settings.timeout, settings.retries, settings.backoff) == ("LDAP", True, 5.0, 2, 0.5)
    assert parse_impala(settings.url()) == settings


@pytest.mark.parametrize("url, message", [
    ("impala://u:secret@h/d", "password in the URL"),
    ("impala://h/d?password=secret", "password in the URL"),
    ("impala://h/d?auth=KERBEROS", "auth='KERBEROS'"),
    ("impala://h/d?retries=0", "retries='0' must be at least 1"),
    ("impala://h/d?colour=red", "unknown option 'colour'"),
    ("impala://h:99999/d", "port"),
    ("impala:///d", "no host"),
])
def test_impala_url_rejected(url, message):
    with pytest.raises(WarehouseError) as error:
        parse_impala(url)
    assert message in error.value.format_message()
    assert "secret" not in error.value.format_message()


def test_ldap_without_password_rejected(monkeypatch):
    from pipe.engines.impala import ImpalaEngine

    monkeypatch.delenv("PIPE_IMPALA_PASSWORD", raising=False)
    with pytest.raises(WarehouseError) as error:
        ImpalaEngine("impala://u@127.0.0.1:1/d?auth=LDAP")
    assert "PIPE_IMPALA_PASSWORD" in error.value.format_message()


@pytest.mark.parametrize("url, master, database", [
    ("spark+local://2", "local[2]", "default"),
    ("spark+local://*/sales", "local[*]", "sales"),
    ("spark://master.example:7077/sales", "spark://master.example:7077", "sales"),
    ("spark+yarn:///sales", "yarn", "sales"),
])
def test_spark_url_master(url, master, database):
    settings = parse_spark(url)
    assert (settings.master, settings.database) == (master, database)
    assert parse_spark(settings.url()) == settings


@pytest.mark.parametrize("url, message", [
    ("spark+local://zero", "not a number of cores"),
    ("spark://master-without-port", "HOST:PORT"),
    ("spark+local://2/d?catalog=delta", "catalog='delta'"),
    ("spark+local://2/d?memory=2g", "unknown option 'memory'"),
    ("spark+local://2/d?conf.spark.ssl.keyPassword=p4ss", "'conf.spark.ssl.keyPassword' looks like a secret"),
])
def test_spark_url_rejected(url, message):
    with pytest.raises(WarehouseError) as error:
        parse_spark(url)
    assert message in error.value.format_message()
    assert "p4ss" not in error.value.format_message()


@pytest.mark.parametrize("value, literal", [
    (None, "NULL"),
    (True, "TRUE"),
    (12, "12"),
    (0.25, "0.25"),
    (float("nan"), "NULL"),
    ("it's", r"'it\'s'"),
    ("back\\slash", r"'back\\slash'"),
    ("line\nbreak", r"'line\nbreak'"),
    (dt.date(2025, 3, 1), "CAST('2025-03-01' AS DATE)"),
    (dt.datetime(2025, 3, 1, 12, 30), "CAST('2025-03-01 12:30:00.000000' AS TIMESTAMP)"),
    (dt.datetime(2025, 3, 1, 14, 30, tzinfo=dt.timezone(dt.timedelta(hours=2))), "CAST('2025-03-01 12:30:00.000000' AS TIMESTAMP)"),
])
def test_sql_literal(value, literal):
    assert sql_literal(value) == literal


def test_bind_parameters_leaves_other_percent_signs():
    sql = "SELECT MOD(a, 7) % 2, 'x:y', %(pattern)s, %(pattern_2)s FROM t WHERE b LIKE '%(other)s'"
    bound = bind_parameters(sql, {"pattern": "%(pattern_2)s'", "pattern_2": 1})
    assert bound == "SELECT MOD(a, 7) % 2, 'x:y', " + quote_string("%(pattern_2)s'") + ", 1 FROM t WHERE b LIKE '%(other)s'"


def test_rename_tables_only_bare_names():
    sql = "SELECT e.pipe_eligible, 'pipe_eligible' FROM pipe_eligible e JOIN db.pipe_eligible x -- pipe_eligible\nJOIN PIPE_ELIGIBLE y"
    renamed = rename_tables(sql, {"pipe_eligible": "scratch.t"})
    assert renamed == "SELECT e.pipe_eligible, 'pipe_eligible' FROM scratch.t e JOIN db.pipe_eligible x -- pipe_eligible\nJOIN scratch.t y"
