"""Helpers shared by the commands of ``pipe``: options, logging, dates, the project's warehouse and HDFS."""

from __future__ import annotations

import datetime as dt
import functools
import logging
import re
import sys
from pathlib import Path

import click

from pipe.engines import open_engine
from pipe.errors import PipeError, SpecError
from pipe.project import Project

log = logging.getLogger("pipe")


class DateType(click.ParamType):
    """A calendar date given as YYYY-MM-DD, converted to a ``datetime`` at midnight.

    A bad value raises SpecError, which prints one line naming the option,
    in place of click's usage block.
    """

    name = "date"

    def get_metavar(self, param, ctx=None) -> str:
        return "YYYY-MM-DD"

    def convert(self, value, param, ctx) -> dt.datetime:
        if isinstance(value, dt.datetime):
            return value
        option = param.opts[0] if param is not None and param.opts else "date"
        match = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", value)
        if match is None:
            raise SpecError(f"invalid {option} '{value}': expected a date as YYYY-MM-DD, for example 2025-01-31")
        try:
            return dt.datetime(*(int(part) for part in match.groups()))
        except ValueError as error:
            raise SpecError(f"invalid {option} '{value}': not a valid calendar date ({error}); expected YYYY-MM-DD") from error


DATE = DateType()


def configure_logging(debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger("pipe")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    root.propagate = False


def common_options(command):
    """Add --home, --warehouse and --debug to a command."""

    @click.option("--home", type=click.Path(file_okay=False, path_type=Path), envvar="PIPE_HOME", default="pipe-projects",
                  show_default=True, help="Folder that contains one sub-folder per project (env PIPE_HOME).")
    @click.option("--warehouse", envvar="PIPE_WAREHOUSE", default=None,
                  help="Warehouse URL; a path ending in .yml or .yaml is a warehouse configuration file, "
                       "any other plain path a DuckDB file (env PIPE_WAREHOUSE).")
    @click.option("--debug", is_flag=True, help="Log every step and show a traceback on errors.")
    @functools.wraps(command)
    def wrapper(*args, debug: bool, **kwargs):
        configure_logging(debug)
        try:
            return command(*args, **kwargs)
        except PipeError:
            if debug:
                import traceback

                traceback.print_exc()
            raise

    return wrapper


def echo(message: str) -> None:
    click.echo(message, err=True)


def stderr_is_terminal() -> bool:
    """Return whether stderr is a terminal, the only place where pipe draws progress bars.

    Elsewhere click prints only a bar's label, a stray line in a log. The
    commands print their counts and timings when they finish.
    """
    return sys.stderr.isatty()


def open_project_warehouse(info: dict, warehouse: str | None, read_only: bool, record: bool = False):
    """Open ``--warehouse`` when given, else the warehouse recorded in the project's info.json.

    A ``--warehouse`` (or ``PIPE_WAREHOUSE``) other than the recorded one is
    logged as a warning, because the project's model and its output rows then
    belong to different data. With ``record`` (``build``), ``info`` is
    updated to name the warehouse opened, so that info.json keeps saying
    where the artifacts came from.
    """
    from pipe.config import describe_warehouse, open_recorded

    if not warehouse:
        return open_recorded(info["warehouse"], read_only=read_only)
    engine = open_engine(warehouse, read_only=read_only)
    opened, recorded = describe_warehouse(engine), info["warehouse"]
    location = opened.get("config_file") or opened.get("path")
    recorded_location = recorded.get("config_file") or recorded.get("path")
    if location != recorded_location:
        consequence = "info.json will record the new one" if record else "this run reads and writes the new one"
        log.warning("project %s records the warehouse %s, but --warehouse or PIPE_WAREHOUSE names %s; %s",
                    info["name"], recorded_location, location, consequence)
        if record:
            info["warehouse"] = opened
    return engine




def sync_to_hdfs(project: Project, required: bool = False) -> None:
    """Copy the project folder to HDFS when PIPE_HDFS_URL is set (see pipe.hdfs_sync)."""
    from pipe.hdfs_sync import URL_ENV, SyncError, hdfs_settings, sync_project

    settings = hdfs_settings()
    if settings is None:
        if required:
            raise SyncError(f"HDFS is not configured: set {URL_ENV} to the namenode's WebHDFS address, e.g. http://namenode:9870")
        return
    copied = sync_project(project.path, project.name, settings)
    click.echo(f"copied {len(copied)} files to HDFS {settings.url}{settings.remote_folder(project.name)}")
