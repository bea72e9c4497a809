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
