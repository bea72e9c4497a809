"""pipe schedule: Oozie workflow, coordinator and properties, and the shell entry point."""

import datetime as dt
import os
import shutil
import subprocess
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

from conftest import FAST_MODEL
from pipe.cli import cli

WORKFLOW = "{uri:oozie:workflow:0.5}"
SHELL = "{uri:oozie:shell-action:0.3}"
COORDINATOR = "{uri:oozie:coordinator:0.4}"


@pytest.fixture(scope="module")
def built(demo_warehouse, tmp_path_factory):
    """Return the folder of project 'p', built once for the module; tests copy it."""
    home = tmp_path_factory.mktemp("schedule") / "home"
    for args in (("init", "p", "--warehouse", str(demo_warehouse), "--conversion", "site_free:free_to_paid", "--days", "30",
                  "--window", "7", "--start", "2025-03-01", "--end", "2025-04-30", *FAST_MODEL), ("build", "p")):
        result = CliRunner().invoke(cli, [*args, "--home", str(home)], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    return home / "p"


def schedule_project(run, built, tmp_path, *options):
    shutil.copytree(built, tmp_path / "home" / "p")
    result = run("schedule", "p", *options)
    assert result.exit_code == 0, result.output
    return result


def properties(path):
    values = {}
    for line in path.read_text().splitlines():
        if line and not line.startswith("#"):
            key, _, value = line.partition("=")
            values[key] = value
    return values


def test_workflow_runs_predict_then_evaluate(run, built, demo_warehouse, tmp_path):
    schedule_project(run, built, tmp_path)
    workflow = ET.parse(tmp_path / "home" / "p" / "schedule" / "workflow.xml").getroot()

    assert workflow.tag == f"{WORKFLOW}workflow-app"
    assert workflow.find(f"{WORKFLOW}start").get("to") == "predict"
    actions = {action.get("name"): action for action in workflow.findall(f"{WORKFLOW}action")}
    assert list(actions) == ["predict", "evaluate"]
    assert actions["predict"].find(f"{WORKFLOW}ok").get("to") == "evaluate"
    assert actions["evaluate"].find(f"{WORKFLOW}ok").get("to") == "end"
    for step, action in actions.items():
        shell = action.find(f"{SHELL}shell")
        assert shell.find(f"{SHELL}exec").text == "run_daily.sh"
        assert [a.text for a in shell.findall(f"{SHELL}argument")] == [step, "${day}"]
        assert action.find(f"{WORKFLOW}error").get("to") == "fail"


def test_coordinator_runs_daily(run, built, demo_warehouse, tmp_path):
    schedule_project(run, built, tmp_path, "--start", "2026-01-01", "--end", "2026-07-01", "--at", "05:30")
    folder = tmp_path / "home" / "p" / "schedule"
    coordinator = ET.parse(folder / "coordinator.xml").getroot()

    assert coordinator.tag == f"{COORDINATOR}coordinator-app"
    assert coordinator.get("frequency") == "${coord:days(1)}"
    assert coordinator.get("timezone") == "UTC"
    day = coordinator.find(f"{COORDINATOR}action/{COORDINATOR}workflow/{COORDINATOR}configuration/{COORDINATOR}property")
    assert day.find(f"{COORDINATOR}name").text == "day"
    assert "yyyy-MM-dd" in day.find(f"{COORDINATOR}value").text

    values = properties(folder / "job.properties")
    assert values["start"] == "2026-01-01T05:30Z"
    assert values["end"] == "2026-07-01T05:30Z"
    assert values["warehouse"] == str(demo_warehouse)
    assert values["pipeHome"] == str((tmp_path / "home").resolve())
    assert values["condaEnv"] == "pipe"
    assert values["oozie.coord.application.path"] == "${appPath}"


def test_run_daily_script_calls_pipe_in_conda(run, built, demo_warehouse, tmp_path):
    schedule_project(run, built, tmp_path)
    script = tmp_path / "home" / "p" / "schedule" / "run_daily.sh"
    assert os.access(script, os.X_OK)
    assert subprocess.run(["bash", "-n", str(script)], capture_output=True).returncode == 0

    # A stand-in conda that records its arguments, one call a line.
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.txt"
    (bin_dir / "conda").write_text(f'#!/usr/bin/env bash\necho "$*" >> {calls}\n')
    (bin_dir / "conda").chmod(0o755)
    env = {"PATH": f"{bin_dir}:{os.environ['PATH']}", "HOME": str(tmp_path)}
    done = subprocess.run([str(script), "all", "2025-09-01"], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr

    home = str((tmp_path / "home").resolve())
    lines = calls.read_text().splitlines()
    assert lines == [
        f"run --no-capture-output -n pipe pipe predict p --date 2025-09-01 --home {home} --warehouse {demo_warehouse}",
        f"run --no-capture-output -n pipe pipe evaluate p --date 2025-09-01 --home {home} --warehouse {demo_warehouse}",
    ]


def test_run_daily_script_rejects_bad_day(run, built, demo_warehouse, tmp_path):
    schedule_project(run, built, tmp_path)
    script = tmp_path / "home" / "p" / "schedule" / "run_daily.sh"
    done = subprocess.run([str(script), "predict", "01/09/2025"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "invalid day '01/09/2025'" in done.stderr


def test_schedule_rejects_end_before_start(run, built, tmp_path):
    shutil.copytree(built, tmp_path / "home" / "p")
    result = run("schedule", "p", "--start", "2026-02-01", "--end", "2026-01-01")
    assert result.exit_code == 2
    assert "--end 2026-01-01 is not after --start 2026-02-01" in result.output


def test_schedule_rejects_unbuilt_project(run, demo_warehouse, tmp_path):
    result = run("init", "q", "--warehouse", str(demo_warehouse), "--conversion", "site_free:free_to_paid",
                 "--days", "30", "--window", "7", "--start", "2025-03-01", "--end", "2025-04-30")
    assert result.exit_code == 0, result.output

    result = run("schedule", "q")

    assert result.exit_code == 2
    assert result.stderr.splitlines() == [f"Error: artifact {tmp_path / 'home' / 'q' / 'model.joblib'} is missing; run `pipe build q` first"]
    assert not (tmp_path / "home" / "q" / "schedule").exists()


def test_schedule_warns_past_start(run, built, tmp_path):
    start = dt.datetime.now(dt.timezone.utc).date() - dt.timedelta(days=3)
    result = schedule_project(run, built, tmp_path, "--start", str(start))

    assert f"--start {start} is 3 days ago; Oozie's coordinator runs every missed day" in result.stderr


def test_app_path_uses_hdfs_user(run, built, tmp_path, monkeypatch):
    monkeypatch.delenv("PIPE_HDFS_URL", raising=False)
    monkeypatch.delenv("PIPE_HDFS_ROOT", raising=False)
    monkeypatch.setenv("PIPE_HDFS_USER", "alice")
    schedule_project(run, built, tmp_path)

    values = properties(tmp_path / "home" / "p" / "schedule" / "job.properties")
    assert values["appPath"] == "${nameNode}/user/alice/pipe-projects/p/schedule"
