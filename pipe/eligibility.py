"""Eligibility stage: keep the entities that meet the cohort's status rule."""

from __future__ import annotations

import logging

import pandas as pd

from pipe.context import Context

log = logging.getLogger(__name__)


def eligibility_template(ctx: Context) -> str:
    """Return the template of the cohort's status rule; it reads ``pipe_cohort``."""
    return f"eligibility/{ctx.spec.cohort.status}.sql"


def apply_eligibility(ctx: Context, population: pd.DataFrame) -> tuple[pd.DataFrame, list[dict]]:
    """Return the eligible part of ``population`` and the attrition rows.

    The rule depends on the cohort's status, over [anchor_at, cutoff_at) for
    timed projects and just before the cutoff for untimed ones: ``free`` has no
    active paid subscription, ``paid`` is covered by paid subscriptions with no
    gap, ``any`` keeps everyone.

    Returns
    -------
    eligible : DataFrame
        The rows of ``population`` that are eligible, in the same order.
    attrition : list of dict
        ``{"step", "entities", "removed"}`` for the population and this rule.
    """
    status = ctx.spec.cohort.status
    attrition = [{"step": "population", "entities": len(population), "removed": 0}]
    if status == "any":
        attrition.append({"step": "eligibility (any: no condition)", "entities": len(population), "removed": 0})
        return population, attrition

    ctx.engine.upload("pipe_cohort", population[["entity_id", "anchor_at", "cutoff_at"]])
    flags = ctx.run(eligibility_template(ctx), ctx.render(eligibility_template(ctx)), f"eligibility {status}").to_pandas()
    keep = population["entity_id"].isin(flags.loc[flags["eligible"].astype(bool), "entity_id"])
    eligible = population[keep].reset_index(drop=True)
    attrition.append({
        "step": f"eligibility ({status} over [anchor, cutoff))" if ctx.plan.timed else f"eligibility ({status} at the cutoff)",
        "entities": len(eligible),
        "removed": int(len(population) - len(eligible)),
    })
    return eligible, attrition
