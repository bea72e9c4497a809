"""``pipe schedule``: the files a cluster needs to run a project every day.

``write_schedule`` writes, into ``HOME/NAME/schedule/``:

- ``run_daily.sh``: runs ``pipe predict`` then ``pipe evaluate`` for one day
  (default: today in UTC) inside the conda environment of
  ``conda/environment.yml``, for cron or an Airflow ``BashOperator``;
- ``workflow.xml``: an Oozie workflow of two shell actions, predict then
  evaluate, each running ``run_daily.sh`` for the coordinator's day;
- ``coordinator.xml``: an Oozie coordinator that starts the workflow daily;
- ``job.properties``: the values both read, to submit with
  ``oozie job -config job.properties -run``.
"""

from __future__ import annotations

import datetime as dt
import shlex
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from pipe.project import Project, default_mode

FOLDER = "schedule"
SCRIPT = "run_daily.sh"
DEFAULT_CONDA_ENV = "pipe"


@dataclass(frozen=True)
class Schedule:
    """What the scheduled job runs, where, and when (all times UTC)."""

    project: str
    home: str
    warehouse: str
    conda_env: str
    start: dt.date
    end: dt.date
    at: dt.time
    name_node: str
    job_tracker: str
    queue: str
    app_path: str


def conda_env_name(environment_file: Path) -> str:
    """Return the ``name:`` of a conda environment file, or ``pipe`` when it has none or is missing."""
    try:
        lines = environment_file.read_text(encoding="utf-8").splitlines()
    except OSError:
        return DEFAULT_CONDA_ENV
    for line in lines:
        if line.startswith("name:"):
            return line.split(":", 1)[1].strip() or DEFAULT_CONDA_ENV
    return DEFAULT_CONDA_ENV


def run_daily_script(schedule: Schedule) -> str:
    """Return the shell entry point: ``run_daily.sh [predict|evaluate|all] [YYYY-MM-DD]``."""
    return f"""#!/usr/bin/env bash
# Run pipe's daily commands for project {schedule.project}: predict scores the
# entities due on DAY, evaluate scores the predictions whose label windows
# closed at the start of DAY. Both need data complete through DAY - 1.
#
#   run_daily.sh [predict|evaluate|all] [DAY]
#
# STEP defaults to all (predict, then evaluate) and DAY to today in UTC.
# PIPE_HOME, PIPE_WAREHOUSE and PIPE_CONDA_ENV override the values that
# `pipe schedule` wrote below. A password for the warehouse comes from the
# environment (PIPE_IMPALA_PASSWORD) or keyring, never from this file.
set -euo pipefail

step="${{1:-all}}"
day="${{2:-$(date -u +%Y-%m-%d)}}"
project={shlex.quote(schedule.project)}
default_home={shlex.quote(schedule.home)}
default_warehouse={shlex.quote(schedule.warehouse)}
default_conda_env={shlex.quote(schedule.conda_env)}
home="${{PIPE_HOME:-$default_home}}"
warehouse="${{PIPE_WAREHOUSE:-$default_warehouse}}"
conda_env="${{PIPE_CONDA_ENV:-$default_conda_env}}"

case "$step" in
    predict|evaluate) steps=("$step") ;;
    all) steps=(predict evaluate) ;;
    *) echo "run_daily.sh: invalid step '$step'; expected predict, evaluate or all" >&2; exit 2 ;;
esac
if ! [[ "$day" =~ ^[0-9]{{4}}-[0-9]{{2}}-[0-9]{{2}}$ ]]; then
    echo "run_daily.sh: invalid day '$day'; expected YYYY-MM-DD" >&2
    exit 2
fi
if ! command -v conda >/dev/null 2>&1; then
    echo "run_daily.sh: conda not found; install it and create the environment with: conda env create -f conda/environment.yml" >&2
    exit 2
fi

for command in "${{steps[@]}}"; do
    echo "run_daily.sh: pipe $command $project --date $day" >&2
    conda run --no-capture-output -n "$conda_env" \\
        pipe "$command" "$project" --date "$day" --home "$home" --warehouse "$warehouse"
done
"""


def _shell_action(name: str, step: str, next_node: str) -> str:
    return f"""    <action name="{name}">
        <shell xmlns="uri:oozie:shell-action:0.3">
            <job-tracker>${{jobTracker}}</job-tracker>
            <name-node>${{nameNode}}</name-node>
            <configuration>
                <property>
                    <name>mapred.job.queue.name</name>
                    <value>${{queueName}}</value>
                </property>
            </configuration>
            <exec>{SCRIPT}</exec>
            <argument>{step}</argument>
            <argument>${{day}}</argument>
            <env-var>PIPE_HOME=${{pipeHome}}</env-var>
            <env-var>PIPE_WAREHOUSE=${{warehouse}}</env-var>
            <env-var>PIPE_CONDA_ENV=${{condaEnv}}</env-var>
            <file>${{appPath}}/{SCRIPT}#{SCRIPT}</file>
        </shell>
        <ok to="{next_node}"/>
        <error to="fail"/>
    </action>
"""


def workflow_xml(schedule: Schedule) -> str:
    """Return the Oozie workflow: predict, then evaluate, for the day in ``${day}``."""
    name = escape(f"pipe-{schedule.project}-daily")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- pipe's daily run of project {escape(schedule.project)}; the coordinator sets ${{day}} (YYYY-MM-DD). -->
<workflow-app name={quoteattr(name)} xmlns="uri:oozie:workflow:0.5">
    <start to="predict"/>
{_shell_action("predict", "predict", "evaluate")}{_shell_action("evaluate", "evaluate", "end")}    <kill name="fail">
        <message>pipe {escape(schedule.project)} failed on ${{day}}: [${{wf:errorMessage(wf:lastErrorNode())}}]</message>
    </kill>
    <end name="end"/>
</workflow-app>
"""


def coordinator_xml(schedule: Schedule) -> str:
    """Return the Oozie coordinator that runs the workflow once a day, passing the nominal day."""
    name = escape(f"pipe-{schedule.project}-coordinator")
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Runs pipe's daily workflow of project {escape(schedule.project)} every day at the time in ${{start}} (UTC). -->
<coordinator-app name={quoteattr(name)} frequency="${{coord:days(1)}}" start="${{start}}" end="${{end}}"
                 timezone="UTC" xmlns="uri:oozie:coordinator:0.4">
    <controls>
        <timeout>-1</timeout>
        <concurrency>1</concurrency>
        <execution>FIFO</execution>
    </controls>
    <action>
        <workflow>
            <app-path>${{appPath}}</app-path>
            <configuration>
                <property>
                    <name>day</name>
                    <value>${{coord:formatTime(coord:nominalTime(), 'yyyy-MM-dd')}}</value>
                </property>
            </configuration>
        </workflow>
    </action>
</coordinator-app>
"""


def job_properties(schedule: Schedule) -> str:
    """Return job.properties for ``oozie job -config job.properties -run``."""
    start = dt.datetime.combine(schedule.start, schedule.at)
    end = dt.datetime.combine(schedule.end, schedule.at)
    return f"""# Oozie settings of pipe's daily run of project {schedule.project}.
# Edit nameNode, jobTracker and queueName for the cluster, copy the schedule
# folder to appPath (`pipe sync {schedule.project}` does it when PIPE_HDFS_URL
# is set), then submit: oozie job -config job.properties -run
nameNode={schedule.name_node}
jobTracker={schedule.job_tracker}
queueName={schedule.queue}
oozie.use.system.libpath=true
appPath=${{nameNode}}{schedule.app_path}
oozie.coord.application.path=${{appPath}}
start={start:%Y-%m-%dT%H:%MZ}
end={end:%Y-%m-%dT%H:%MZ}
# The project folder must be readable at pipeHome/{schedule.project} on the
# node that runs the shell action, for example on a shared mount.
pipeHome={schedule.home}
warehouse={schedule.warehouse}
condaEnv={schedule.conda_env}
"""


def write_schedule(project: Project, schedule: Schedule) -> Path:
    """Write the schedule's four files into ``project``'s ``schedule/`` folder, replacing any earlier ones.

    The files are written to a hidden folder first, which then replaces the
    old folder, so a failure leaves the old files as they were.
    """
    target = project.file(FOLDER)
    staging = Path(tempfile.mkdtemp(prefix=f".{FOLDER}-", dir=project.path))
    try:
        files = {
            SCRIPT: run_daily_script(schedule),
            "workflow.xml": workflow_xml(schedule),
            "coordinator.xml": coordinator_xml(schedule),
            "job.properties": job_properties(schedule),
        }
        for name, text in files.items():
            (staging / name).write_text(text, encoding="utf-8")
            (staging / name).chmod(default_mode() | (0o111 & default_mode(directory=True)) if name == SCRIPT else default_mode())
        staging.chmod(default_mode(directory=True))
        if target.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{FOLDER}-old-", dir=project.path))
            target.rename(retired / FOLDER)
            staging.rename(target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
