"""Cohort stage: the population and each entity's anchor and cutoff."""

from __future__ import annotations

import pandas as pd

from pipe.context import Context
from pipe.plan import midnight, ONE_DAY

POPULATION_COLUMNS = ("entity_id", "created_at", "anchor_at", "cutoff_at")


def build_population(ctx: Context) -> pd.DataFrame:
    """Return the cohort's population, one row per entity, sorted by ``entity_id``.

    Returns
    -------
    DataFrame
        ``entity_id`` (int64), ``created_at``, ``anchor_at``, ``cutoff_at``
        (naive UTC timestamps), then the cohort's attribute columns such as
        ``lang`` and ``country``.
    """
    cohort = ctx.spec.cohort
    ctx.require_tables(cohort)
    plan = ctx.plan
    rows = ctx.query(
        "stages/population.sql",
        f"cohort {cohort.name}",
        cohort_template=cohort.template,
        anchor_start=plan.anchor_start,
        anchor_end=plan.anchor_end,
        cutoff=None if plan.timed else midnight(plan.analysis_end + ONE_DAY),
        **cohort.vars,
    )
    population = rows.to_pandas()
    population["entity_id"] = population["entity_id"].astype("int64")
    return population.sort_values("entity_id", kind="stable").reset_index(drop=True)
