"""The impala:// engine (impyla, HiveServer2) against Spark's Thrift server on 127.0.0.1.

One server serves the module. It speaks Spark SQL, so the engine renders the
spark dialect here; the impala dialect's SQL is not run by these tests.
"""

import time

import pandas as pd
import pytest

from conftest import FAST_MODEL
from spark_warehouse import ThriftServer, create_table_statements, export_parquet, free_port, project_files
from test_patterns import CASES, EVENT_NAMES

from pipe.engines import open_engine
from pipe.templates import SQLRenderer, sql_search_path

#: Seconds the tests wait for the server to open its port; it needed about two
#: minutes on a 2-core machine that ran other jobs too.
STARTUP_TIMEOUT = 600
DATABASE = "pipe_hs2"
PATTERN = r"^post_(publish|update)$|it's\\d"
INIT = ("--conversion", f"site_any:event_like_{PATTERN}", "--days", "30", "--window", "7",
        "--start", "2025-02-01", "--end", "2025-03-31", *FAST_MODEL)
# Days whose predictions are compared with DuckDB's; evaluating EVALUATE_DAY
# labels the last of them (the window is 7 days).
PREDICT_DAYS = ("2025-09-06", "2025-09-07", "2025-09-08")
EVALUATE_DAY = "2025-09-15"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    thrift = ThriftServer(tmp_path_factory.mktemp("thrift"), free_port()).start(STARTUP_TIMEOUT)
    print(f"Thrift server ready on port {thrift.port} after {thrift.startup_seconds:.1f} s")
    yield thrift
    thrift.stop()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from pipe.demo import write_demo_warehouse

    path = tmp_path_factory.mktemp("hs2demo") / "demo.duckdb"
    write_demo_warehouse(path, n_sites=1000, seed=2)
    return path


@pytest.fixture(scope="module")
def url(server, demo, tmp_path_factory):
    folders = export_parquet(demo, tmp_path_factory.mktemp("hs2parquet"))
    with open_engine(f"impala://127.0.0.1:{server.port}/default") as engine:
        for statement in create_table_statements(DATABASE, folders):
            engine.execute(statement)
    return f"impala://127.0.0.1:{server.port}/{DATABASE}?timeout=60"


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    return tmp_path_factory.mktemp("hs2home")


def test_engine_detects_spark_server(url):
    with open_engine(url) as engine:
        described = engine.describe()
        assert engine.dialect == "spark"
        assert described["server"].startswith("Spark SQL")
        assert described["path"] == url
        assert engine.table_exists("events")
        assert not engine.table_exists("no_such_table")


def test_upload_is_session_table(url):
    frame = pd.DataFrame({"entity_id": [3, 1, 2], "name": ["it's", "back\\slash", None]})
    with open_engine(url) as engine:
        engine.upload("pipe_eligible", frame)
        scratch = engine.uploads["pipe_eligible"]
        assert engine.table_exists("pipe_eligible")
        rows = engine.fetch_df("SELECT entity_id, name FROM pipe_eligible ORDER BY entity_id")
        assert rows["entity_id"].tolist() == [1, 2, 3]
        assert rows["name"].tolist()[:1] == ["back\\slash"]
        assert rows["name"].tolist()[2] == "it's"
    with open_engine(url) as engine:
        database, table = scratch.replace("`", "").split(".")
        assert not engine.table_exists(f"{database}.{table}")


def test_pattern_stays_data(url):
    renderer = SQLRenderer("spark", lambda name: f"%({name})s", {}, sql_search_path())
    with open_engine(url) as engine:
        engine.upload("pipe_names", pd.DataFrame({"id": list(EVENT_NAMES), "event": list(EVENT_NAMES.values())}))
        for case, pattern, positives in CASES:
            template = renderer.environment.from_string(
                "{% import 'macros/dialect.sql' as d %}SELECT id FROM pipe_names WHERE {{ d.regex_search('event', param) }}")
            sql = template.render(param="%(pattern)s")
            matched = set(engine.fetch_df(sql, {"pattern": pattern})["id"])
            assert matched == positives, case
        assert engine.scalar("SELECT count(*) FROM pipe_names") == len(EVENT_NAMES)


def test_build_predict_evaluate(run, url, demo, home, tmp_path):
    """The same project on DuckDB gives the same labels, and each day the same entities and scores."""
    result = run("init", "p", "--warehouse", url, *INIT, home=home)
    assert result.exit_code == 0, result.output
    result = run("build", "p", home=home)
    assert result.exit_code == 0, result.output
    assert "test ROC AUC" in result.output

    assert run("init", "d", "--warehouse", str(demo), *INIT, home=tmp_path).exit_code == 0
    assert run("build", "d", home=tmp_path).exit_code == 0
    hs2 = pd.read_parquet(home / "p" / "raw.parquet")[["entity_id", "label"]]
    duck = pd.read_parquet(tmp_path / "d" / "raw.parquet")[["entity_id", "label"]]
    pd.testing.assert_frame_equal(hs2, duck)
    assert hs2["label"].sum() > 0

    # Three days, then the last one again: the second run replaces its rows.
    for project, folder in (("p", home), ("d", tmp_path)):
        result = run("predict", project, "--from", PREDICT_DAYS[0], "--to", PREDICT_DAYS[-1], home=folder)
        assert result.exit_code == 0, result.output
        assert all(f"{day}: scored" in result.output for day in PREDICT_DAYS), result.output
        assert run("predict", project, "--date", PREDICT_DAYS[-1], home=folder).exit_code == 0
        result = run("evaluate", project, "--date", EVALUATE_DAY, home=folder)
        assert result.exit_code == 0, result.output
        assert f"{EVALUATE_DAY}: evaluated" in result.output, result.output

    with open_engine(url) as engine:
        predictions = engine.fetch_df("SELECT day, entity_id, score FROM pipe_predictions WHERE project = 'p'")
        groups = engine.fetch_df("SELECT day, entity_id FROM pipe_ab_groups WHERE project = 'p'")
        evaluations = engine.fetch_df("SELECT prediction_day, n, positives, roc_auc FROM pipe_evaluations WHERE project = 'p'")
    with open_engine(str(demo), read_only=True) as engine:
        duck_predictions = engine.fetch_df("SELECT day, entity_id, score FROM pipe_predictions WHERE project = 'd'")
        duck_evaluations = engine.fetch_df("SELECT prediction_day, n, positives, roc_auc FROM pipe_evaluations WHERE project = 'd'")

    def by_day(frame):
        frame = frame.assign(day=frame["day"].astype(str))
        return frame.sort_values(["day", "entity_id"]).reset_index(drop=True)

    predictions, duck_predictions = by_day(predictions), by_day(duck_predictions)
    assert set(predictions["day"]) == set(PREDICT_DAYS)
    assert len(predictions) > len(PREDICT_DAYS)
    assert not predictions.duplicated(["day", "entity_id"]).any()
    pd.testing.assert_frame_equal(predictions, duck_predictions)
    pd.testing.assert_frame_equal(by_day(groups), predictions[["day", "entity_id"]])
    evaluations = evaluations.assign(prediction_day=evaluations["prediction_day"].astype(str))
    duck_evaluations = duck_evaluations.assign(prediction_day=duck_evaluations["prediction_day"].astype(str))
    assert evaluations["prediction_day"].tolist() == [PREDICT_DAYS[-1]]
    assert evaluations["n"].tolist() == [(predictions["day"] == PREDICT_DAYS[-1]).sum()]
    pd.testing.assert_frame_equal(evaluations, duck_evaluations, check_dtype=False)


def test_stopped_server_fails_cleanly(run, server, url, home):
    """Runs last: it stops the module's server."""
    assert (home / "p" / "model.joblib").is_file(), "needs the project of test_build_predict_evaluate"
    before = project_files(home / "p")
    server.stop()

    for args in (("init", "q", "--warehouse", url, *INIT), ("build", "p"), ("predict", "p", "--date", "2025-09-02")):
        started = time.monotonic()
        result = run(*args, home=home)
        elapsed = time.monotonic() - started
        assert result.exit_code == 2, (args, result.output)
        # Each retry logs a warning line; the error itself is one line.
        lines = [line for line in result.output.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("Error:")]
        retries = [line for line in lines if "WARNING" in line and "retrying in" in line]
        assert len(errors) == 1, result.output
        assert len(retries) == len(lines) - 1, result.output
        assert f"127.0.0.1:{server.port}" in errors[0]
        assert elapsed < 60, f"{args[0]} took {elapsed:.1f} s"
    assert not (home / "q").exists()
    assert project_files(home / "p") == before
