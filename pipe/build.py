"""``pipe build``: run the stages in order and write the project's artifacts.

Stages: cohort (population and eligibility), labels, features, train and
score. Every artifact is written to a staging folder first and moved into the
project only when the run succeeds, so a failed build leaves the project as it
was. A build that stops early with ``until`` removes the artifacts of the
later stages, which no longer match.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import joblib
from sklearn.metrics import roc_auc_score
import numpy as np
import pandas as pd

from pipe import __version__
from pipe.cohort import build_population, population_sql
from pipe.context import Context
from pipe.eligibility import apply_eligibility, eligibility_template
from pipe.errors import DataError
from pipe.features import DEFAULT_MIN_SUPPORT, build_features
from pipe.labels import build_labels, labels_sql
from pipe.project import Project, now_utc, sha256_file, to_json
from pipe.report import render_report
from pipe.templates import RenderedSQL
from pipe.score import feature_importances, score_test_split
from pipe.settings import settings_digest
from pipe.model_settings import DEFAULT_MODEL_SETTINGS
from pipe.train import check_labels, fit_model, split_train_test

log = logging.getLogger(__name__)

STAGES = ("cohort", "labels", "features", "train", "score")
ARTIFACTS = {
    "cohort": ("cohort.parquet",),
    "labels": ("raw.parquet",),
    "features": ("features.npz",),
    "train": ("model.joblib",),
    "score": ("model_info.json", "importances.parquet", "test_predictions.parquet", "report.html"),
}


def planned_sql(ctx: Context, until: str | None = None) -> list[tuple[str, str, RenderedSQL]]:
    """Return ``(stage, template, sql)`` for every query a build would run, in order.

    ``until`` is ``build --until``: the queries of later stages are left
    out. Training and scoring run no SQL. ``pipe_cohort``, ``pipe_eligible``
    and ``pipe_ids`` are session tables that the build fills from the
    previous stage's rows before these queries run.
    """
    planned = [("cohort", "stages/population.sql", population_sql(ctx))]
    if ctx.spec.cohort.status != "any":
        template = eligibility_template(ctx)
        planned.append(("eligibility", template, ctx.render(template)))
    if until == "cohort":
        return planned
    planned.append(("labels", ctx.spec.conversion.template, labels_sql(ctx)))
    if until == "labels":
        return planned
    for family in ctx.registry.families_for(ctx.spec.cohort.status):
        if not ctx.missing_tables(family):
            planned.append((f"features ({family.name})", family.template, ctx.render(family.template)))
    return planned


def demo_truth_applies(ctx: Context) -> bool:
    """Return whether the demo's hidden propensity is the best ranking for the project's question.

    ``demo_truth.propensity`` is a monotonic function of a site's first-purchase
    hazard, whose shape over the site's age is the same for every site. So it
    ranks sites optimally for "a site that has never paid buys a plan in the
    next W days, at the same age". That is a timed ``site_free:free_to_paid``
    project, whatever its --days and --window. It is not the best ranking for
    other conversions, for paid or user cohorts, or for an untimed free
    cohort, which mixes ages and contains sites that paid before and lapsed
    (their repurchase follows another model).
    """
    spec = ctx.spec
    return spec.entity == "site" and spec.cohort.status == "free" and spec.conversion.name == "free_to_paid" and ctx.plan.timed


def demo_truth_roc_auc(ctx: Context, test_rows: pd.DataFrame) -> float | None:
    """Return the ROC AUC of the demo's hidden propensity on the test split.

    Only demo warehouses (``pipe demo``) have the ``demo_truth`` table. For any
    other warehouse, or a question for which ``demo_truth_applies`` is false,
    this returns None.
    """
    if not demo_truth_applies(ctx) or not ctx.engine.table_exists("demo_truth") or test_rows["label"].nunique() < 2:
        return None
    ctx.engine.upload("pipe_test_ids", test_rows[["entity_id"]])
    truth = ctx.engine.fetch_df("SELECT t.site_id AS entity_id, t.propensity FROM demo_truth t JOIN pipe_test_ids i ON i.entity_id = t.site_id")
    merged = test_rows.merge(truth, on="entity_id", how="inner")
    if merged["label"].nunique() < 2:
        return None
    return float(roc_auc_score(merged["label"], merged["propensity"]))


def sample_entities(eligible: pd.DataFrame, size: int, seed: int) -> pd.DataFrame:
    """Return ``size`` rows of ``eligible`` drawn without replacement.

    The draw is over the ids sorted ascending with ``numpy.random.default_rng(seed)``,
    so the same ids and seed give the same sample whatever engine produced them.
    """
    if size > len(eligible):
        raise DataError(f"--sample {size} is larger than the eligible population of {len(eligible)} entities; use --sample {len(eligible)} or less")
    ordered = eligible.sort_values("entity_id", kind="stable").reset_index(drop=True)
    chosen = np.sort(np.random.default_rng(seed).choice(len(ordered), size=size, replace=False))
    return ordered.iloc[chosen].reset_index(drop=True)


def _write_parquet(frame: pd.DataFrame, path: Path) -> None:
    frame.to_parquet(path, index=False, engine="pyarrow", compression="zstd")


class Build:
    """One run of ``pipe build`` over a project."""

    def __init__(self, project: Project, info: dict, ctx: Context, echo=print) -> None:
        self.project = project
        self.info = info
        self.ctx = ctx
        self.echo = echo
        self.settings = info["settings"]
        self.model_settings = {**DEFAULT_MODEL_SETTINGS, **(self.settings.get("model") or {})}
        self.seed = int(self.settings.get("seed", 0))
        self.timings: dict[str, float] = {}
        self.attrition: list[dict] = []

    def _stage(self, number: int, name: str) -> float:
        self.echo(f"[{number}/{len(STAGES)}] {name}")
        return time.perf_counter()

    def _done(self, name: str, started: float, detail: str) -> None:
        seconds = time.perf_counter() - started
        self.timings[name] = round(seconds, 3)
        self.echo(f"      {detail} ({seconds:.1f} s)")
        log.debug("stage %s: %s in %.2f s", name, detail, seconds)

    def run(self, until: str | None = None) -> dict:
        """Run the stages up to and including ``until`` (all when None); return a summary."""
        last = STAGES.index(until) if until else len(STAGES) - 1
        with self.project.staging() as staging:
            summary = self._run_stages(staging, last)
        self._record_artifacts(last)
        return summary

    def _run_stages(self, staging: Path, last: int) -> dict:
        ctx = self.ctx

        started = self._stage(1, "cohort")
        population = build_population(ctx)
        if population.empty:
            raise DataError(f"the cohort {ctx.spec.cohort.name} is empty for {self._range_text()}; widen the date range or check the warehouse")
        eligible, self.attrition = apply_eligibility(ctx, population)
        if eligible.empty:
            raise DataError(f"no entity of the {len(population)} in the cohort {ctx.spec.cohort.name} is eligible for {self._range_text()}; widen the date range")
        if self.settings.get("sample"):
            eligible = sample_entities(eligible, int(self.settings["sample"]), self.seed)
            self.attrition.append({"step": f"sample (seed {self.seed})", "entities": len(eligible), "removed": self.attrition[-1]["entities"] - len(eligible)})
        flagged = population.assign(selected=population["entity_id"].isin(eligible["entity_id"]))
        _write_parquet(flagged, staging / "cohort.parquet")
        self._done("cohort", started, f"{len(population)} entities in the population, {len(eligible)} eligible")
        if last == STAGES.index("cohort"):
            return {"attrition": self.attrition}

        started = self._stage(2, "labels")
        raw = build_labels(ctx, eligible)
        positives = int(raw["label"].sum())
        self.attrition.append({"step": "labelled", "entities": len(raw), "removed": 0, "positives": positives, "prevalence": positives / len(raw)})
        _write_parquet(raw, staging / "raw.parquet")
        self._done("labels", started, f"{len(raw)} labels, {positives} positive ({positives / len(raw):.2%})")
        for row in self.attrition:
            self.echo("      attrition: " + ", ".join(f"{k} {v:.4g}" if isinstance(v, float) else f"{k} {v}" for k, v in row.items()))
        if last == STAGES.index("labels"):
            return {"attrition": self.attrition}
        check_labels(raw["label"].to_numpy(), self.model_settings["folds"], f"project {self.project.name!r}")

        started = self._stage(3, "features")
        min_support = int(self.settings.get("min_support", DEFAULT_MIN_SUPPORT))
        matrix, families = build_features(ctx, raw, min_support=min_support)
        matrix.save(staging / "features.npz")
        dropped = sum(family.get("dropped_below_min_support", 0) for family in families)
        self._done("features", started, f"{matrix.X.shape[1]} features ({dropped} dropped with fewer than {min_support} entities), {matrix.X.nnz} non-zero values")
        if last == STAGES.index("features"):
            return {"families": families}

        started = self._stage(4, "train")
        y = raw["label"].to_numpy()
        is_test = split_train_test(raw, ctx.plan.timed, self.model_settings["test_size"], self.seed)
        check_labels(y[is_test], 1, "the test split")
        trained = fit_model(matrix.X[~is_test], y[~is_test], matrix.feature_names, self.model_settings, self.seed)
        model = {"pipeline": trained.pipeline, "threshold": trained.threshold, "feature_names": trained.feature_names, "pipe_version": __version__}
        joblib.dump(model, staging / "model.joblib", compress=3)
        self._done("train", started, f"{int((~is_test).sum())} training entities, {len(trained.feature_names)} features, threshold {trained.threshold:.4f}, "
                   f"cross-validated ROC AUC {np.mean(trained.cv_roc_auc):.4f} (untuned {trained.untuned_cv_roc_auc:.4f})")
        if last == STAGES.index("train"):
            return {"threshold": trained.threshold}

        started = self._stage(5, "score")
        metrics, curves, scores = score_test_split(trained.pipeline, trained.threshold, matrix.X[is_test][:, trained.columns], y[is_test])
        importances = feature_importances(trained.pipeline, trained.feature_names)
        test_rows = raw.loc[is_test, ["entity_id", "cutoff_at", "label"]].reset_index(drop=True).assign(score=scores, predicted=(scores >= trained.threshold).astype("int8"))
        split = {
            "method": "latest cutoff days held out" if ctx.plan.timed and raw["cutoff_at"].nunique() > 1 else "stratified random",
            "train_entities": int((~is_test).sum()),
            "test_entities": int(is_test.sum()),
            "test_first_cutoff": str(raw.loc[is_test, "cutoff_at"].min()),
        }
        truth_auc = demo_truth_roc_auc(ctx, test_rows)
        if truth_auc is not None:
            metrics["demo_truth_roc_auc"] = truth_auc
            metrics["roc_auc_over_demo_truth"] = metrics["roc_auc"] / truth_auc
        self.timings["score"] = round(time.perf_counter() - started, 3)
        model_info = {
            "project": self.project.name,
            "built_at": now_utc(),
            "settings": {"conversion": self.settings["conversion"], "window": self.settings["window"], **{k: v for k, v in self.model_settings.items()}, "seed": self.seed},
            "attrition": self.attrition,
            "split": split,
            "test_metrics": metrics,
            "estimator": {"name": self.model_settings["estimator"], "params": trained.params},
            "cross_validation": {"folds": self.model_settings["folds"], "roc_auc": trained.cv_roc_auc, "mean_roc_auc": float(np.mean(trained.cv_roc_auc))},
            "tuning": {"entities": trained.tuning_entities, "untuned_cv_roc_auc": trained.untuned_cv_roc_auc, "tuned_cv_roc_auc": trained.tuned_cv_roc_auc,
                       "improved": trained.tuned_cv_roc_auc > trained.untuned_cv_roc_auc},
            "tuning_trials": trained.trials,
            "selection": trained.selection,
            "feature_families": families,
            "features": {"count": len(trained.feature_names), "importances_file": "importances.parquet", "top": importances.head(30).to_dict("records")},
            "timings_s": {**self.timings, **{k: round(v, 3) for k, v in trained.timings.items()}},
        }
        (staging / "model_info.json").write_text(to_json(model_info), encoding="utf-8")
        _write_parquet(importances, staging / "importances.parquet")
        _write_parquet(test_rows, staging / "test_predictions.parquet")
        (staging / "report.html").write_text(render_report(model_info, curves, importances), encoding="utf-8")
        self._done("score", started, f"test ROC AUC {metrics['roc_auc']:.4f}, informedness {metrics['informedness']:.4f}")
        return {"test_metrics": metrics, "model_info": model_info}

    def _range_text(self) -> str:
        plan = self.ctx.plan
        if plan.timed:
            return f"anchors from {plan.anchor_start} to {plan.anchor_end}"
        return f"the cutoff {plan.first_cutoff}"

    def _record_artifacts(self, last: int) -> None:
        """Store each current artifact's SHA-256 in info.json; drop stale ones."""
        artifacts = {}
        for index, stage in enumerate(STAGES):
            for name in ARTIFACTS[stage]:
                path = self.project.file(name)
                if index > last:
                    path.unlink(missing_ok=True)
                elif path.is_file():
                    artifacts[name] = {"sha256": sha256_file(path), "bytes": path.stat().st_size}
        if "model.joblib" in artifacts:
            # predict and evaluate compare it with the settings they read (pipe.daily.check_model_settings).
            artifacts["model.joblib"]["settings_sha256"] = settings_digest(self.info)
        self.info["artifacts"] = artifacts
        self.info["build"] = {"finished_at": now_utc(), "until": STAGES[last], "timings_s": self.timings}
        self.project.save_info(self.info)
