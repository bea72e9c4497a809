"""Kinds of projects: id lists, user cohorts without sites, sampling and the attrition table."""

import json

import numpy as np
import pandas as pd

from conftest import FAST_MODEL
from warehouse import ts, write_warehouse


def small_warehouse(path, skip=()):
    """Ten sites and users created 2025-01-01; sites and users 1-4 post in January."""
    sites = [(i, i, ts("2025-01-01 09:00"), "en", "us") for i in range(1, 11)]
    users = [(i, ts("2025-01-01 08:00"), "en", "us") for i in range(1, 11)]
    events = [(None, i, "post_publish", ts("2025-01-20 10:00")) for i in range(1, 5)]
    events += [(i, i, "post_publish", ts("2025-01-21 10:00")) for i in range(1, 5)]
    events.append((None, 1, "login", ts("2025-03-31")))
    return write_warehouse(path, {"sites": sites, "users": users, "events": events}, skip=skip)


def untimed(run, warehouse, *extra, spec="site_any:event_like_^post_publish$"):
    return run("init", "p", "--warehouse", str(warehouse), "--conversion", spec,
               "--window", "30", "--analysis-end", "2025-01-10", *extra)


def test_ids_replace_cohort(run, tmp_path):
    warehouse = small_warehouse(tmp_path / "w.duckdb")
    ids = tmp_path / "ids.txt"
    ids.write_text("3\n\n1\n99\n3\n98\n")
    result = untimed(run, warehouse, "--ids", str(ids))
    assert result.exit_code == 0, result.output
    assert "2 of 4 ids in" in result.stderr
    assert "e.g. 98, 99" in result.stderr

    assert run("build", "p", "--until", "labels").exit_code == 0
    raw = pd.read_parquet(tmp_path / "home" / "p" / "raw.parquet")
    assert raw.entity_id.tolist() == [1, 3]
    assert raw.label.tolist() == [1, 1]


def test_ids_non_integer_line(run, tmp_path):
    warehouse = small_warehouse(tmp_path / "w.duckdb")
    ids = tmp_path / "ids.txt"
    ids.write_text("1\n2\nthree\n")
    result = untimed(run, warehouse, "--ids", str(ids))
    assert result.exit_code == 2
    assert "line 3: 'three' is not an integer id" in result.stderr
    assert not (tmp_path / "home" / "p").exists()


def test_ids_none_in_warehouse(run, tmp_path):
    warehouse = small_warehouse(tmp_path / "w.duckdb")
    ids = tmp_path / "ids.txt"
    ids.write_text("500\n501\n")
    result = untimed(run, warehouse, "--ids", str(ids))
    assert result.exit_code == 2
    assert "none of the 2 ids" in result.stderr
    assert not (tmp_path / "home" / "p").exists()


def test_ids_need_untimed(run, tmp_path):
    warehouse = small_warehouse(tmp_path / "w.duckdb")
    ids = tmp_path / "ids.txt"
    ids.write_text("1\n")
    result = run("init", "p", "--warehouse", str(warehouse), "--conversion", "site_any:event_like_x",
                 "--window", "7", "--days", "7", "--start", "2025-01-01", "--end", "2025-01-01", "--ids", str(ids))
    assert result.exit_code == 2
    assert "--ids needs --analysis-end" in result.stderr


def test_user_cohort_without_sites(run, tmp_path):
    warehouse = small_warehouse(tmp_path / "w.duckdb", skip=("sites",))
    result = untimed(run, warehouse, spec="user_any:event_like_^post_publish$")
    assert result.exit_code == 0, result.output
    assert run("build", "p", "--until", "labels").exit_code == 0
    raw = pd.read_parquet(tmp_path / "home" / "p" / "raw.parquet")
    assert raw.entity_id.tolist() == list(range(1, 11))
    assert raw.label.tolist() == [1, 1, 1, 1, 0, 0, 0, 0, 0, 0]


def test_site_cohort_without_sites_table(run, tmp_path):
    warehouse = small_warehouse(tmp_path / "w.duckdb", skip=("sites",))
    result = untimed(run, warehouse)
    assert result.exit_code == 2
    assert "cohort 'site_any' needs table(s) sites" in result.stderr


def test_sample_same_for_seed(run, demo_warehouse, tmp_path):
    samples = []
    for name, seed in (("a", "5"), ("b", "5"), ("c", "6")):
        result = run("init", name, "--warehouse", str(demo_warehouse), "--conversion", "site_any:event_like_^checkout_complete$",
                     "--window", "7", "--analysis-end", "2025-09-30", "--sample", "300", "--seed", seed)
        assert result.exit_code == 0, result.output
        assert run("build", name, "--until", "labels").exit_code == 0
        samples.append(pd.read_parquet(tmp_path / "home" / name / "raw.parquet").entity_id.to_numpy())
    assert len(samples[0]) == 300
    assert np.array_equal(samples[0], samples[1])
    assert not np.array_equal(samples[0], samples[2])


def test_sample_larger_than_population(run, tmp_path):
    warehouse = small_warehouse(tmp_path / "w.duckdb")
    assert untimed(run, warehouse, "--sample", "11").exit_code == 0
    result = run("build", "p")
    assert result.exit_code == 2
    assert "--sample 11 is larger than the eligible population of 10 entities" in result.stderr


def test_attrition_in_model_info(run, demo_warehouse, tmp_path):
    result = run("init", "p", "--warehouse", str(demo_warehouse), "--conversion", "site_free:free_to_paid",
                 "--days", "30", "--window", "7", "--start", "2025-01-15", "--end", "2025-10-31",
                 "--sample", "800", *FAST_MODEL)
    assert result.exit_code == 0, result.output
    result = run("build", "p")
    assert result.exit_code == 0, result.output
    assert "attrition: step population" in result.stderr

    attrition = json.loads((tmp_path / "home" / "p" / "model_info.json").read_text())["attrition"]
    steps = [row["step"] for row in attrition]
    assert steps == ["population", "eligibility (free over [anchor, cutoff))", "sample (seed 0)", "labelled"]
    assert attrition[1]["entities"] == attrition[0]["entities"] - attrition[1]["removed"]
    assert attrition[2]["entities"] == 800
    raw = pd.read_parquet(tmp_path / "home" / "p" / "raw.parquet")
    assert attrition[3]["positives"] == int(raw.label.sum())
    assert attrition[3]["prevalence"] == raw.label.mean()
