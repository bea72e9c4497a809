"""The ``pipe`` command line: thin click commands over one module per stage."""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import logging
import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

import click

from pipe import __version__
from pipe.engines import open_engine
from pipe.ids import ids_table, read_ids
from pipe.model_settings import DEFAULT_MODEL_SETTINGS, ESTIMATOR_NAMES
from pipe.errors import DateRangeError, PipeError, ProjectError, SpecError, WarehouseError
from pipe.project import INFO_FORMAT, Project, check_name, default_mode, library_versions, now_utc, read_info, to_json

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


#: Event names that the warning about an unmatched --conversion pattern shows.
EXAMPLE_EVENTS = 8

DATE = DateType()


def _configure_logging(debug: bool) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s", "%H:%M:%S"))
    root = logging.getLogger("pipe")
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if debug else logging.INFO)
    root.propagate = False


def common_options(command):
    """Add --home, --warehouse and --debug to a command."""

    @click.option("--home", type=click.Path(file_okay=False, path_type=Path), envvar="PIPE_HOME", default="pipe-projects",
                  show_default=True, help="Folder that holds one sub-folder per project (env PIPE_HOME).")
    @click.option("--warehouse", envvar="PIPE_WAREHOUSE", default=None,
                  help="Warehouse URL; a path ending in .yml or .yaml is a warehouse configuration file, "
                       "any other plain path a DuckDB file (env PIPE_WAREHOUSE).")
    @click.option("--debug", is_flag=True, help="Log every step and show a traceback on errors.")
    @functools.wraps(command)
    def wrapper(*args, debug: bool, **kwargs):
        _configure_logging(debug)
        try:
            return command(*args, **kwargs)
        except PipeError:
            if debug:
                import traceback

                traceback.print_exc()
            raise

    return wrapper


def _echo(message: str) -> None:
    click.echo(message, err=True)


def _stderr_is_terminal() -> bool:
    """Return whether stderr is a terminal, the only place where pipe draws progress bars.

    Elsewhere click prints only a bar's label, a stray line in a log. The
    commands print their counts and timings when they finish.
    """
    return sys.stderr.isatty()


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="pipe")
def cli() -> None:
    """Leakage-safe propensity models from a product analytics warehouse.

    pipe init fixes a question and its dates, pipe build makes the model.
    """


@cli.command()
@click.option("--sites", type=click.IntRange(min=100), default=20_000, show_default=True, help="Number of sites to generate.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed; the same seed gives the same data.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default="demo.duckdb", show_default=True,
              help="DuckDB file to write; an existing file is replaced only when generation succeeds.")
@common_options
def demo(sites: int, seed: int, out: Path, home: Path, warehouse: str | None) -> None:
    """Write a demo warehouse (DuckDB) with a year of made-up product data."""
    from pipe.demo import write_demo_warehouse

    started = time.perf_counter()
    if _stderr_is_terminal():
        with click.progressbar(length=sites, label="generating sites", file=sys.stderr) as bar:
            done = [0]

            def progress(count: int) -> None:
                bar.update(count - done[0])
                done[0] = count

            counts = write_demo_warehouse(out, n_sites=sites, seed=seed, progress=progress)
    else:
        counts = write_demo_warehouse(out, n_sites=sites, seed=seed)
    rows = ", ".join(f"{table} {count:,}" for table, count in counts.items())
    click.echo(f"wrote {out} in {time.perf_counter() - started:.1f} s: {rows}")


@cli.command()
@click.argument("name")
@click.option("--conversion", "spec_text", required=True, metavar="COHORT:CONVERSION",
              help="The question, e.g. site_free:free_to_paid or site_any:event_like_^post_publish$.")
@click.option("--window", type=int, required=True, help="Label window length in days, starting at the cutoff.")
@click.option("--days", type=int, help="Timed cohort: the cutoff is the end of the entity's day N (anchor date + N days).")
@click.option("--start", type=DATE, help="Timed cohort: first anchor date included (YYYY-MM-DD).")
@click.option("--end", type=DATE, help="Timed cohort: last anchor date included (YYYY-MM-DD).")
@click.option("--analysis-end", type=DATE, help="Untimed cohort: the cutoff is midnight at the end of this date.")
@click.option("--ids", "ids_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Untimed cohort: a file of entity ids, one integer a line, that replaces the cohort query.")
@click.option("--sample", type=click.IntRange(min=1), help="Train on a random sample of N eligible entities.")
@click.option("--min-support", type=click.IntRange(min=1), default=5, show_default=True,
              help="Drop each feature that fewer than N training entities have a non-zero value in.")
@click.option("--seed", type=int, default=0, show_default=True, help="Seed for sampling, splitting, tuning and the estimator.")
@click.option("--model", "estimator", type=click.Choice(ESTIMATOR_NAMES), default=DEFAULT_MODEL_SETTINGS["estimator"], show_default=True,
              help="Estimator to train; each exposes feature importances.")
@click.option("--trials", type=click.IntRange(min=0), default=DEFAULT_MODEL_SETTINGS["trials"], show_default=True,
              help="hyperopt TPE tuning trials; 0 trains the untuned defaults.")
@click.option("--folds", type=click.IntRange(min=2, max=20), default=DEFAULT_MODEL_SETTINGS["folds"], show_default=True,
              help="Stratified cross-validation folds for tuning and the threshold.")
@click.option("--complete-through", type=DATE, help="Last complete day of the data [default: complete_through of a warehouse "
              "configuration file, else the UTC date of the latest event].")
@click.option("--control-share", type=click.FloatRange(0, 1), default=0.5, show_default=True,
              help="Share of scored entities that `pipe predict` puts in the A/B control group, from 0 to 1.")
@common_options
def init(name, spec_text, window, days, start, end, analysis_end, ids_file, sample, min_support, seed, estimator, trials, folds, complete_through, control_share, home, warehouse) -> None:
    """Create project NAME: check the question and dates, write info.json."""
    from pipe.config import describe_warehouse
    from pipe.context import make_context
    from pipe.daily import last_complete_day
    from pipe.plan import make_plan

    check_name(name)
    project = Project(home, name)
    if project.path.exists():
        raise ProjectError(f"project {name!r} already exists at {project.path}; choose another name or delete that folder")
    if warehouse is None:
        raise WarehouseError("no warehouse given; pass --warehouse PATH_OR_URL or set PIPE_WAREHOUSE")

    timed_options = {"--days": days, "--start": start, "--end": end}
    if ids_file is not None and analysis_end is None:
        raise SpecError("--ids needs --analysis-end: an id list replaces the cohort query of an untimed project")
    ids = read_ids(ids_file) if ids_file is not None else None
    if analysis_end is not None:
        given = [k for k, v in timed_options.items() if v is not None]
        if given:
            raise SpecError(f"--analysis-end (untimed) cannot be combined with {', '.join(given)} (timed); pass one or the other")
    else:
        missing = [k for k, v in timed_options.items() if v is None]
        if missing:
            raise SpecError(f"missing {', '.join(missing)}: a timed cohort needs --days, --start and --end; an untimed one needs --analysis-end")

    with open_engine(warehouse, read_only=True) as engine:
        last_complete, last_complete_source = last_complete_day(engine, complete_through.date() if complete_through else None)
        plan = make_plan(
            window=window,
            complete_through=last_complete,
            days=days,
            start=start.date() if start else None,
            end=end.date() if end else None,
            analysis_end=analysis_end.date() if analysis_end else None,
        )
        settings = {
            "conversion": spec_text,
            "window": window,
            "days": days,
            "start": start.date().isoformat() if start else None,
            "end": end.date().isoformat() if end else None,
            "analysis_end": analysis_end.date().isoformat() if analysis_end else None,
            "ids_file": str(ids_file) if ids_file else None,
            "ids": ids,
            "sample": sample,
            "min_support": min_support,
            "seed": seed,
            "complete_through": last_complete.isoformat(),
            "complete_through_source": last_complete_source,
            # User template folders at init, those of PIPE_SQL_PATH before those of the warehouse
            # configuration, so that a rebuild from info.json finds the same definitions.
            "sql_path": [str(Path(p).resolve()) for p in os.environ.get("PIPE_SQL_PATH", "").split(os.pathsep) if p]
                        + [str(folder) for folder in (engine.config.sql_path if engine.config is not None else [])],
            "control_share": control_share,
            "ab_salt": secrets.token_hex(16),
            "model": {**DEFAULT_MODEL_SETTINGS, "estimator": estimator, "trials": trials, "folds": folds},
        }
        info = {
            "format": INFO_FORMAT,
            "name": name,
            "created_at": now_utc(),
            "settings": settings,
            "plan": plan.to_json(),
            "warehouse": describe_warehouse(engine),
            "versions": library_versions(),
            "artifacts": {},
        }
        ctx = make_context(engine, info)
        ctx.require_tables(ctx.spec.cohort)
        ctx.require_tables(ctx.spec.conversion)
        if ctx.spec.argument is not None:
            _check_pattern(engine, ctx)
        if ctx.spec.conversion.argument == "pattern":
            _check_pattern_matches(engine, ctx)
        if ids:
            _report_missing_ids(engine, ctx, ids, ids_file)

    _create_project(project, info)
    click.echo(f"created {project.path}")
    click.echo(f"  cutoffs {plan.first_cutoff} to {plan.last_cutoff}, label windows end by {plan.last_window_end} (last complete day {last_complete})")
    _sync_to_hdfs(project)


def _check_pattern(engine, ctx) -> None:
    """Reject a pattern that the engine's regular-expression syntax cannot compile."""
    sql = ctx.renderer.render("macros/check_pattern.sql", pattern=ctx.spec.argument)
    try:
        engine.fetch_arrow(sql.text, sql.params)
    except Exception as error:  # the engine's own error type differs per driver
        raise SpecError(f"invalid regular expression '{ctx.spec.argument}' in --conversion; "
                        f"{engine.dialect} reports \"{_engine_reason(error)}\"") from error


# An error class name at the start of a driver's message: DuckDB's "Invalid
# Input Error: ", a Java or Python class such as "java.util.regex.PatternSyntaxException: ".
_ERROR_CLASS_PREFIX = re.compile(r"^(?:[A-Za-z_][\w.$]*(?:Error|Exception)|[A-Z][a-z]*(?: [A-Z][a-z]*)* Error):\s+")


def _engine_reason(error: Exception) -> str:
    """Return the first line of an engine's error message without its error class prefixes."""
    lines = str(error).strip().splitlines()
    if not lines:
        return type(error).__name__
    reason = lines[0]
    while (stripped := _ERROR_CLASS_PREFIX.sub("", reason, count=1)) != reason:
        reason = stripped
    return reason


def _check_pattern_matches(engine, ctx) -> None:
    """Warn when the pattern matches no event name: a typo is likely, and the build would find one class only.

    It is a warning, not an error, because an event may appear only after
    init, and tests of label rules use such patterns on purpose.
    """
    sql = ctx.render("stages/pattern_match.sql", pattern=ctx.spec.argument)
    if engine.fetch_arrow(sql.text, sql.params).num_rows:
        return
    sql = ctx.render("stages/frequent_events.sql", limit=EXAMPLE_EVENTS)
    names = engine.fetch_arrow(sql.text, sql.params).column("event").to_pylist()
    examples = ", ".join(repr(name) for name in names) if names else "none: the events table is empty"
    log.warning("the pattern '%s' in --conversion matches no event name in the warehouse yet, so every label would "
                "be 0; the most frequent names are %s", ctx.spec.argument, examples)


def _report_missing_ids(engine, ctx, ids: list[int], ids_file: Path) -> None:
    """Warn about ids that the entity table lacks; raise when none is there."""
    engine.upload("pipe_ids", ids_table(ids))
    sql = ctx.render("stages/missing_ids.sql")
    missing = engine.fetch_arrow(sql.text, sql.params).column("entity_id").to_pylist()
    table = ctx.spec.entity + "s"
    if len(missing) == len(ids):
        raise SpecError(f"none of the {len(ids)} ids in {ids_file} is in the warehouse's {table} table; check that the file lists {ctx.spec.entity} ids")
    if missing:
        examples = ", ".join(str(i) for i in missing[:5])
        _echo(f"warning: {len(missing)} of {len(ids)} ids in {ids_file} are not in the {table} table and are left out, e.g. {examples}")


def _create_project(project: Project, info: dict) -> None:
    """Create the project folder with its info.json in one rename."""
    project.home.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=f".{project.name}.", dir=project.home))
    try:
        (scratch / "info.json").write_text(to_json(info), encoding="utf-8")
        os.chmod(scratch, default_mode(directory=True))
        os.rename(scratch, project.path)
    except BaseException:
        shutil.rmtree(scratch, ignore_errors=True)
        raise


@cli.command()
@click.argument("target", metavar="NAME|INFO_JSON")
@click.option("--until", type=click.Choice(["cohort", "labels", "features", "train"]),
              help="Stop after this stage; later artifacts are removed.")
@click.option("--dry-run", is_flag=True, help="Print the date plan and the SQL each stage would run; run nothing.")
@common_options
def build(target: str, until: str | None, dry_run: bool, home: Path, warehouse: str | None) -> None:
    """Build project NAME, or rebuild the project an info.json describes."""
    from pipe.build import Build
    from pipe.context import make_context

    if dry_run:
        _print_plan(target, home, warehouse)
        return
    project, info = _resolve_build_target(target, home)
    with _open_project_warehouse(info, warehouse, read_only=True, record=True) as engine:
        ctx = make_context(engine, info)
        result = Build(project, info, ctx, echo=_echo).run(until)

    click.echo(f"artifacts in {project.path}")
    metrics = result.get("test_metrics")
    if metrics:
        click.echo(f"test ROC AUC {metrics['roc_auc']:.4f}")
        if "demo_truth_roc_auc" in metrics:
            click.echo(f"demo_truth.propensity ROC AUC on the same test entities {metrics['demo_truth_roc_auc']:.4f} "
                       f"(model / truth = {metrics['roc_auc_over_demo_truth']:.3f})")
        click.echo(f"test informedness {metrics['informedness']:.4f} at threshold {metrics['threshold']:.4f}")
    _sync_to_hdfs(project)


def _print_plan(target: str, home: Path, warehouse: str | None) -> None:
    from pipe.build import planned_sql
    from pipe.context import make_context

    info = read_info(Path(target)) if target.endswith(".json") else Project(home, target).load_info()
    with _open_project_warehouse(info, warehouse, read_only=True) as engine:
        ctx = make_context(engine, info)
        click.echo(f"-- project {info['name']}: {info['settings']['conversion']}, engine {engine.dialect}")
        for key, value in info["plan"].items():
            click.echo(f"-- plan.{key} = {value}")
        for stage, template, sql in planned_sql(ctx):
            click.echo(f"\n-- stage {stage}: {template}")
            for name, value in sql.params.items():
                click.echo(f"-- parameter {name} = {value!r}")
            click.echo(sql.text.rstrip() + ";")


def _open_project_warehouse(info: dict, warehouse: str | None, read_only: bool, record: bool = False):
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


def _resolve_build_target(target: str, home: Path) -> tuple[Project, dict]:
    path = Path(target)
    if target.endswith(".json"):
        if not path.is_file():
            raise ProjectError(f"info.json not found: {path}")
        info = read_info(path)
        project = Project(home, info["name"])
        if project.exists() and project.info_path.resolve() != path.resolve():
            raise ProjectError(f"project {info['name']!r} already exists at {project.path}; pass another --home to rebuild it elsewhere")
        if not project.exists():
            info = {**info, "artifacts": {}, "rebuilt_from": str(path.resolve())}
            info.pop("build", None)
            _create_project(project, info)
        return project, project.load_info()
    project = Project(home, target)
    return project, project.load_info()


@cli.command(name="list")
@common_options
def list_definitions(home: Path, warehouse: str | None) -> None:
    """List every cohort, conversion and feature family.

    With --warehouse, also show whether the warehouse has the tables each needs.
    """
    from pipe.config import missing_tables
    from pipe.registry import KINDS, Registry
    from pipe.templates import sql_search_path

    engine = open_engine(warehouse, read_only=True) if warehouse else None
    try:
        registry = Registry(sql_search_path(engine.config.sql_path if engine is not None and engine.config is not None else []))
        for kind in KINDS:
            click.echo(f"{kind}:")
            for name in registry.names(kind):
                definition = registry.get(kind, name)
                shown = f"{name}_{definition.argument.upper()}" if definition.argument else name
                scope = definition.status if kind == "cohorts" else ", ".join(definition.applies_to)
                availability = ""
                if engine is not None:
                    missing = missing_tables(engine, definition.requires)
                    availability = f"  [missing table: {', '.join(missing)}]" if missing else "  [ready]"
                click.echo(f"  {shown:<24} {scope:<16} {definition.description}{availability}")
                click.echo(f"  {'':<24} {'':<16} from {definition.source}")
    finally:
        if engine is not None:
            engine.close()


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
    with _open_project_warehouse(info, warehouse, read_only=False) as engine:
        if engine.config is not None and engine.config.engine == "duckdb" and engine.config.database is None:
            raise WarehouseError(f"{engine.config.file} names no DuckDB file to write the output tables into; "
                                 "add connection: path: FILE to it")
        ctx = make_context(engine, info)
        last_complete, source = last_complete_day(ctx.engine, complete_through.date() if complete_through else None)
        check_complete(last_option, days[-1], last_complete, source)
        if check_days is not None:
            check_days(ctx)
        show_bar = len(days) > 1 and _stderr_is_terminal()
        with click.progressbar(days, label=label, file=sys.stderr, show_pos=True) if show_bar else contextlib.nullcontext(days) as bar:
            for day in bar:
                try:
                    results.append(run_day(ctx, day, last_complete))
                except PipeError as error:
                    for result in results:
                        click.echo(result.summary)
                    kept = f"; the days {days[0]} to {day - dt.timedelta(days=1)} are written" if results else ""
                    raise type(error)(f"{day}: {error.format_message()}{kept}") from error
    for result in results:
        click.echo(result.summary)
    if len(days) > 1:
        rows = sum(result.rows for result in results)
        click.echo(f"{len(days)} days, {rows} rows in {results[0].table} in {time.perf_counter() - started:.1f} s")


@cli.command()
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
        _echo(f"warning: info.json of project {name!r} has no ab_salt (it predates A/B groups), so no A/B groups are written; "
              "create the project again with `pipe init` to assign them")

    def check_days(ctx) -> None:
        check_first_data(ctx, "--date" if date is not None else "--from", days[0])
        overlap = training_overlap(ctx.plan, days[0], days[-1])
        if overlap:
            _echo(f"warning: {overlap}")

    def run_day(ctx, day, last_complete):
        return predict_day(ctx, project.name, model, day, last_complete)

    _run_days(project, info, warehouse, days, last_option, complete_through, run_day, "predicting", check_days)


@cli.command()
@click.argument("name")
@_day_options
@common_options
def evaluate(name: str, date, first_day, last_day, complete_through, home: Path, warehouse: str | None) -> None:
    """Evaluate the predictions whose label windows closed at the start of a day.

    For day D these are the predictions of D minus --window. The day's row of
    pipe_evaluations is replaced, and the data must be complete through D minus 1.
    """
    from pipe.daily import evaluate_day

    days, last_option = _resolve_days(date, first_day, last_day)
    project = Project(home, name)
    info = project.load_info()

    def run_day(ctx, day, last_complete):
        return evaluate_day(ctx, project.name, day, last_complete)

    _run_days(project, info, warehouse, days, last_option, complete_through, run_day, "evaluating")


@cli.command()
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
    result = audit_project(info, url, echo=_echo)
    report(result, echo=click.echo)


def _sync_to_hdfs(project: Project, required: bool = False) -> None:
    """Copy the project folder to HDFS when PIPE_HDFS_URL is set (see pipe.hdfs_sync)."""
    from pipe.hdfs_sync import URL_ENV, SyncError, hdfs_settings, sync_project

    settings = hdfs_settings()
    if settings is None:
        if required:
            raise SyncError(f"HDFS is not configured: set {URL_ENV} to the namenode's WebHDFS address, e.g. http://namenode:9870")
        return
    copied = sync_project(project.path, project.name, settings)
    click.echo(f"copied {len(copied)} files to HDFS {settings.url}{settings.remote_folder(project.name)}")


@cli.command()
@click.argument("name")
@common_options
def sync(name: str, home: Path, warehouse: str | None) -> None:
    """Copy project NAME's folder to HDFS (PIPE_HDFS_URL, PIPE_HDFS_USER, PIPE_HDFS_ROOT).

    init, build and schedule do this by themselves when PIPE_HDFS_URL is set.
    """
    project = Project(home, name)
    project.load_info()
    _sync_to_hdfs(project, required=True)


@cli.command()
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
    from pipe.hdfs_sync import hdfs_settings
    from pipe.schedule import FOLDER, Schedule, conda_env_name, write_schedule
    from pipe.templates import PACKAGE_DIR

    project = Project(home, name)
    info = project.load_info()
    first = start.date() if start else dt.datetime.now(dt.timezone.utc).date() + dt.timedelta(days=1)
    last = end.date() if end else first + dt.timedelta(days=365)
    if last <= first:
        raise DateRangeError(f"--end {last} is not after --start {first}; expected a later --end")
    url = warehouse or info["warehouse"].get("config_file") or info["warehouse"].get("path")
    settings = hdfs_settings()
    root = settings.root if settings is not None else f"/user/{os.environ.get('USER', 'USER')}/pipe-projects"
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
    _sync_to_hdfs(project)


def main() -> None:
    cli(prog_name="pipe")


if __name__ == "__main__":
    main()
