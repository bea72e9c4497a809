"""Cohort stage: the population and each entity's anchor and cutoff."""

from __future__ import annotations

import pandas as pd

from pipe.context import Context
from pipe.ids import ids_table
from pipe.templates import RenderedSQL
from pipe.plan import midnight, ONE_DAY

POPULATION_COLUMNS = ("entity_id", "created_at", "anchor_at", "cutoff_at")


def population_sql(ctx: Context) -> RenderedSQL:
    """Render the population query of the project's cohort."""
    cohort = ctx.spec.cohort
    plan = ctx.plan
    return ctx.render(
        "stages/population.sql",
        cohort_template=cohort.template,
        anchor_start=plan.anchor_start,
        anchor_end=plan.anchor_end,
        cutoff=None if plan.timed else midnight(plan.analysis_end + ONE_DAY),
        with_ids=bool(ctx.settings.get("ids")),
        **cohort.vars,
    )


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
    ids = ctx.settings.get("ids")
    if ids:
        ctx.engine.upload("pipe_ids", ids_table(ids))
    rows = ctx.run("stages/population.sql", population_sql(ctx), f"cohort {cohort.name}")
    population = rows.to_pandas()
    population["entity_id"] = population["entity_id"].astype("int64")
    return population.sort_values("entity_id", kind="stable").reset_index(drop=True)
