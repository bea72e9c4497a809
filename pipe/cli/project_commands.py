"""``pipe demo``, ``pipe init``, ``pipe build`` and ``pipe list``: creating and building projects."""

from __future__ import annotations

import os
import re
import secrets
import shutil
import sys
import tempfile
import time
from pathlib import Path

import click

from pipe.cli import common
from pipe.cli.common import DATE, common_options, echo, log, open_project_warehouse, sync_to_hdfs
from pipe.engines import open_engine
from pipe.errors import DateRangeError, ProjectError, SpecError, WarehouseError
from pipe.ids import ids_table, read_ids
from pipe.model_settings import DEFAULT_MODEL_SETTINGS, ESTIMATOR_NAMES
from pipe.project import INFO_FORMAT, Project, check_name, default_mode, library_versions, now_utc, read_info, to_json

#: Event names that the warning about an unmatched --conversion pattern shows.
EXAMPLE_EVENTS = 8


@click.command()
@click.option("--sites", type=click.IntRange(min=100), default=20_000, show_default=True, help="Number of sites to generate.")
@click.option("--seed", type=int, default=0, show_default=True, help="Random seed; the same seed gives the same data.")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), default="demo.duckdb", show_default=True,
              help="DuckDB file to write; an existing file is replaced only when generation succeeds.")
@common_options
def demo(sites: int, seed: int, out: Path, home: Path, warehouse: str | None) -> None:
    """Write a demo warehouse (DuckDB) with a year of made-up product data."""
    from pipe.demo import write_demo_warehouse

    started = time.perf_counter()
    if common.stderr_is_terminal():
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


@click.command()
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
        _check_first_data(ctx, plan)
        if ctx.spec.argument is not None:
            _check_pattern(engine, ctx)
        if ctx.spec.conversion.argument == "pattern":
            _check_pattern_matches(engine, ctx)
        if ids:
            _report_missing_ids(engine, ctx, ids, ids_file)

    _create_project(project, info)
    click.echo(f"created {project.path}")
    click.echo(f"  cutoffs {plan.first_cutoff} to {plan.last_cutoff}, label windows end by {plan.last_window_end} (last complete day {last_complete})")
    sync_to_hdfs(project)


def _check_first_data(ctx, plan) -> None:
    """Reject a last anchor date (timed) or analysis end (untimed) before the first entity's creation.

    No entity is anchored before it is created, and an untimed cohort contains
    the entities created before its cutoff, so either cohort would be empty.
    """
    from pipe.daily import earliest_prediction_day

    earliest = earliest_prediction_day(ctx)
    if earliest is None:
        return
    first = earliest[1]
    option, last = ("--end", plan.anchor_end) if plan.timed else ("--analysis-end", plan.analysis_end)
    if last < first:
        raise DateRangeError(f"{option} {last} is before the first data: the earliest created_at in {ctx.spec.entity}s "
                             f"is on {first}, so the cohort would be empty; pass {option} {first} or later")


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
        log.warning("%d of %d ids in %s are not in the %s table and are left out, e.g. %s", len(missing), len(ids), ids_file, table, examples)


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


@click.command()
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
        _print_plan(target, home, warehouse, until)
        return
    project, info = _resolve_build_target(target, home)
    with open_project_warehouse(info, warehouse, read_only=True, record=True) as engine:
        ctx = make_context(engine, info)
        result = Build(project, info, ctx, echo=echo).run(until)

    click.echo(f"artifacts in {project.path}")
    metrics = result.get("test_metrics")
    if metrics:
        click.echo(f"test ROC AUC {metrics['roc_auc']:.4f}")
        if "demo_truth_roc_auc" in metrics:
            click.echo(f"demo_truth.propensity ROC AUC on the same test entities {metrics['demo_truth_roc_auc']:.4f} "
                       f"(model / truth = {metrics['roc_auc_over_demo_truth']:.3f})")
        click.echo(f"test informedness {metrics['informedness']:.4f} at threshold {metrics['threshold']:.4f}")
    sync_to_hdfs(project)


def _print_plan(target: str, home: Path, warehouse: str | None, until: str | None = None) -> None:
    from pipe.build import planned_sql
    from pipe.context import make_context

    info = read_info(Path(target)) if target.endswith(".json") else Project(home, target).load_info()
    with open_project_warehouse(info, warehouse, read_only=True) as engine:
        ctx = make_context(engine, info)
        click.echo(f"-- project {info['name']}: {info['settings']['conversion']}, engine {engine.dialect}")
        for key, value in info["plan"].items():
            click.echo(f"-- plan.{key} = {value}")
        for stage, template, sql in planned_sql(ctx, until):
            click.echo(f"\n-- stage {stage}: {template}")
            for name, value in sql.params.items():
                click.echo(f"-- parameter {name} = {value!r}")
            click.echo(sql.text.rstrip() + ";")


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


@click.command(name="list")
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
