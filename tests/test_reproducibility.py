"""A project rebuilt from its info.json in another home gives the same data and model."""

import json

import pandas as pd

from pipe.project import sha256_file


def test_rebuild_from_info_json(run, demo_warehouse, tmp_path):
    first_home = tmp_path / "first"
    result = run("init", "repro", "--warehouse", str(demo_warehouse), "--conversion", "site_free:free_to_paid",
                 "--days", "30", "--window", "7", "--start", "2025-01-15", "--end", "2025-10-31",
                 "--trials", "2", "--folds", "2", "--sample", "900", "--seed", "7", home=first_home)
    assert result.exit_code == 0, result.output
    assert run("build", "repro", home=first_home).exit_code == 0

    second_home = tmp_path / "second"
    result = run("build", str(first_home / "repro" / "info.json"), home=second_home)
    assert result.exit_code == 0, result.output

    first, second = first_home / "repro", second_home / "repro"
    assert sha256_file(first / "raw.parquet") == sha256_file(second / "raw.parquet")
    assert sha256_file(first / "features.npz") == sha256_file(second / "features.npz")
    pd.testing.assert_frame_equal(pd.read_parquet(first / "test_predictions.parquet"),
                                  pd.read_parquet(second / "test_predictions.parquet"))

    first_info = json.loads((first / "model_info.json").read_text())
    second_info = json.loads((second / "model_info.json").read_text())
    assert [t["params"] for t in first_info["tuning_trials"]] == [t["params"] for t in second_info["tuning_trials"]]
    assert first_info["test_metrics"] == second_info["test_metrics"]

    rebuilt = json.loads((second / "info.json").read_text())
    assert rebuilt["settings"] == json.loads((first / "info.json").read_text())["settings"]
    assert rebuilt["rebuilt_from"] == str((first / "info.json").resolve())


def test_rebuild_into_existing_project_rejected(run, demo_warehouse, tmp_path):
    home = tmp_path / "home"
    run("init", "repro", "--warehouse", str(demo_warehouse), "--conversion", "site_free:free_to_paid",
        "--days", "30", "--window", "7", "--start", "2025-01-15", "--end", "2025-10-31", home=home)
    other = tmp_path / "elsewhere.json"
    other.write_text((home / "repro" / "info.json").read_text())
    result = run("build", str(other), home=home)
    assert result.exit_code == 2
    assert "project 'repro' already exists" in result.stderr
