"""Output tables in the warehouse: ``pipe_predictions``, ``pipe_ab_groups``, ``pipe_evaluations``.

Every table is keyed by (project, day), and each command replaces one day's
rows of a project through ``Engine.replace_rows``, so a re-run never leaves
duplicates. The CREATE statements are the templates ``sql/outputs/<table>.sql``,
which an engine can override like any other template.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pyarrow as pa

from pipe.context import Context
from pipe.engines.base import Replacement

PREDICTIONS = "pipe_predictions"
AB_GROUPS = "pipe_ab_groups"
EVALUATIONS = "pipe_evaluations"

PREDICTIONS_SCHEMA = pa.schema([
    ("project", pa.string()),
    ("day", pa.date32()),
    ("entity_id", pa.int64()),
    ("score", pa.float64()),
    ("predicted", pa.int8()),
    ("threshold", pa.float64()),
    ("model_sha", pa.string()),
])

AB_GROUPS_SCHEMA = pa.schema([
    ("project", pa.string()),
    ("day", pa.date32()),
    ("entity_id", pa.int64()),
    ("ab_group", pa.string()),
])

_COUNT_COLUMNS = ("n", "positives", "negatives", "tp", "fp", "tn", "fn")
_RATE_COLUMNS = ("base_rate", "tpr", "tnr", "fpr", "fnr", "precision", "informedness", "roc_auc", "average_precision")

EVALUATIONS_SCHEMA = pa.schema(
    [("project", pa.string()), ("day", pa.date32()), ("prediction_day", pa.date32())]
    + [(name, pa.int64()) for name in _COUNT_COLUMNS]
    + [(name, pa.float64()) for name in _RATE_COLUMNS]
    + [
        ("threshold", pa.float64()),
        ("confusion_matrix", pa.string()),
        ("confusion_matrix_normalized", pa.string()),
        ("model_sha", pa.string()),
    ]
)


def day_replacement(ctx: Context, table: str, project: str, day: dt.date, rows: pa.Table) -> Replacement:
    """Return the replacement of ``project``'s rows of ``day`` in ``table`` by ``rows``."""
    create_sql = ctx.renderer.render(f"outputs/{table}.sql", name=table).text
    return Replacement(table=table, key={"project": project, "day": day}, rows=rows, create_sql=create_sql)


def prediction_rows(project: str, day: dt.date, entity_ids: np.ndarray, scores: np.ndarray,
                    threshold: float, model_sha: str) -> pa.Table:
    """Return one ``pipe_predictions`` row per entity; ``predicted`` is ``score >= threshold``."""
    n = len(entity_ids)
    return pa.table({
        "project": pa.array([project] * n, pa.string()),
        "day": pa.array([day] * n, pa.date32()),
        "entity_id": pa.array(entity_ids, pa.int64()),
        "score": pa.array(scores, pa.float64()),
        "predicted": pa.array((scores >= threshold).astype(np.int8), pa.int8()),
        "threshold": pa.array([threshold] * n, pa.float64()),
        "model_sha": pa.array([model_sha] * n, pa.string()),
    }, schema=PREDICTIONS_SCHEMA)


def ab_group_rows(project: str, day: dt.date, entity_ids: np.ndarray, groups: np.ndarray) -> pa.Table:
    """Return one ``pipe_ab_groups`` row per entity."""
    n = len(entity_ids)
    return pa.table({
        "project": pa.array([project] * n, pa.string()),
        "day": pa.array([day] * n, pa.date32()),
        "entity_id": pa.array(entity_ids, pa.int64()),
        "ab_group": pa.array(groups, pa.string()),
    }, schema=AB_GROUPS_SCHEMA)


def evaluation_row(project: str, day: dt.date, prediction_day: dt.date, metrics: dict, model_sha: str) -> pa.Table:
    """Return the one ``pipe_evaluations`` row of ``metrics`` from ``pipe.metrics.binary_metrics``."""
    row = {"project": project, "day": day, "prediction_day": prediction_day}
    row.update({name: metrics[name] for name in _COUNT_COLUMNS + _RATE_COLUMNS})
    row["threshold"] = metrics["threshold"]
    row["confusion_matrix"] = json.dumps(metrics["confusion_matrix"])
    row["confusion_matrix_normalized"] = json.dumps(metrics["confusion_matrix_normalized"])
    row["model_sha"] = model_sha
    return pa.Table.from_pylist([row], schema=EVALUATIONS_SCHEMA)


def read_predictions(ctx: Context, project: str, day: dt.date) -> pd.DataFrame:
    """Return ``entity_id, score, threshold, model_sha`` of ``project``'s predictions on ``day``.

    The frame is empty when ``pipe_predictions`` does not exist or has no row
    for that day.
    """
    if not ctx.engine.table_exists(PREDICTIONS):
        return pd.DataFrame({"entity_id": pd.Series(dtype="int64"), "score": pd.Series(dtype="float64"),
                             "threshold": pd.Series(dtype="float64"), "model_sha": pd.Series(dtype="object")})
    sql = ctx.renderer.render("outputs/predictions_of_day.sql", name=PREDICTIONS, project=project, day=day)
    return ctx.run("outputs/predictions_of_day.sql", sql, f"predictions of {day}").to_pandas()
