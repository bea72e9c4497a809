"""``pipe predict``, ``pipe evaluate`` and ``pipe audit``: the daily runs of a built project."""

from __future__ import annotations

import contextlib
import datetime as dt
import sys
import time
from pathlib import Path

import click

from pipe.cli import common
from pipe.cli.common import DATE, common_options, echo, log, open_project_warehouse
from pipe.errors import DateRangeError, PipeError, SpecError, WarehouseError
from pipe.project import Project


def _day_options(command):
    """Add --date, --from, --to and --complete-through to ``predict`` and ``evaluate``."""
    command = click.option("--complete-through", type=DATE,
                           help="Last complete day of the data [default: complete_through of a warehouse "
                                "configuration file, else the UTC date of the latest event].")(command)
    command = click.option("--to", "last_day", type=DATE, help="Last day of a range to backfill, included (YYYY-MM-DD).")(command)
    command = click.option("--from", "first_day", type=DATE, help="First day of a range to backfill (YYYY-MM-DD); needs --to.")(command)
    return click.option("--date", "date", type=DATE, help="The day to run (YYYY-MM-DD).")(command)


def _resolve_days(date, first_day, last_day) -> tuple[list[dt.date], str]:
    """Return the days to run and the option that names the last one."""
    if date is not None:
        if first_day is not None or last_day is not None:
            raise SpecError("--date cannot be combined with --from/--to; pass one day or a range")
        return [date.date()], "--date"
    if first_day is None or last_day is None:
        raise SpecError("missing --date, or --from and --to: pass one day or a range of days (YYYY-MM-DD)")
    first, last = first_day.date(), last_day.date()
    if first > last:
        raise DateRangeError(f"--from {first} is after --to {last}; expected --from on or before --to")
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)], "--to"


def _run_days(project: Project, info: dict, warehouse: str | None, days: list[dt.date], last_option: str,
              complete_through, run_day, label: str, check_days=None) -> None:
    """Run ``run_day(ctx, day, last_complete)`` for each day on a read-write warehouse.

    The data must be complete through the day before the last one, and
    ``check_days(ctx)``, when given, runs before the first day. A range shows
    a progress bar when stderr is a terminal; a day that fails stops the run,
    and the days before it stay written.
    """
    from pipe.context import make_context
    from pipe.daily import check_complete, last_complete_day

    started = time.perf_counter()
    results = []
    with open_project_warehouse(info, warehouse, read_only=False) as engine:
        if engine.config is not None and engine.config.engine == "duckdb" and engine.config.database is None:
            raise WarehouseError(f"{engine.config.file} names no DuckDB file to write the output tables into; "
                                 "add connection: path: FILE to it")
        ctx = make_context(engine, info)
        last_complete, source = last_complete_day(ctx.engine, complete_through.date() if complete_through else None)
        check_complete(last_option, days[-1], last_complete, source)
        if check_days is not None:
            check_days(ctx)
        show_bar = len(days) > 1 and common.stderr_is_terminal()
        # Under a progress bar the day lines wait until the bar finishes. Elsewhere
        # each one is printed as soon as its day is written, so logs show progress.
        pending = []
        with click.progressbar(days, label=label, file=sys.stderr, show_pos=True) if show_bar else contextlib.nullcontext(days) as bar:
            for day in bar:
                try:
                    result = run_day(ctx, day, last_complete)
                except PipeError as error:
                    for earlier in pending:
                        click.echo(earlier.summary)
                    written = f"; the days {days[0]} to {day - dt.timedelta(days=1)} are written" if results else ""
                    raise type(error)(f"{day}: {error.format_message()}{written}") from error
                results.append(result)
                if show_bar:
                    pending.append(result)
                else:
                    click.echo(result.summary)
    for result in pending:
        click.echo(result.summary)
    if len(days) > 1:
        rows = sum(result.rows for result in results)
        click.echo(f"{len(days)} days, {rows} rows in {results[0].table} in {time.perf_counter() - started:.1f} s")


@click.command()
@click.argument("name")
@_day_options
@common_options
def predict(name: str, date, first_day, last_day, complete_through, home: Path, warehouse: str | None) -> None:
    """Score the entities due on a day and assign their A/B groups.

    A timed project scores the entities whose cutoff is that day, that is
    those anchored --days before it. An untimed project scores its cohort at
    the cutoff at midnight starting that day. The day's rows of
    pipe_predictions and pipe_ab_groups are replaced, and the data must be
    complete through the day before.
    """
    from pipe.daily import check_first_data, load_model, predict_day, training_overlap

    days, last_option = _resolve_days(date, first_day, last_day)
    project = Project(home, name)
    info = project.load_info()
    model = load_model(project, info)
    if not info["settings"].get("ab_salt"):
        log.warning("info.json of project %r has no ab_salt (it predates A/B groups), so no A/B groups are written; "
                    "create the project again with `pipe init` to assign them", name)

    def check_days(ctx) -> None:
        check_first_data(ctx, "--date" if date is not None else "--from", days[0])
        overlap = training_overlap(ctx.plan, days[0], days[-1])
        if overlap:
            log.warning(overlap)

    def run_day(ctx, day, last_complete):
        return predict_day(ctx, project.name, model, day, last_complete)

    _run_days(project, info, warehouse, days, last_option, complete_through, run_day, "predicting", check_days)


@click.command()
@click.argument("name")
@_day_options
@common_options
def evaluate(name: str, date, first_day, last_day, complete_through, home: Path, warehouse: str | None) -> None:
    """Evaluate the predictions whose label windows closed at the start of a day.

    For day D these are the predictions of D minus --window. The day's row of
    pipe_evaluations is replaced, and the data must be complete through D minus 1.
    """
    from pipe.daily import check_model_settings, evaluate_day

    days, last_option = _resolve_days(date, first_day, last_day)
    project = Project(home, name)
    info = project.load_info()
    # The predictions carry their model's SHA-256, but the label window comes
    # from info.json, so the model must have been built with these settings.
    check_model_settings(project, info)

    def run_day(ctx, day, last_complete):
        return evaluate_day(ctx, project.name, day, last_complete)

    _run_days(project, info, warehouse, days, last_option, complete_through, run_day, "evaluating")


@click.command()
@click.argument("name")
@common_options
def audit(name: str, home: Path, warehouse: str | None) -> None:
    """Check project NAME's features for leakage.

    Builds the features on a scratch copy of the warehouse, changes rows dated
    at or after each entity's cutoff, builds them again and fails (status 2)
    naming each feature whose value moved. The warehouse itself is only read.
    """
    from pipe.audit import audit_project, report
    from pipe.config import is_config_path

    info = Project(home, name).load_info()
    url = warehouse or info["warehouse"].get("path")
    if warehouse is None:
        configured = info["warehouse"].get("config_file")
    else:
        configured = warehouse if is_config_path(warehouse) else None
    if configured:
        # NOTE: the audit copies tables by pipe's names out of a DuckDB file. The
        # tables of a configuration file (renamed columns, CSV or Parquet files)
        # would first have to be copied through their subqueries.
        raise WarehouseError(f"pipe audit reads DuckDB warehouse files only, not the warehouse configuration {configured}; "
                             "audit a DuckDB file whose tables have pipe's names")
    result = audit_project(info, url, echo=echo)
    report(result, echo=click.echo)
