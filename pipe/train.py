"""Train stage: split, tune, select features, fit, and choose the threshold.

- The test split holds out the latest cutoff days for timed projects, so the
  test metrics estimate how the model does on future entities; untimed
  projects, which share one cutoff, use a stratified random split.
- Tuning uses hyperopt's TPE over the estimator's main parameters; each trial
  is scored by the mean ROC AUC of stratified k-fold cross-validation on the
  training split, or on a stratified sample of ``tuning_max_entities`` of it
  when it is larger. The untuned defaults are always the first trial, so the
  tuned score is compared with them. The final model sees the whole split.
- Selection drops the features whose importance is below ``selection_ratio``
  times the mean importance, cross-validates again, and keeps the smaller
  model unless its ROC AUC is lower by more than ``selection_tolerance``.
- The decision threshold maximises informedness (TPR + TNR - 1) on the
  out-of-fold scores of the chosen configuration; the test split plays no
  part in it.

Categorical attributes (language, country) arrive one-hot encoded from the
warehouse (``lang__en``), so the pipeline takes one sparse matrix.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from hyperopt import STATUS_OK, Trials, fmin, hp, tpe
from sklearn.ensemble import ExtraTreesClassifier, RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline

from pipe.errors import DataError
from pipe.metrics import informedness_threshold
from pipe.score import predict_scores
from pipe.model_settings import DEFAULT_MODEL_SETTINGS, ESTIMATOR_NAMES  # noqa: F401

log = logging.getLogger(__name__)

ESTIMATORS = {"random_forest": RandomForestClassifier, "extra_trees": ExtraTreesClassifier}
assert tuple(ESTIMATORS) == ESTIMATOR_NAMES

#: Untuned parameters: the first tuning trial, and the model when trials is 0.
DEFAULT_PARAMS = {"n_estimators": 200, "min_samples_leaf": 3, "max_features": "sqrt", "max_depth": None}

#: The values TPE chooses from for each of the tree ensembles' main parameters.
SEARCH_CHOICES = {
    "n_estimators": [100, 200, 300, 400],
    "min_samples_leaf": [1, 2, 3, 5, 8, 13, 21],
    "max_features": ["sqrt", "log2", 0.02, 0.05, 0.1],
    "max_depth": [None, 8, 16, 32],
}
SEARCH_SPACE = {name: hp.choice(name, values) for name, values in SEARCH_CHOICES.items()}



@dataclass
class TrainedModel:
    """A fitted pipeline, its threshold and what was measured while fitting.

    ``columns`` are the indices of the input matrix's columns that the
    pipeline takes (after selection), and ``feature_names`` their names.
    """

    pipeline: Pipeline
    threshold: float
    columns: np.ndarray
    feature_names: list[str]
    params: dict
    trials: list[dict]
    untuned_cv_roc_auc: float
    tuned_cv_roc_auc: float
    selection: dict
    tuning_entities: int
    cv_roc_auc: list[float]
    timings: dict[str, float] = field(default_factory=dict)


def check_labels(y: np.ndarray, folds: int, where: str = "the project") -> None:
    """Raise DataError unless ``y`` has both classes and enough of each for ``folds``."""
    positives = int(np.sum(y == 1))
    negatives = int(np.sum(y == 0))
    if len(y) == 0:
        raise DataError(f"{where} has no eligible entities; widen --start/--end or pick another cohort")
    if positives == 0 or negatives == 0:
        only = "0 (no conversions)" if positives == 0 else "1 (every entity converted)"
        raise DataError(
            f"every label in {where} is {only} among {len(y)} entities; "
            "widen the date range, lengthen --window or choose another conversion"
        )
    if min(positives, negatives) < folds:
        raise DataError(
            f"{where} has {positives} positive and {negatives} negative labels, fewer than the {folds} "
            "cross-validation folds need; widen the date range, lengthen --window or lower --folds"
        )


def split_train_test(raw: pd.DataFrame, timed: bool, test_size: float, seed: int) -> np.ndarray:
    """Return a boolean mask over ``raw``'s rows: True for the test split.

    Timed: the entities on the latest cutoff days, whole days only, at most
    about ``test_size`` of the rows (at least one day). Untimed, or a timed
    cohort with a single cutoff day: a stratified random split seeded by ``seed``.
    """
    cutoff_days = raw["cutoff_at"].dt.normalize()
    if timed and cutoff_days.nunique() > 1:
        counts = cutoff_days.value_counts().sort_index(ascending=False)
        held_out = counts.cumsum() <= max(1, round(test_size * len(raw)))
        first_test_day = counts.index[held_out].min() if held_out.any() else counts.index[0]
        return (cutoff_days >= first_test_day).to_numpy()
    index = np.arange(len(raw))
    _, test_index = train_test_split(index, test_size=test_size, random_state=seed, stratify=raw["label"].to_numpy())
    mask = np.zeros(len(raw), dtype=bool)
    mask[test_index] = True
    return mask


def make_estimator(estimator: str, params: dict, seed: int) -> Pipeline:
    """Return the unfitted pipeline for ``estimator`` with ``params``."""
    if estimator not in ESTIMATORS:
        raise ValueError(f"unknown estimator {estimator!r}; expected one of {', '.join(ESTIMATORS)}")
    model = ESTIMATORS[estimator](class_weight="balanced_subsample", n_jobs=-1, random_state=seed, **params)
    return Pipeline([("classifier", model)])


def cross_validate(X: sp.csr_matrix, y: np.ndarray, estimator: str, params: dict, folds: int, seed: int) -> tuple[list[float], np.ndarray]:
    """Return the ROC AUC of each stratified fold and the out-of-fold scores."""
    out_of_fold = np.zeros(len(y), dtype=float)
    scores = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fit_index, held_index in splitter.split(np.zeros(len(y)), y):
        model = make_estimator(estimator, params, seed).fit(X[fit_index], y[fit_index])
        out_of_fold[held_index] = predict_scores(model, X[held_index])
        scores.append(float(roc_auc_score(y[held_index], out_of_fold[held_index])))
    return scores, out_of_fold


def _tune(X, y, settings: dict, seed: int) -> tuple[list[dict], dict[int, np.ndarray]]:
    """Run the TPE search; return the trials (first = defaults) and their out-of-fold scores."""
    records: list[dict] = []
    out_of_fold: dict[int, np.ndarray] = {}
    total = max(1, int(settings["trials"]))

    def objective(params: dict) -> dict:
        params = {k: (int(v) if isinstance(v, (np.integer,)) else v) for k, v in params.items()}
        started = time.perf_counter()
        scores, oof = cross_validate(X, y, settings["estimator"], params, settings["folds"], seed)
        number = len(records)
        out_of_fold[number] = oof
        records.append({"trial": number, "params": params, "cv_roc_auc_mean": float(np.mean(scores)), "cv_roc_auc": scores,
                        "seconds": round(time.perf_counter() - started, 2)})
        best = max(r["cv_roc_auc_mean"] for r in records)
        log.info("tuning trial %d/%d: cross-validated ROC AUC %.4f (best %.4f) in %.1f s", number + 1, total, np.mean(scores), best, records[-1]["seconds"])
        return {"loss": -float(np.mean(scores)), "status": STATUS_OK}

    if settings["trials"] <= 0:
        objective(dict(DEFAULT_PARAMS))
        return records, out_of_fold

    defaults = {name: SEARCH_CHOICES[name].index(value) for name, value in DEFAULT_PARAMS.items()}
    fmin(objective, SEARCH_SPACE, algo=tpe.suggest, max_evals=total, trials=Trials(),
         rstate=np.random.default_rng(seed), points_to_evaluate=[defaults], show_progressbar=False)
    return records, out_of_fold


def tuning_subsample(y: np.ndarray, max_entities: int, seed: int) -> np.ndarray:
    """Return the sorted row indices used for tuning: all rows, or a stratified
    sample of ``max_entities`` of them when there are more."""
    if len(y) <= max_entities:
        return np.arange(len(y))
    _, chosen = train_test_split(np.arange(len(y)), test_size=max_entities, stratify=y, random_state=seed)
    return np.sort(chosen)


def fit_model(X: sp.csr_matrix, y: np.ndarray, feature_names: list[str], settings: dict, seed: int) -> TrainedModel:
    """Tune, select features, fit the final pipeline and choose its threshold.

    Parameters
    ----------
    X : sparse matrix of shape (n_train, n_features)
    y : array of shape (n_train,), 0 or 1
    feature_names : list of str, length n_features
    settings : dict
        See ``DEFAULT_MODEL_SETTINGS``.
    seed : int
        The ``random_state`` of the folds, the search and the estimator.
    """
    estimator, folds = settings["estimator"], settings["folds"]
    check_labels(y, folds, "the training split")

    # Tuning, selection and the threshold use a stratified subsample of a
    # large training split; the final model is fitted on all of it.
    tuning_rows = tuning_subsample(y, int(settings["tuning_max_entities"]), seed)
    X_tune, y_tune = X[tuning_rows], y[tuning_rows]
    timings = {}

    # Tuning: the defaults first, then TPE's proposals.
    started = time.perf_counter()
    trials, out_of_fold = _tune(X_tune, y_tune, settings, seed)
    best = max(trials, key=lambda r: r["cv_roc_auc_mean"])
    params = best["params"]
    timings["tuning_s"] = round(time.perf_counter() - started, 2)
    untuned, tuned = trials[0]["cv_roc_auc_mean"], best["cv_roc_auc_mean"]
    log.info("tuning: untuned ROC AUC %.4f, tuned %.4f with %s", untuned, tuned, params)

    # Selection by importance, kept only when cross-validation does not get worse.
    started = time.perf_counter()
    full = make_estimator(estimator, params, seed).fit(X, y)
    importance = full[-1].feature_importances_
    keep = np.flatnonzero(importance >= settings["selection_ratio"] * importance.mean()) if X.shape[1] else np.arange(0)
    selection = {"ratio": settings["selection_ratio"], "tolerance": settings["selection_tolerance"], "features_before": int(X.shape[1]),
                 "features_after": int(X.shape[1]), "cv_roc_auc_before": tuned, "cv_roc_auc_after": None, "kept_smaller_model": False}
    columns, chosen_scores, chosen_oof, pipeline = np.arange(X.shape[1]), best["cv_roc_auc"], out_of_fold[best["trial"]], full
    if 0 < len(keep) < X.shape[1]:
        reduced_scores, reduced_oof = cross_validate(X_tune[:, keep], y_tune, estimator, params, folds, seed)
        selection["features_after"] = int(len(keep))
        selection["cv_roc_auc_after"] = float(np.mean(reduced_scores))
        if np.mean(reduced_scores) >= tuned - settings["selection_tolerance"]:
            selection["kept_smaller_model"] = True
            columns, chosen_scores, chosen_oof = keep, reduced_scores, reduced_oof
            pipeline = make_estimator(estimator, params, seed).fit(X[:, keep], y)
        log.info("selection: %d of %d features, ROC AUC %.4f vs %.4f; %s", len(keep), X.shape[1], np.mean(reduced_scores), tuned,
                 "kept the smaller model" if selection["kept_smaller_model"] else "kept every feature")
    timings["selection_s"] = round(time.perf_counter() - started, 2)

    threshold = informedness_threshold(y_tune, chosen_oof)
    return TrainedModel(
        pipeline=pipeline,
        threshold=threshold,
        columns=columns,
        feature_names=[feature_names[i] for i in columns],
        params=params,
        trials=trials,
        untuned_cv_roc_auc=untuned,
        tuning_entities=int(len(tuning_rows)),
        tuned_cv_roc_auc=tuned,
        selection=selection,
        cv_roc_auc=list(chosen_scores),
        timings=timings,
    )
