"""Labels stage: 1 when the conversion happens in the label window."""

from __future__ import annotations

import pandas as pd

from pipe.context import Context
from pipe.templates import RenderedSQL

ELIGIBLE_COLUMNS = ["entity_id", "created_at", "anchor_at", "cutoff_at", "lang", "country"]


def upload_eligible(ctx: Context, entities: pd.DataFrame) -> None:
    """Make ``entities`` the session table ``pipe_eligible`` that templates read."""
    columns = [c for c in ELIGIBLE_COLUMNS if c in entities.columns]
    ctx.engine.upload("pipe_eligible", entities[columns])


def labels_sql(ctx: Context) -> RenderedSQL:
    """Render the conversion's label query; it reads ``pipe_eligible``."""
    conversion = ctx.spec.conversion
    extra = {conversion.argument: ctx.spec.argument} if conversion.argument else {}
    return ctx.render(conversion.template, **extra)


def build_labels(ctx: Context, eligible: pd.DataFrame) -> pd.DataFrame:
    """Return ``eligible`` with a ``label`` column (int8, 0 or 1).

    The label is 1 when the conversion happens in [cutoff_at, cutoff_at +
    window days); the conversion's template decides what counts.

    Returns
    -------
    DataFrame
        ``entity_id``, ``anchor_at``, ``cutoff_at``, ``label``, then the
        entity's attributes; one row per eligible entity, sorted by id.
    """
    conversion = ctx.spec.conversion
    ctx.require_tables(conversion)
    upload_eligible(ctx, eligible)
    labels = ctx.run(conversion.template, labels_sql(ctx), f"labels {conversion.name}").to_pandas()
    labels["entity_id"] = labels["entity_id"].astype("int64")

    raw = eligible.merge(labels, on="entity_id", how="left", validate="one_to_one")
    raw["label"] = raw["label"].fillna(0).astype("int8")
    first = ["entity_id", "anchor_at", "cutoff_at", "label"]
    raw = raw[first + [c for c in raw.columns if c not in first]]
    return raw.sort_values("entity_id", kind="stable").reset_index(drop=True)
