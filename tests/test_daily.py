"""pipe predict, pipe evaluate and A/B groups on a 2,000-site demo warehouse.

One timed project (site_free:event_like_^checkout_start$, --days 7 --window 7,
anchors 2025-02-01 to 2025-05-31) is built once for the module. An untimed
project with the same question and --analysis-end 2025-05-31 scores with a
copy of that model, recorded in its info.json as the build would, so that the
module builds only one model. Each test predicts its own days, because every
test writes to the same warehouse copy.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest
from click.testing import CliRunner

from pipe import daily
from pipe.cli import cli
from pipe.daily import assign_ab_groups
from pipe.engines.base import Replacement
from pipe.engines.duckdb import DuckDBEngine
from pipe.project import sha256_file
from pipe.settings import settings_digest

CONVERSION = "site_free:event_like_^checkout_start$"
DAYS = 7
WINDOW = 7
FAST_MODEL = ("--trials", "0", "--folds", "2")
LAST_COMPLETE = "2025-12-31"  # the demo's latest event falls on this day


@pytest.fixture(scope="module")
def setup(tmp_path_factory, demo_warehouse):
    """Return (warehouse, home) with the projects 'timed' (built) and 'untimed' (model copied)."""
    folder = tmp_path_factory.mktemp("daily")
    warehouse = folder / "demo.duckdb"
    shutil.copy(demo_warehouse, warehouse)
    home = folder / "home"

    invoke("init", "timed", "--warehouse", str(warehouse), "--conversion", CONVERSION, "--days", str(DAYS),
           "--window", str(WINDOW), "--start", "2025-02-01", "--end", "2025-05-31", *FAST_MODEL, home=home)
    invoke("build", "timed", home=home)

    invoke("init", "untimed", "--warehouse", str(warehouse), "--conversion", CONVERSION, "--window", str(WINDOW),
           "--analysis-end", "2025-05-31", *FAST_MODEL, home=home)
    info_path = home / "untimed" / "info.json"
    info = json.loads(info_path.read_text())
    shutil.copy(home / "timed" / "model.joblib", home / "untimed" / "model.joblib")
    info["artifacts"] = {"model.joblib": {"sha256": sha256_file(home / "untimed" / "model.joblib"),
                                          "settings_sha256": settings_digest(info)}}
    info_path.write_text(json.dumps(info))
    return warehouse, home


def invoke(*args: str, home, expect: int = 0):
    """Run ``pipe ARGS --home HOME`` in process and check its exit code."""
    result = CliRunner().invoke(cli, [*args, "--home", str(home)], catch_exceptions=False)
    assert result.exit_code == expect, result.output
    return result


def query(warehouse, sql: str, params: list | None = None) -> list[tuple]:
    """Return the rows of ``sql`` from a read-only connection that is closed at once."""
    connection = duckdb.connect(str(warehouse), read_only=True)
    try:
        return connection.execute(sql, params or []).fetchall()
    finally:
        connection.close()


def predictions(warehouse, project: str, day: str) -> list[tuple]:
    """Return ``(entity_id, score, predicted, threshold, model_sha)`` of one day, sorted by id.

    The list is empty when no command has created pipe_predictions yet.
    """
    if query(warehouse, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'pipe_predictions'") == [(0,)]:
        return []
    return query(warehouse, "SELECT entity_id, score, predicted, threshold, model_sha FROM pipe_predictions "
                 "WHERE project = ? AND day = ? ORDER BY entity_id", [project, day])


def free_sites_anchored_on(warehouse, anchor: str) -> set[int]:
    """Return the sites created on ``anchor`` with no paid plan active in [creation, anchor + DAYS)."""
    rows = query(warehouse, f"""
        SELECT s.site_id FROM sites s
        WHERE CAST(s.created_at AS DATE) = CAST(? AS DATE)
          AND NOT EXISTS (
              SELECT 1 FROM subscriptions p
              WHERE p.site_id = s.site_id AND p.is_paid
                AND p.started_at < CAST(? AS DATE) + INTERVAL {DAYS} DAY
                AND (p.ended_at IS NULL OR p.ended_at > s.created_at))
    """, [anchor, anchor])
    return {row[0] for row in rows}


def day_text(day: dt.date, offset: int) -> str:
    return (day + dt.timedelta(days=offset)).isoformat()


def test_predict_scores_exactly_anchor_day(setup):
    warehouse, home = setup
    result = invoke("predict", "timed", "--date", "2025-07-01", home=home)

    rows = predictions(warehouse, "timed", "2025-07-01")
    scored = [row[0] for row in rows]
    expected = free_sites_anchored_on(warehouse, "2025-06-24")
    assert expected, "the demo should have free sites created on 2025-06-24"
    assert set(scored) == expected
    assert len(scored) == len(set(scored))
    for neighbour in ("2025-06-23", "2025-06-25"):
        others = free_sites_anchored_on(warehouse, neighbour)
        assert others, f"the demo should have free sites created on {neighbour}"
        assert not others & set(scored)
    assert f"scored {len(expected)} entities" in result.output


def test_predict_rows_carry_model_and_threshold(setup):
    warehouse, home = setup
    invoke("predict", "timed", "--date", "2025-07-02", home=home)

    info = json.loads((home / "timed" / "info.json").read_text())
    model_sha = info["artifacts"]["model.joblib"]["sha256"]
    rows = predictions(warehouse, "timed", "2025-07-02")
    assert rows
    assert {row[4] for row in rows} == {model_sha}
    thresholds = {row[3] for row in rows}
    assert len(thresholds) == 1
    threshold = thresholds.pop()
    for _, score, predicted, _, _ in rows:
        assert 0.0 <= score <= 1.0
        assert predicted == int(score >= threshold)


def test_predict_rerun_keeps_same_rows(setup):
    warehouse, home = setup
    invoke("predict", "timed", "--date", "2025-07-03", home=home)
    first = predictions(warehouse, "timed", "2025-07-03")
    invoke("predict", "timed", "--date", "2025-07-03", home=home)
    second = predictions(warehouse, "timed", "2025-07-03")

    assert first
    assert len(second) == len(first)
    assert [row[0] for row in second] == [row[0] for row in first]
    # Scores can differ in the last bit between runs, as in the batch test below.
    np.testing.assert_allclose([row[1] for row in second], [row[1] for row in first], rtol=1e-12)
    assert [row[2:] for row in second] == [row[2:] for row in first]
    groups = query(warehouse, "SELECT count(*), count(DISTINCT entity_id) FROM pipe_ab_groups WHERE project = 'timed' AND day = '2025-07-03'")
    assert groups == [(len(first), len(first))]


@pytest.fixture(scope="module")
def backfilled(setup):
    """Predict 2025-07-05 to 2025-07-11 with one --from/--to run; return the CliRunner result."""
    _, home = setup
    return invoke("predict", "timed", "--from", "2025-07-05", "--to", "2025-07-11", home=home)


def test_backfill_one_partition_per_day(setup, backfilled):
    warehouse, home = setup
    counts = dict(query(warehouse, "SELECT CAST(day AS VARCHAR), count(*) FROM pipe_predictions "
                        "WHERE project = 'timed' AND day BETWEEN '2025-07-05' AND '2025-07-11' GROUP BY day"))
    days = [day_text(dt.date(2025, 7, 5), i) for i in range(7)]
    expected = {day: len(free_sites_anchored_on(warehouse, day_text(dt.date.fromisoformat(day), -DAYS))) for day in days}
    assert counts == {day: n for day, n in expected.items() if n}
    assert "7 days" in backfilled.output

    invoke("predict", "timed", "--from", "2025-07-05", "--to", "2025-07-11", home=home)
    again = dict(query(warehouse, "SELECT CAST(day AS VARCHAR), count(*) FROM pipe_predictions "
                       "WHERE project = 'timed' AND day BETWEEN '2025-07-05' AND '2025-07-11' GROUP BY day"))
    assert again == counts
    duplicates = query(warehouse, "SELECT count(*) - count(DISTINCT (day, entity_id)) FROM pipe_predictions WHERE project = 'timed'")
    assert duplicates == [(0,)]


def evaluations(warehouse) -> dict[str, tuple]:
    rows = query(warehouse, """
        SELECT CAST(day AS VARCHAR), CAST(prediction_day AS VARCHAR), n, positives, negatives, tp, fp, tn, fn,
               confusion_matrix, roc_auc
        FROM pipe_evaluations WHERE project = 'timed' AND day BETWEEN '2025-07-12' AND '2025-07-18'""")
    return {row[0]: row[1:] for row in rows}


def test_evaluate_counts_add_up(setup, backfilled):
    warehouse, home = setup
    invoke("evaluate", "timed", "--from", "2025-07-12", "--to", "2025-07-18", home=home)
    first = evaluations(warehouse)

    predicted_days = {row[0] for row in query(warehouse, "SELECT DISTINCT CAST(day AS VARCHAR) FROM pipe_predictions "
                                              "WHERE project = 'timed' AND day BETWEEN '2025-07-05' AND '2025-07-11'")}
    assert {row[0] for row in first.values()} == predicted_days
    total_positives = 0
    for day, (prediction_day, n, positives, negatives, tp, fp, tn, fn, matrix, _) in first.items():
        assert dt.date.fromisoformat(day) - dt.date.fromisoformat(prediction_day) == dt.timedelta(days=WINDOW)
        assert n == len(predictions(warehouse, "timed", prediction_day))
        assert tp + fp + tn + fn == n
        assert positives + negatives == n
        assert tp + fn == positives
        assert json.loads(matrix) == [[tn, fp], [fn, tp]]
        converted = query(warehouse, f"""
            SELECT count(DISTINCT p.entity_id) FROM pipe_predictions p JOIN events e ON e.site_id = p.entity_id
            WHERE p.project = 'timed' AND p.day = CAST(? AS DATE) AND regexp_matches(e.event, '^checkout_start$')
              AND e.ts >= CAST(p.day AS TIMESTAMP) AND e.ts < CAST(p.day AS TIMESTAMP) + INTERVAL {WINDOW} DAY""",
                          [prediction_day])
        assert positives == converted[0][0]
        total_positives += positives
    assert total_positives > 0, "a week of predictions should include some conversions"

    invoke("evaluate", "timed", "--from", "2025-07-12", "--to", "2025-07-18", home=home)
    assert evaluations(warehouse) == first


def test_evaluate_without_predictions_writes_nothing(setup):
    warehouse, home = setup
    # Anchors on 2024-11-24 are before the demo's first site, so predict rejects the day and writes nothing.
    invoke("predict", "timed", "--date", "2024-12-01", home=home, expect=2)
    assert predictions(warehouse, "timed", "2024-12-01") == []

    result = invoke("evaluate", "timed", "--date", "2024-12-08", home=home)
    assert "no predictions of 2024-12-01" in result.output
    assert query(warehouse, "SELECT count(*) FROM pipe_evaluations WHERE project = 'timed' AND day = '2024-12-08'") == [(0,)]


def test_tampered_model_rejected(setup, tmp_path):
    warehouse, home = setup
    other_home = tmp_path / "home"
    shutil.copytree(home / "timed", other_home / "timed")
    model = other_home / "timed" / "model.joblib"
    with open(model, "ab") as handle:
        handle.write(b"\0")

    result = invoke("predict", "timed", "--date", "2025-07-20", home=other_home, expect=2)
    assert str(model) in result.output
    assert "SHA-256" in result.output
    assert predictions(warehouse, "timed", "2025-07-20") == []


def edited_copy(home, tmp_path, edit) -> Path:
    """Copy project 'timed' to a new home and apply ``edit`` to its info.json; return the new home."""
    other_home = tmp_path / "home"
    shutil.copytree(home / "timed", other_home / "timed")
    info_path = other_home / "timed" / "info.json"
    info = json.loads(info_path.read_text())
    edit(info)
    info_path.write_text(json.dumps(info))
    return other_home


@pytest.mark.parametrize("key, value, message", [
    ("window", 3, "plan.window is 7 but the settings give 3"),
    ("window", -30, "no longer pass init's date checks: invalid --window -30"),
    ("control_share", 7, "settings.control_share is 7, expected a number from 0 to 1"),
    ("end", "2025-02-30", "settings.end is '2025-02-30', expected a date YYYY-MM-DD or null"),
    ("min_support", "5", "settings.min_support is '5', expected a whole number"),
])
def test_edited_settings_rejected(setup, tmp_path, key, value, message):
    warehouse, home = setup
    other_home = edited_copy(home, tmp_path, lambda info: info["settings"].__setitem__(key, value))

    for command in ("predict", "evaluate", "build"):
        result = invoke(command, "timed", *(("--date", "2025-07-21") if command != "build" else ()), home=other_home, expect=2)
        assert message in result.output
        assert len(result.output.strip().splitlines()) == 1, result.output
    assert predictions(warehouse, "timed", "2025-07-21") == []


def test_edited_settings_and_plan_rejected(setup, tmp_path):
    """Settings and plan edited together pass the file's own checks, but not the model's record of them."""
    warehouse, home = setup

    def edit(info):
        info["settings"]["window"] = 3
        info["plan"]["window"] = 3
        info["plan"]["last_window_end"] = "2025-06-10T00:00:00"

    other_home = edited_copy(home, tmp_path, edit)
    for command, day in (("predict", "2025-07-22"), ("evaluate", "2025-07-29")):
        result = invoke(command, "timed", "--date", day, home=other_home, expect=2)
        assert "was built with other settings than" in result.output
    assert predictions(warehouse, "timed", "2025-07-22") == []


def test_other_warehouse_warned_and_recorded(setup, tmp_path):
    warehouse, home = setup
    other_home = edited_copy(home, tmp_path, lambda info: None)
    other = tmp_path / "copy.duckdb"
    shutil.copy(warehouse, other)

    result = invoke("predict", "timed", "--date", "2025-07-23", "--warehouse", str(other), home=other_home)
    assert f"records the warehouse {warehouse}, but --warehouse or PIPE_WAREHOUSE names {other}" in result.output
    assert predictions(other, "timed", "2025-07-23") != []
    assert predictions(warehouse, "timed", "2025-07-23") == []

    result = invoke("build", "timed", "--until", "cohort", "--warehouse", str(other), home=other_home)
    assert "info.json will record the new one" in result.output
    info = json.loads((other_home / "timed" / "info.json").read_text())
    assert info["warehouse"]["path"] == str(other)


def test_complete_through_in_future_rejected(setup):
    warehouse, home = setup
    tomorrow = dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=1)
    result = invoke("predict", "timed", "--date", "2026-01-02", "--complete-through", str(tomorrow), home=home, expect=2)
    assert f"--complete-through {tomorrow} is not over yet" in result.output
    assert predictions(warehouse, "timed", "2026-01-02") == []


def test_complete_through_after_data_warned(setup):
    warehouse, home = setup
    result = invoke("predict", "timed", "--date", "2026-01-02", "--complete-through", "2026-01-01", home=home)
    assert f"--complete-through 2026-01-01 is after the latest event, on {LAST_COMPLETE}" in result.output


def test_incomplete_day_rejected(setup):
    warehouse, home = setup
    for command in ("predict", "evaluate"):
        result = invoke(command, "timed", "--date", "2026-01-02", home=home, expect=2)
        assert f"the last complete day is {LAST_COMPLETE}" in result.output

    result = invoke("predict", "timed", "--date", "2025-09-02", "--complete-through", "2025-08-31", home=home, expect=2)
    assert "the last complete day is 2025-08-31" in result.output
    assert predictions(warehouse, "timed", "2025-09-02") == []

    result = invoke("predict", "timed", "--from", "2025-08-30", "--to", "2025-09-02", "--complete-through", "2025-08-31",
                    home=home, expect=2)
    assert "--to 2025-09-02" in result.output
    assert predictions(warehouse, "timed", "2025-08-30") == []

    invoke("predict", "timed", "--date", "2025-09-01", "--complete-through", "2025-08-31", home=home)
    assert predictions(warehouse, "timed", "2025-09-01")


def test_killed_write_keeps_earlier_rows(setup):
    warehouse, home = setup
    day = "2025-07-22"
    invoke("predict", "timed", "--date", day, home=home)
    # Mark the rows, so that rows from the killed run could not pass for them.
    connection = duckdb.connect(str(warehouse))
    connection.execute("UPDATE pipe_predictions SET model_sha = 'before-kill' WHERE project = 'timed' AND day = ?", [day])
    connection.close()
    before = predictions(warehouse, "timed", day)
    assert before

    environment = {**os.environ, "PIPE_TEST_PAUSE_BEFORE_COMMIT": "120"}
    process = subprocess.Popen([sys.executable, "-m", "pipe", "predict", "timed", "--date", day, "--home", str(home)],
                               env=environment, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + 90
    paused = False
    try:
        for line in process.stderr:
            if "PIPE_TEST_PAUSE_BEFORE_COMMIT is set" in line:
                paused = True
                break
            if time.monotonic() > deadline:
                break
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert paused, "predict never reached the pause inside its transaction"
    assert process.returncode == -signal.SIGKILL

    after = predictions(warehouse, "timed", day)
    assert len(after) == len(before)
    assert after == before


def test_ab_group_stable_across_days(setup):
    warehouse, home = setup
    invoke("predict", "untimed", "--date", "2025-07-01", home=home)
    invoke("predict", "untimed", "--date", "2025-07-15", home=home)
    first = dict(query(warehouse, "SELECT entity_id, ab_group FROM pipe_ab_groups WHERE project = 'untimed' AND day = '2025-07-01'"))
    invoke("predict", "untimed", "--date", "2025-07-01", home=home)
    rerun = dict(query(warehouse, "SELECT entity_id, ab_group FROM pipe_ab_groups WHERE project = 'untimed' AND day = '2025-07-01'"))
    later = dict(query(warehouse, "SELECT entity_id, ab_group FROM pipe_ab_groups WHERE project = 'untimed' AND day = '2025-07-15'"))

    assert rerun == first
    shared = first.keys() & later.keys()
    assert len(shared) > 100
    assert all(first[entity] == later[entity] for entity in shared)
    assert len(first) == len(predictions(warehouse, "untimed", "2025-07-01"))

    settings = json.loads((home / "untimed" / "info.json").read_text())["settings"]
    ids = np.array(sorted(first), dtype=np.int64)
    assert list(assign_ab_groups(settings["ab_salt"], settings["control_share"], ids)) == [first[i] for i in ids]


def test_untimed_predict_scores_cohort_at_cutoff(setup):
    warehouse, home = setup
    invoke("predict", "untimed", "--date", "2025-08-01", home=home)
    scored = {row[0] for row in predictions(warehouse, "untimed", "2025-08-01")}
    expected = {row[0] for row in query(warehouse, """
        SELECT s.site_id FROM sites s
        WHERE s.created_at < TIMESTAMP '2025-08-01'
          AND NOT EXISTS (
              SELECT 1 FROM subscriptions p
              WHERE p.site_id = s.site_id AND p.is_paid AND p.started_at < TIMESTAMP '2025-08-01'
                AND (p.ended_at IS NULL OR p.ended_at >= TIMESTAMP '2025-08-01'))""")}
    assert scored == expected


@pytest.mark.parametrize("share", [0.5, 0.2])
def test_ab_control_share_within_two_se(share):
    ids = np.arange(1, 20_001, dtype=np.int64)
    groups = assign_ab_groups("0123456789abcdef0123456789abcdef", share, ids)
    observed = float(np.mean(groups == "control"))
    standard_error = (share * (1 - share) / len(ids)) ** 0.5
    assert abs(observed - share) <= 2 * standard_error


def test_ab_control_share_extremes():
    ids = np.arange(1, 1001, dtype=np.int64)
    assert set(assign_ab_groups("salt", 0.0, ids)) == {"treatment"}
    assert set(assign_ab_groups("salt", 1.0, ids)) == {"control"}


def test_init_records_ab_settings(setup, tmp_path):
    warehouse, _ = setup
    home = tmp_path / "home"
    options = ("--warehouse", str(warehouse), "--conversion", CONVERSION, "--window", str(WINDOW), "--analysis-end", "2025-05-31")
    invoke("init", "a", *options, "--control-share", "0.3", home=home)
    invoke("init", "b", *options, home=home)
    first = json.loads((home / "a" / "info.json").read_text())["settings"]
    second = json.loads((home / "b" / "info.json").read_text())["settings"]

    assert first["control_share"] == 0.3
    assert second["control_share"] == 0.5
    assert len(first["ab_salt"]) == 32
    assert first["ab_salt"] != second["ab_salt"]

    result = invoke("init", "c", *options, "--control-share", "1.5", home=home, expect=2)
    assert "--control-share" in result.output
    assert not (home / "c").exists()


def test_replace_rows_failure_rolls_back(tmp_path):
    create = "CREATE TABLE IF NOT EXISTS {} (project VARCHAR, day DATE, value BIGINT)"
    day = dt.date(2025, 7, 1)
    good = pa.table({"project": ["p", "p"], "day": [day, day], "value": [1, 2]})
    engine = DuckDBEngine(str(tmp_path / "w.duckdb"), create=True)
    try:
        engine.replace_rows([Replacement("first", {"project": "p", "day": day}, good, create.format("first")),
                             Replacement("second", {"project": "p", "day": day}, good, create.format("second"))])
        replacement = pa.table({"project": ["p"], "day": [day], "value": [3]})
        invalid = pa.table({"project": ["p"], "day": [day], "no_such_column": [3]})
        with pytest.raises(duckdb.Error):
            engine.replace_rows([Replacement("first", {"project": "p", "day": day}, replacement, create.format("first")),
                                 Replacement("second", {"project": "p", "day": day}, invalid, create.format("second"))])

        assert engine.fetch_arrow("SELECT value FROM first ORDER BY value").column("value").to_pylist() == [1, 2]
        assert engine.fetch_arrow("SELECT value FROM second ORDER BY value").column("value").to_pylist() == [1, 2]
    finally:
        engine.close()


def test_predict_batches_give_same_scores(setup, monkeypatch):
    warehouse, home = setup
    invoke("predict", "untimed", "--date", "2025-08-05", home=home)
    whole = predictions(warehouse, "untimed", "2025-08-05")
    monkeypatch.setattr(daily, "FEATURE_BATCH_ENTITIES", 97)
    invoke("predict", "untimed", "--date", "2025-08-05", home=home)
    batched = predictions(warehouse, "untimed", "2025-08-05")

    assert len(whole) > 3 * 97
    assert [row[0] for row in batched] == [row[0] for row in whole]
    # scikit-learn's forests add the trees' probabilities in thread order
    # (sklearn.ensemble._forest._accumulate_prediction), so the last bit can vary.
    np.testing.assert_allclose([row[1] for row in batched], [row[1] for row in whole], rtol=1e-12)
    assert [row[2] for row in batched] == [row[2] for row in whole]


# --- which prediction days reuse training data, and the first day with data ---

OVERLAP_TIMED = daily.DatePlan(window=7, complete_through=dt.date(2025, 12, 31), days=7,
                               anchor_start=dt.date(2025, 2, 1), anchor_end=dt.date(2025, 5, 31))
# Cutoff 2025-11-02 and training label window [2025-11-02, 2025-12-02).
OVERLAP_UNTIMED = daily.DatePlan(window=30, complete_through=dt.date(2025, 12, 31), analysis_end=dt.date(2025, 11, 1))


@pytest.mark.parametrize("plan, first, last, expected", [
    (OVERLAP_TIMED, "2025-02-07", "2025-02-07", None),
    (OVERLAP_TIMED, "2025-02-08", "2025-02-08",
     "day 2025-02-08 is among the training cohort's cutoff days (2025-02-08 to 2025-06-07), so those scores are in-sample"),
    (OVERLAP_TIMED, "2025-06-01", "2025-06-20",
     "days 2025-06-01 to 2025-06-07 are among the training cohort's cutoff days (2025-02-08 to 2025-06-07), so those scores are in-sample"),
    (OVERLAP_TIMED, "2025-06-08", "2025-06-08", None),
    (OVERLAP_UNTIMED, "2024-03-01", "2024-03-01", None),
    (OVERLAP_UNTIMED, "2025-10-03", "2025-10-03", None),
    (OVERLAP_UNTIMED, "2025-10-04", "2025-10-04",
     "day 2025-10-04 is less than 30 days from the training cutoff 2025-11-02, so their label windows overlap the training "
     "label window [2025-11-02, 2025-12-02) and those scores are partly in-sample"),
    (OVERLAP_UNTIMED, "2025-09-01", "2025-12-31",
     "days 2025-10-04 to 2025-12-01 are less than 30 days from the training cutoff 2025-11-02, so their label windows overlap "
     "the training label window [2025-11-02, 2025-12-02) and those scores are partly in-sample (wholly on 2025-11-02, the training cutoff)"),
    (OVERLAP_UNTIMED, "2025-12-02", "2025-12-02", None),
], ids=["timed before", "timed first cutoff", "timed range end", "timed after",
        "untimed a year before", "untimed window before", "untimed first overlap", "untimed range", "untimed after window"])
def test_training_overlap_days(plan, first, last, expected):
    assert daily.training_overlap(plan, dt.date.fromisoformat(first), dt.date.fromisoformat(last)) == expected


def first_created_day(warehouse) -> dt.date:
    return query(warehouse, "SELECT CAST(MIN(created_at) AS DATE) FROM sites")[0][0]


@pytest.mark.parametrize("project, offset", [("timed", DAYS), ("untimed", 1)])
def test_predict_before_first_data_rejected(setup, project, offset):
    warehouse, home = setup
    earliest = first_created_day(warehouse) + dt.timedelta(days=offset)
    too_early = earliest - dt.timedelta(days=1)

    result = invoke("predict", project, "--date", too_early.isoformat(), home=home, expect=2)

    assert result.stderr.splitlines()[-1].startswith(f"Error: --date {too_early} is before the first data: "
                                                     f"the earliest created_at in sites is on {earliest - dt.timedelta(days=offset)}")
    assert result.stderr.splitlines()[-1].endswith(f"; the earliest --date that works is {earliest}")
    assert [line for line in result.stderr.splitlines() if line.startswith("Error:")] == result.stderr.splitlines()[-1:]
    assert predictions(warehouse, project, too_early.isoformat()) == []


def test_range_before_data_names_from(setup):
    warehouse, home = setup
    earliest = first_created_day(warehouse) + dt.timedelta(days=1)

    result = invoke("predict", "untimed", "--from", "2024-03-01", "--to", "2024-03-02", home=home, expect=2)

    assert result.stderr.splitlines()[-1].endswith(f"; the earliest --from that works is {earliest}")


def test_untimed_overlap_warned_near_cutoff(setup):
    warehouse, home = setup
    near = invoke("predict", "untimed", "--date", "2025-06-04", home=home)
    far = invoke("predict", "untimed", "--date", "2025-09-03", home=home)

    assert "WARNING pipe: day 2025-06-04 is less than 7 days from the training cutoff 2025-06-01" in near.stderr
    assert "WARNING" not in far.stderr
    assert len(predictions(warehouse, "untimed", "2025-09-03")) > 0


def test_predict_range_stderr_quiet(setup):
    warehouse, home = setup
    result = invoke("predict", "untimed", "--from", "2025-09-10", "--to", "2025-09-11", home=home)

    assert "feature family" not in result.stderr
    assert "predicting" not in result.stderr
    assert "2 days, " in result.stdout
