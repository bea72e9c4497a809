"""pipe build stops before training, with one line and nothing written, on data that cannot train."""

import pytest

from warehouse import ts, write_warehouse


def sites_with_conversions(path, converted: set[int], count: int = 12):
    """Sites created 2025-01-01; those in ``converted`` buy a plan on day 31."""
    sites = [(i, 100 + i, ts("2025-01-01 09:00"), "en", "us") for i in range(1, count + 1)]
    subscriptions = [(i, 100 + i, "premium", True, ts("2025-01-31 10:00"), None) for i in sorted(converted)]
    events = [(i, 100 + i, "post_publish", ts("2025-01-02")) for i in range(1, count + 1)]
    events.append((1, 101, "login", ts("2025-03-31")))
    return write_warehouse(path, {"sites": sites, "subscriptions": subscriptions, "events": events})


def init(run, warehouse, start="2025-01-01", end="2025-01-01", *extra):
    result = run("init", "p", "--warehouse", str(warehouse), "--conversion", "site_free:free_to_paid",
                 "--days", "30", "--window", "7", "--start", start, "--end", end, *extra)
    assert result.exit_code == 0, result.output


def project_files(tmp_path):
    return sorted(p.name for p in (tmp_path / "home" / "p").iterdir())


def test_build_empty_cohort(run, tmp_path):
    warehouse = sites_with_conversions(tmp_path / "w.duckdb", {1, 2, 3})
    init(run, warehouse, "2025-01-02", "2025-01-20")
    result = run("build", "p")
    assert result.exit_code == 2
    assert "the cohort site_free is empty for anchors from 2025-01-02 to 2025-01-20" in result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("Error:")] == result.stderr.splitlines()[-1:]
    assert project_files(tmp_path) == ["info.json"]


@pytest.mark.parametrize("converted, expected", [
    (set(), "every label in project 'p' is 0 (no conversions) among 12 entities"),
    (set(range(1, 13)), "every label in project 'p' is 1 (every entity converted) among 12 entities"),
], ids=["no_positive", "all_positive"])
def test_build_one_class(run, tmp_path, converted, expected):
    warehouse = sites_with_conversions(tmp_path / "w.duckdb", converted)
    init(run, warehouse)
    result = run("build", "p")
    assert result.exit_code == 2
    assert expected in result.stderr
    assert project_files(tmp_path) == ["info.json"]


def test_build_one_class_until_labels_writes_labels(run, tmp_path):
    warehouse = sites_with_conversions(tmp_path / "w.duckdb", set())
    init(run, warehouse)
    result = run("build", "p", "--until", "labels")
    assert result.exit_code == 0, result.output
    assert "raw.parquet" in project_files(tmp_path)


def test_build_positives_fewer_than_folds(run, tmp_path):
    warehouse = sites_with_conversions(tmp_path / "w.duckdb", {1, 2})
    init(run, warehouse, "2025-01-01", "2025-01-01", "--folds", "3")
    result = run("build", "p")
    assert result.exit_code == 2
    assert "has 2 positive and 10 negative labels, fewer than the 3 cross-validation folds need" in result.stderr
    assert "lower --folds" in result.stderr
    assert project_files(tmp_path) == ["info.json"]


def test_build_unknown_project(run, tmp_path):
    result = run("build", "missing")
    assert result.exit_code == 2
    assert "project 'missing' not found" in result.stderr


def test_build_features_with_one_day(run, tmp_path):
    warehouse = sites_with_conversions(tmp_path / "w.duckdb", {1, 2, 3})
    result = run("init", "p", "--warehouse", str(warehouse), "--conversion", "site_free:free_to_paid",
                 "--days", "1", "--window", "30", "--start", "2025-01-01", "--end", "2025-01-01")
    assert result.exit_code == 0, result.output
    result = run("build", "p", "--until", "features")
    assert result.exit_code == 0, result.output
    assert "features.npz" in project_files(tmp_path)
