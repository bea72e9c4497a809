"""pipe schedule: Oozie workflow, coordinator and properties, and the shell entry point."""

import os
import subprocess
import xml.etree.ElementTree as ET

from conftest import FAST_MODEL

WORKFLOW = "{uri:oozie:workflow:0.5}"
SHELL = "{uri:oozie:shell-action:0.3}"
COORDINATOR = "{uri:oozie:coordinator:0.4}"


def schedule_project(run, demo_warehouse, *options):
    result = run("init", "p", "--warehouse", str(demo_warehouse), "--conversion", "site_free:free_to_paid",
                 "--days", "30", "--window", "7", "--start", "2025-03-01", "--end", "2025-04-30", *FAST_MODEL)
    assert result.exit_code == 0, result.output
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


def test_workflow_runs_predict_then_evaluate(run, demo_warehouse, tmp_path):
    schedule_project(run, demo_warehouse)
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


def test_coordinator_runs_daily(run, demo_warehouse, tmp_path):
    schedule_project(run, demo_warehouse, "--start", "2026-01-01", "--end", "2026-07-01", "--at", "05:30")
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


def test_run_daily_script_calls_pipe_in_conda(run, demo_warehouse, tmp_path):
    schedule_project(run, demo_warehouse)
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


def test_run_daily_script_rejects_bad_day(run, demo_warehouse, tmp_path):
    schedule_project(run, demo_warehouse)
    script = tmp_path / "home" / "p" / "schedule" / "run_daily.sh"
    done = subprocess.run([str(script), "predict", "01/09/2025"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "invalid day '01/09/2025'" in done.stderr


def test_schedule_rejects_end_before_start(run, demo_warehouse):
    result = run("init", "p", "--warehouse", str(demo_warehouse), "--conversion", "site_free:free_to_paid",
                 "--days", "30", "--window", "7", "--start", "2025-03-01", "--end", "2025-04-30")
    assert result.exit_code == 0
    result = run("schedule", "p", "--start", "2026-02-01", "--end", "2026-01-01")
    assert result.exit_code == 2
    assert "--end 2026-01-01 is not after --start 2026-02-01" in result.output
