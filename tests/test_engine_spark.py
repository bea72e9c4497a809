"""The Spark engine (pyspark, a local SparkSession) and the same project on DuckDB and Spark.

One SparkSession serves the module, with a Hive catalog in a Derby database
under a temporary folder; the demo warehouse's tables are Parquet files.
"""

import numpy as np
import pandas as pd
import pytest

from conftest import FAST_MODEL
from spark_warehouse import create_table_statements, export_parquet

from pipe.engines import open_engine
from pipe.features import load_features

DATABASE = "pipe_spark"
INIT = ("--conversion", "site_free:free_to_paid", "--days", "30", "--window", "7",
        "--start", "2025-02-01", "--end", "2025-06-30", *FAST_MODEL)


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from pipe.demo import write_demo_warehouse

    path = tmp_path_factory.mktemp("sparkdemo") / "demo.duckdb"
    write_demo_warehouse(path, n_sites=1000, seed=2)
    return path


@pytest.fixture(scope="module")
def url(demo, tmp_path_factory):
    folders = export_parquet(demo, tmp_path_factory.mktemp("sparkparquet"))
    warehouse = tmp_path_factory.mktemp("sparkwarehouse")
    with open_engine(f"spark+local://2/default?warehouse={warehouse}") as engine:
        for statement in create_table_statements(DATABASE, folders):
            engine.execute(statement)
    return f"spark+local://2/{DATABASE}?warehouse={warehouse}"


@pytest.fixture(scope="module")
def homes(tmp_path_factory):
    return tmp_path_factory.mktemp("spark"), tmp_path_factory.mktemp("duckdb")


@pytest.fixture(scope="module")
def built(url, demo, homes):
    """The same project built on Spark and on DuckDB; returns the two project folders."""
    from click.testing import CliRunner

    from pipe.cli import cli

    runner = CliRunner()
    spark_home, duckdb_home = homes
    for home, warehouse in ((spark_home, url), (duckdb_home, str(demo))):
        for args in (("init", "p", "--warehouse", warehouse, *INIT), ("build", "p")):
            result = runner.invoke(cli, [*args, "--home", str(home)], catch_exceptions=False)
            assert result.exit_code == 0, result.output
    return spark_home / "p", duckdb_home / "p"


def test_spark_engine_settings(url):
    with open_engine(url) as engine:
        assert engine.dialect == "spark"
        assert engine.describe()["path"] == url
        assert engine.describe()["master"] == "local[2]"
        assert engine.table_exists("events")
        engine.upload("pipe_eligible", pd.DataFrame({"entity_id": [1, 2]}))
        assert engine.table_exists("pipe_eligible")
        assert engine.scalar("SELECT :text AS text", {"text": "it's a \\ back'slash --"}) == "it's a \\ back'slash --"
    with open_engine(url) as engine:
        assert not engine.table_exists("pipe_eligible")


def test_same_labels_on_duckdb_and_spark(built):
    spark, duckdb = built
    spark_raw = pd.read_parquet(spark / "raw.parquet")
    duckdb_raw = pd.read_parquet(duckdb / "raw.parquet")
    assert spark_raw["entity_id"].tolist() == duckdb_raw["entity_id"].tolist()
    assert spark_raw["label"].tolist() == duckdb_raw["label"].tolist()
    assert spark_raw["cutoff_at"].astype("datetime64[us]").tolist() == duckdb_raw["cutoff_at"].astype("datetime64[us]").tolist()
    assert spark_raw["label"].sum() > 0


def test_same_features_on_duckdb_and_spark(built):
    spark, duckdb = built
    spark_matrix = load_features(spark / "features.npz")
    duckdb_matrix = load_features(duckdb / "features.npz")
    assert spark_matrix.feature_names == duckdb_matrix.feature_names
    assert np.array_equal(spark_matrix.entity_ids, duckdb_matrix.entity_ids)
    difference = spark_matrix.X != duckdb_matrix.X
    assert difference.nnz == 0, f"{difference.nnz} values differ"


def test_predict_and_evaluate_on_spark(built, url, homes):
    from click.testing import CliRunner

    from pipe.cli import cli

    runner = CliRunner()
    home = str(homes[0])
    for args in (("predict", "p", "--date", "2025-09-08"), ("predict", "p", "--date", "2025-09-08"),
                 ("predict", "p", "--date", "2025-09-09"), ("evaluate", "p", "--date", "2025-09-15")):
        result = runner.invoke(cli, [*args, "--home", home], catch_exceptions=False)
        assert result.exit_code == 0, result.output
        assert f"{args[-1]}: scored" in result.output or args[0] == "evaluate", result.output

    with open_engine(url) as engine:
        predictions = engine.fetch_df("SELECT day, entity_id FROM pipe_predictions WHERE project = 'p'")
        evaluations = engine.fetch_df("SELECT day, prediction_day, n FROM pipe_evaluations WHERE project = 'p'")
    first_day = predictions[predictions["day"].astype(str) == "2025-09-08"]
    assert len(first_day) > 0
    assert first_day["entity_id"].is_unique
    assert evaluations["prediction_day"].astype(str).tolist() == ["2025-09-08"]
    assert evaluations["n"].tolist() == [len(first_day)]


# --- a warehouse configuration file on Spark ----------------------------------

RENAMED = "pipe_renamed"

#: The demo tables under other names, column names and types: text timestamps
#: at +02:00, a text boolean, TIMESTAMP_NTZ event times, a site row with no id
#: and an event with no name, which the configuration must leave out.
RENAMED_TABLES = [
    f"CREATE DATABASE IF NOT EXISTS {RENAMED}",
    f"""CREATE TABLE {RENAMED}.sites_v2 USING parquet AS
        SELECT site_id AS id, user_id AS owner,
               date_format(created_at + INTERVAL 2 HOURS, "yyyy-MM-dd'T'HH:mm:ss.SSS") || '+02:00' AS created,
               lang AS language, country
        FROM {DATABASE}.sites
        UNION ALL SELECT NULL, 1, '2025-03-01T00:00:00Z', 'en', 'us'""",
    f"""CREATE TABLE {RENAMED}.plans USING parquet AS
        SELECT site_id, user_id, product, CAST(is_paid AS STRING) AS paid, started_at, ended_at FROM {DATABASE}.subscriptions""",
    f"""CREATE TABLE {RENAMED}.raw_events USING parquet AS
        SELECT site_id, user_id AS UserId, event AS Kind, CAST(ts AS TIMESTAMP_NTZ) AS event_time FROM {DATABASE}.events
        UNION ALL SELECT 1, NULL, NULL, TIMESTAMP_NTZ '2025-03-01 00:00:00'""",
    f"""CREATE TABLE {RENAMED}.daily_traffic USING parquet AS
        SELECT site_id, CAST(day AS STRING) AS day_text, views, visitors FROM {DATABASE}.traffic""",
    f"""CREATE TABLE {RENAMED}.dirty_events USING parquet AS
        SELECT * FROM (SELECT site_id, user_id, event, CAST(ts AS STRING) AS event_time FROM {DATABASE}.events LIMIT 100)
        UNION ALL SELECT 1, 1, 'open', 'next tuesday'""",
]

SPARK_CONFIG = """\
engine: spark
connection:
  url: {url}
tables:
  sites:
    table: {database}.sites_v2
    columns: {{site_id: id, user_id: owner, created_at: created, lang: language}}
  subscriptions:
    table: plans
    columns: {{is_paid: paid}}
  events:
    table: raw_events
    columns: {{user_id: userid, event: Kind, ts: EVENT_TIME}}
  traffic:
    table: daily_traffic
    columns: {{day: day_text}}
"""


@pytest.fixture(scope="module")
def spark_config(url, tmp_path_factory):
    """A warehouse configuration that maps the renamed tables; returns its path."""
    with open_engine(url) as engine:
        for statement in RENAMED_TABLES:
            engine.execute(statement)
    path = tmp_path_factory.mktemp("sparkconfig") / "warehouse.yml"
    path.write_text(SPARK_CONFIG.format(url=url.replace(f"/{DATABASE}?", f"/{RENAMED}?"), database=RENAMED))
    return path


def test_configured_spark_matches_duckdb(spark_config, built, tmp_path):
    import json

    from click.testing import CliRunner

    from pipe.cli import cli

    runner = CliRunner()
    for args in (("init", "p", "--warehouse", str(spark_config), *INIT), ("build", "p", "--until", "features")):
        result = runner.invoke(cli, [*args, "--home", str(tmp_path)], catch_exceptions=False)
        assert result.exit_code == 0, result.output

    configured, duckdb = tmp_path / "p", built[1]
    info = json.loads((configured / "info.json").read_text())
    duckdb_info = json.loads((duckdb / "info.json").read_text())
    assert info["warehouse"]["config"]["engine"] == "spark"
    assert info["settings"]["complete_through"] == duckdb_info["settings"]["complete_through"]
    raw = pd.read_parquet(configured / "raw.parquet")
    duckdb_raw = pd.read_parquet(duckdb / "raw.parquet")
    assert raw["entity_id"].tolist() == duckdb_raw["entity_id"].tolist()
    assert raw["label"].tolist() == duckdb_raw["label"].tolist()
    assert raw["cutoff_at"].astype("datetime64[us]").tolist() == duckdb_raw["cutoff_at"].astype("datetime64[us]").tolist()
    matrix = load_features(configured / "features.npz")
    duckdb_matrix = load_features(duckdb / "features.npz")
    assert matrix.feature_names == duckdb_matrix.feature_names
    assert np.array_equal(matrix.entity_ids, duckdb_matrix.entity_ids)
    assert (matrix.X != duckdb_matrix.X).nnz == 0


@pytest.mark.parametrize("old, new, fragments", [
    ("ts: EVENT_TIME", "ts: happened_at", ["column ts of table events reads column 'happened_at'", "tables.events.columns.ts"]),
    ("table: raw_events", "table: raw_clicks", ["tables.events.table 'raw_clicks' not found in the warehouse spark+local://"]),
    ("table: raw_events\n    columns: {user_id: userid, event: Kind, ts: EVENT_TIME}",
     "table: dirty_events\n    columns: {ts: event_time}",
     ["column ts of table events has 1 value in table 'dirty_events' that cannot be read as a timestamp", "'next tuesday'"]),
], ids=["wrong-column", "missing-table", "unreadable-value"])
def test_configured_spark_rejects(spark_config, tmp_path, old, new, fragments):
    from click.testing import CliRunner

    from pipe.cli import cli

    text = spark_config.read_text()
    assert old in text
    config = tmp_path / "warehouse.yml"
    config.write_text(text.replace(old, new))

    result = CliRunner().invoke(cli, ["init", "p", "--warehouse", str(config), *INIT, "--home", str(tmp_path / "home")])

    assert result.exit_code == 2, result.output
    assert len(result.stderr.splitlines()) == 1, result.stderr
    assert str(config) in result.stderr
    for fragment in fragments:
        assert fragment in result.stderr, result.stderr
    assert not (tmp_path / "home").exists()
