"""Daily operations: ``pipe predict``, ``pipe evaluate`` and A/B groups.

``predict`` on day D scores the entities whose cutoff is midnight at the
start of D. For a timed project these are the entities anchored on D - days,
and for an untimed one the cohort at that cutoff (analysis end D - 1). It
reuses the cohort, eligibility and features stages with the project's date
plan narrowed to that one cutoff, and neither labels nor samples.

``evaluate`` on day D labels the predictions of P = D - window, whose label
windows [P, D) have just closed. Both commands need data complete through
D - 1, and each replaces the day's rows of its output tables in one
transaction.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import logging
import time
from dataclasses import dataclass
from typing import Any

import joblib
import numpy as np
import pandas as pd

from pipe.cohort import build_population
from pipe.config import missing_tables, table_sources
from pipe.context import Context
from pipe.eligibility import apply_eligibility
from pipe.errors import DataError, DateRangeError, ProjectError, WarehouseError
from pipe.features import build_features
from pipe.labels import labels_sql, upload_eligible
from pipe.metrics import binary_metrics
from pipe.outputs import (
    AB_GROUPS,
    EVALUATIONS,
    EVALUATIONS_SCHEMA,
    PREDICTIONS,
    ab_group_rows,
    day_replacement,
    evaluation_row,
    prediction_rows,
    read_predictions,
)
from pipe.plan import ONE_DAY, DatePlan, midnight
from pipe.project import Project
from pipe.score import predict_scores
from pipe.settings import settings_digest

log = logging.getLogger(__name__)

MODEL_FILE = "model.joblib"
DEFAULT_CONTROL_SHARE = 0.5
# Entities whose features are built and scored at a time. Each batch runs the
# feature queries again, so a smaller batch trades time for less memory.
FEATURE_BATCH_ENTITIES = 200_000


@dataclass(frozen=True)
class LoadedModel:
    """The contents of ``model.joblib`` and the SHA-256 recorded for it in ``info.json``."""

    pipeline: Any
    threshold: float
    feature_names: list[str]
    sha256: str


@dataclass(frozen=True)
class DayResult:
    """The outcome of one day's run: the table written, its row count and a line for the user."""

    day: dt.date
    table: str
    rows: int
    seconds: float
    summary: str


def load_model(project: Project, info: dict) -> LoadedModel:
    """Load ``model.joblib`` after checking its SHA-256 against ``info.json``.

    Raises
    ------
    ProjectError
        When the file is missing or differs from the one the build recorded
        (joblib never opens a file that fails that check), or when the
        settings of info.json differ from those the model was built with.
    """
    path = project.verify(info, MODEL_FILE)
    check_model_settings(project, info)
    model = joblib.load(path)
    return LoadedModel(
        pipeline=model["pipeline"],
        threshold=float(model["threshold"]),
        feature_names=list(model["feature_names"]),
        sha256=info["artifacts"][MODEL_FILE]["sha256"],
    )


def check_model_settings(project: Project, info: dict) -> None:
    """Raise ProjectError when info.json's settings differ from those its model was built with.

    ``build`` records the digest of the settings next to model.joblib's
    SHA-256. A project without a model, or built before the digest was
    recorded, has none to compare.
    """
    built_with = info.get("artifacts", {}).get(MODEL_FILE, {}).get("settings_sha256")
    if built_with is not None and built_with != settings_digest(info):
        raise ProjectError(
            f"{project.file(MODEL_FILE)} was built with other settings than {project.info_path} now contains; "
            f"rebuild the model with `pipe build {project.name}`, or restore info.json"
        )


def _latest_event(engine) -> dt.date | None:
    """Return the UTC date of the latest event, or None when the events table is empty."""
    # Impala needs an alias on a subquery, which a configured events table is.
    latest = engine.scalar(f"SELECT MAX(ts) FROM {table_sources(engine)['events']} AS events_rows")
    return latest.date() if isinstance(latest, dt.datetime) else latest


def latest_event_day(engine) -> dt.date:
    """Return the UTC date of the warehouse's latest event.

    Raises WarehouseError when there is no events table or it is empty.
    """
    if missing_tables(engine, ["events"]):
        raise WarehouseError("the warehouse has no events table to date its last complete day; pass --complete-through YYYY-MM-DD")
    latest = _latest_event(engine)
    if latest is None:
        raise WarehouseError("the events table is empty, so the last complete day is unknown; pass --complete-through YYYY-MM-DD")
    return latest


def last_complete_day(engine, override: dt.date | None) -> tuple[dt.date, str]:
    """Return the last complete day and where it comes from.

    ``override`` is the value of ``--complete-through``; the default is
    ``complete_through`` of the warehouse configuration file, else the UTC
    date of the latest event. A given day after today (UTC) raises
    DateRangeError. A given day after the latest event is logged as a
    warning: when the data are missing rather than quiet, every label window
    over those days reads 0.
    """
    config = engine.config
    if override is not None:
        day, source = override, "--complete-through"
    elif config is not None and config.complete_through is not None:
        day, source = config.complete_through, f"complete_through of {config.file}"
    else:
        return latest_event_day(engine), "the UTC date of the latest event"
    today = dt.datetime.now(dt.timezone.utc).date()
    if day >= today:
        raise DateRangeError(f"{source} {day} is not over yet (today is {today} in UTC); "
                             f"the data can be complete through {today - ONE_DAY} at the latest")
    latest = None if missing_tables(engine, ["events"]) else _latest_event(engine)
    if latest is not None and day > latest:
        log.warning("%s %s is after the latest event, on %s; labels and features over the days between "
                    "read as if nothing happened, so check that the data are complete", source, day, latest)
    return day, source


def check_complete(option: str, day: dt.date, last_complete: dt.date, source: str) -> None:
    """Raise DateRangeError unless the data are complete through ``day`` - 1."""
    if day - ONE_DAY > last_complete:
        raise DateRangeError(
            f"{option} {day} needs data complete through {day - ONE_DAY}, but the last complete day is "
            f"{last_complete} ({source}); the latest day that works is {last_complete + ONE_DAY}"
        )


def day_plan(plan: DatePlan, day: dt.date, last_complete: dt.date) -> DatePlan:
    """Return ``plan`` narrowed to the one cutoff at midnight at the start of ``day``."""
    if plan.timed:
        anchor = day - dt.timedelta(days=plan.days)
        return dataclasses.replace(plan, anchor_start=anchor, anchor_end=anchor, complete_through=last_complete)
    return dataclasses.replace(plan, analysis_end=day - ONE_DAY, complete_through=last_complete)


def training_overlap(plan: DatePlan, first_day: dt.date, last_day: dt.date) -> str | None:
    """Return a warning when prediction days in [first_day, last_day] reuse the training data.

    A timed project trained on the entities whose cutoffs are first_cutoff to
    last_cutoff. A prediction day in that range scores those same entities
    with the same features, so its scores are in-sample; other days score
    other entities.

    An untimed project trained on its cohort at one cutoff C with the labels
    of [C, C + window). Day D scores that cohort again, with the label window
    [D, D + window), which overlaps the training one exactly when
    C - window < D < C + window. Those scores are partly in-sample, and
    wholly on D = C. The label windows of days up to C - window end by C, so
    no training label covers them.
    """
    if plan.timed:
        first, last = plan.first_cutoff.date(), plan.last_cutoff.date()
    else:
        cutoff, window_end = plan.first_cutoff.date(), plan.last_window_end.date()
        first, last = cutoff - dt.timedelta(days=plan.window) + ONE_DAY, window_end - ONE_DAY
    start, end = max(first_day, first), min(last_day, last)
    if start > end:
        return None
    days_text = f"day {start} is" if start == end else f"days {start} to {end} are"
    if plan.timed:
        return f"{days_text} among the training cohort's cutoff days ({first} to {last}), so those scores are in-sample"
    wholly = f" (wholly on {cutoff}, the training cutoff)" if start <= cutoff <= end else ""
    return (f"{days_text} less than {plan.window} days from the training cutoff {cutoff}, so their label windows overlap "
            f"the training label window [{cutoff}, {window_end}) and those scores are partly in-sample{wholly}")


def earliest_prediction_day(ctx: Context) -> tuple[dt.date, dt.date] | None:
    """Return the first day that can have due entities, and the first data's date it follows from.

    The first data is the UTC date F of the earliest ``created_at`` in the
    cohort's entity table (sites or users), one MIN over that table. A timed
    project's day D scores the entities anchored on D - days, and no anchor
    precedes its entity's creation, so the first such day is F + days. An
    untimed project's day D scores entities created before D, so it is F + 1.
    Returns None when the table has no ``created_at``.

    NOTE: a paid cohort's anchor is the start of the first paid plan. Dirty
    data with a plan that starts before its entity's creation could have due
    entities before F + days.
    """
    table = f"{ctx.spec.entity}s"
    # Impala needs an alias on a subquery, which a configured table is.
    first = ctx.engine.scalar(f"SELECT MIN(created_at) FROM {ctx.renderer.tables[table]} AS entity_rows")
    if first is None:
        return None
    first = first.date() if isinstance(first, dt.datetime) else first
    offset = dt.timedelta(days=ctx.plan.days) if ctx.plan.timed else ONE_DAY
    return first + offset, first


def check_first_data(ctx: Context, option: str, day: dt.date) -> None:
    """Raise DateRangeError when ``day`` is before ``earliest_prediction_day``, since no entity can be due then."""
    earliest = earliest_prediction_day(ctx)
    if earliest is None or day >= earliest[0]:
        return
    earliest_day, first = earliest
    table = f"{ctx.spec.entity}s"
    if ctx.plan.timed:
        rule = f"a timed project scores entities {ctx.plan.days} days after their anchor"
    else:
        rule = "an untimed project scores the entities created before the day"
    raise DateRangeError(
        f"{option} {day} is before the first data: the earliest created_at in {table} is on {first}, and {rule}; "
        f"the earliest {option} that works is {earliest_day}"
    )


def ab_unit_values(salt: str, entity_ids: np.ndarray) -> np.ndarray:
    """Map each id to a uniform value in [0, 1) that depends only on ``salt`` and the id.

    The value is the top 53 bits of SHA-256(f"{salt}:{entity_id}") divided by
    2**53, computed in Python so that every engine gives the same groups.
    """
    values = np.empty(len(entity_ids), dtype=np.float64)
    for i, entity_id in enumerate(entity_ids):
        digest = hashlib.sha256(f"{salt}:{int(entity_id)}".encode("ascii")).digest()
        values[i] = (int.from_bytes(digest[:8], "big") >> 11) / 2.0**53
    return values


def assign_ab_groups(salt: str, control_share: float, entity_ids: np.ndarray) -> np.ndarray:
    """Return ``"control"`` or ``"treatment"`` per id; ``control_share`` of ids, in expectation, are control."""
    return np.where(ab_unit_values(salt, entity_ids) < control_share, "control", "treatment")


def score_entities(ctx: Context, model: LoadedModel, entities: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Return the ids and scores of ``entities``, in batches of ``FEATURE_BATCH_ENTITIES``.

    ``entities`` must be sorted by ``entity_id``, and the ids come back in
    that order. Each batch's features are aligned to the model's columns.
    """
    ids, scores = [np.empty(0, dtype=np.int64)], [np.empty(0, dtype=np.float64)]
    for start in range(0, len(entities), FEATURE_BATCH_ENTITIES):
        matrix, _ = build_features(ctx, entities.iloc[start:start + FEATURE_BATCH_ENTITIES], family_log_level=logging.DEBUG)
        aligned = matrix.align(model.feature_names)
        ids.append(aligned.entity_ids)
        scores.append(predict_scores(model.pipeline, aligned.X).astype(np.float64))
    return np.concatenate(ids), np.concatenate(scores)


def due_entities(ctx: Context) -> pd.DataFrame:
    """Return the eligible entities at the single cutoff of ``ctx.plan``, sorted by id."""
    population = build_population(ctx)
    if population.empty:
        return population
    eligible, _ = apply_eligibility(ctx, population)
    return eligible


def predict_day(ctx: Context, project: str, model: LoadedModel, day: dt.date, last_complete: dt.date) -> DayResult:
    """Score the entities due on ``day`` and replace the day's predictions and A/B groups.

    Both tables are replaced in one transaction. A day with no due entities
    leaves both with no rows for that day.
    """
    started = time.perf_counter()
    day_ctx = dataclasses.replace(ctx, plan=day_plan(ctx.plan, day, last_complete), executed=[])
    entity_ids, scores = score_entities(day_ctx, model, due_entities(day_ctx))

    rows = prediction_rows(project, day, entity_ids, scores, model.threshold, model.sha256)
    replacements = [day_replacement(ctx, PREDICTIONS, project, day, rows)]
    salt = ctx.settings.get("ab_salt")
    groups = None
    if salt:
        groups = assign_ab_groups(salt, float(ctx.settings.get("control_share", DEFAULT_CONTROL_SHARE)), entity_ids)
        replacements.append(day_replacement(ctx, AB_GROUPS, project, day, ab_group_rows(project, day, entity_ids, groups)))

    write_started = time.perf_counter()
    ctx.engine.replace_rows(replacements)
    finished = time.perf_counter()
    write_seconds, seconds = finished - write_started, finished - started

    tables = " and ".join(r.table for r in replacements)
    log.debug("project %s, day %s: replaced %s with %d rows each in %.2f s (%.2f s for the whole day)",
              project, day, tables, len(entity_ids), write_seconds, seconds)
    if len(entity_ids) == 0:
        summary = f"{day}: no entities are due (cutoff {midnight(day)}); {tables} now have no rows for this day"
    else:
        positives = int((scores >= model.threshold).sum())
        control = f", {int((groups == 'control').sum())} in control" if groups is not None else ""
        summary = (f"{day}: scored {len(entity_ids)} entities, {positives} predicted 1{control}; "
                   f"wrote {tables} in {write_seconds:.2f} s, {seconds:.2f} s for the day")
    return DayResult(day, PREDICTIONS, len(entity_ids), seconds, summary)


def _single_value(predictions: pd.DataFrame, column: str, day: dt.date) -> Any:
    values = predictions[column].unique()
    if len(values) != 1:
        raise DataError(f"the predictions of {day} have {len(values)} different values of {column}; re-run `pipe predict` for that day")
    return values[0]


def label_predictions(ctx: Context, predictions: pd.DataFrame, prediction_day: dt.date) -> np.ndarray:
    """Return the label (0 or 1) of each prediction row, with cutoff_at = midnight of ``prediction_day``."""
    ctx.require_tables(ctx.spec.conversion)
    entities = pd.DataFrame({
        "entity_id": predictions["entity_id"].astype("int64"),
        "cutoff_at": pd.Series(midnight(prediction_day), index=predictions.index, dtype="datetime64[us]"),
    })
    upload_eligible(ctx, entities)
    template = ctx.spec.conversion.template
    labels = ctx.run(template, labels_sql(ctx), f"labels {ctx.spec.conversion.name} of {prediction_day}").to_pandas()
    labels["entity_id"] = labels["entity_id"].astype("int64")
    merged = entities[["entity_id"]].merge(labels, on="entity_id", how="left", validate="one_to_one")
    return merged["label"].fillna(0).astype("int8").to_numpy()


def evaluate_day(ctx: Context, project: str, day: dt.date, last_complete: dt.date) -> DayResult:
    """Label the predictions of ``day`` - window and replace the day's row of ``pipe_evaluations``.

    When there are no predictions for that day, the day's row is removed (if
    any) and nothing is written.
    """
    started = time.perf_counter()
    prediction_day = day - dt.timedelta(days=ctx.plan.window)
    predictions = read_predictions(ctx, project, prediction_day)

    if predictions.empty:
        ctx.engine.replace_rows([day_replacement(ctx, EVALUATIONS, project, day, EVALUATIONS_SCHEMA.empty_table())])
        summary = f"{day}: no predictions of {prediction_day} to evaluate, so no row is written"
        return DayResult(day, EVALUATIONS, 0, time.perf_counter() - started, summary)

    threshold = float(_single_value(predictions, "threshold", prediction_day))
    model_sha = str(_single_value(predictions, "model_sha", prediction_day))
    day_ctx = dataclasses.replace(ctx, plan=day_plan(ctx.plan, prediction_day, last_complete), executed=[])
    labels = label_predictions(day_ctx, predictions, prediction_day)
    metrics = binary_metrics(labels, predictions["score"].to_numpy(), threshold)
    row = evaluation_row(project, day, prediction_day, metrics, model_sha)

    write_started = time.perf_counter()
    ctx.engine.replace_rows([day_replacement(ctx, EVALUATIONS, project, day, row)])
    finished = time.perf_counter()
    write_seconds, seconds = finished - write_started, finished - started

    log.debug("project %s, day %s: replaced %s with 1 row (%d predictions of %s) in %.2f s (%.2f s for the whole day)",
              project, day, EVALUATIONS, metrics["n"], prediction_day, write_seconds, seconds)
    auc = "n/a (one class)" if metrics["roc_auc"] is None else f"{metrics['roc_auc']:.4f}"
    summary = (f"{day}: evaluated {metrics['n']} predictions of {prediction_day}, {metrics['positives']} positive, "
               f"ROC AUC {auc}; wrote {EVALUATIONS} in {write_seconds:.2f} s, {seconds:.2f} s for the day")
    return DayResult(day, EVALUATIONS, 1, seconds, summary)
