"""``pipe sync`` and ``pipe schedule``: a project's copy on HDFS and its daily runs on a cluster."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from pipe.cli.common import DATE, common_options, log, sync_to_hdfs
from pipe.errors import DateRangeError
from pipe.project import Project


@click.command()
@click.argument("name")
@common_options
def sync(name: str, home: Path, warehouse: str | None) -> None:
    """Copy project NAME's folder to HDFS (PIPE_HDFS_URL, PIPE_HDFS_USER, PIPE_HDFS_ROOT).

    init, build and schedule do this by themselves when PIPE_HDFS_URL is set.
    """
    project = Project(home, name)
    project.load_info()
    sync_to_hdfs(project, required=True)


@click.command()
@click.argument("name")
@click.option("--start", type=DATE, help="First day to run (YYYY-MM-DD) [default: tomorrow in UTC].")
@click.option("--end", type=DATE, help="Day after the last run (YYYY-MM-DD) [default: a year after --start].")
@click.option("--at", "at_time", type=click.DateTime(formats=["%H:%M"]), default="06:00", show_default=True,
              help="Time of day (HH:MM, UTC) at which the coordinator starts each day's run.")
@click.option("--conda-env", help="Conda environment to run pipe in [default: the name in conda/environment.yml, else pipe].")
@click.option("--name-node", default="hdfs://NAMENODE:8020", show_default=True, help="nameNode of job.properties.")
@click.option("--job-tracker", default="RESOURCEMANAGER:8032", show_default=True, help="jobTracker (the YARN resource manager) of job.properties.")
@click.option("--queue", default="default", show_default=True, help="YARN queue of the shell actions.")
@common_options
def schedule(name: str, start, end, at_time, conda_env, name_node, job_tracker, queue, home: Path, warehouse: str | None) -> None:
    """Write what a cluster needs to run project NAME daily.

    Writes NAME/schedule/: an Oozie workflow.xml (pipe predict, then pipe
    evaluate, for the day), coordinator.xml (daily), job.properties, and
    run_daily.sh, a shell entry point for cron or Airflow.
    """
    from pipe.daily import MODEL_FILE
    from pipe.hdfs_sync import remote_user_and_root
    from pipe.schedule import FOLDER, Schedule, conda_env_name, write_schedule
    from pipe.templates import PACKAGE_DIR

    project = Project(home, name)
    info = project.load_info()
    # Every scheduled run would fail without the model, so none is scheduled.
    project.verify(info, MODEL_FILE)
    today = dt.datetime.now(dt.timezone.utc).date()
    first = start.date() if start else today + dt.timedelta(days=1)
    last = end.date() if end else first + dt.timedelta(days=365)
    if last <= first:
        raise DateRangeError(f"--end {last} is not after --start {first}; expected a later --end")
    if first < today:
        log.warning("--start %s is %d days ago; Oozie's coordinator runs every missed day from it, "
                    "one after another", first, (today - first).days)
    url = warehouse or info["warehouse"].get("config_file") or info["warehouse"].get("path")
    _, root = remote_user_and_root()
    plan = Schedule(
        project=name,
        home=str(home.resolve()),
        warehouse=str(url),
        conda_env=conda_env or conda_env_name(PACKAGE_DIR.parent / "conda" / "environment.yml"),
        start=first,
        end=last,
        at=at_time.time(),
        name_node=name_node,
        job_tracker=job_tracker,
        queue=queue,
        app_path=f"{root}/{name}/{FOLDER}",
    )
    folder = write_schedule(project, plan)
    click.echo(f"wrote {folder}: run_daily.sh, workflow.xml, coordinator.xml, job.properties (daily at {plan.at:%H:%M} UTC from {first})")
    sync_to_hdfs(project)
