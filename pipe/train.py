"""Train stage: split, fit the estimator, choose the decision threshold.

The test split holds out the latest cutoffs for timed projects, so the test
metrics estimate how the model does on future entities; untimed projects,
which share one cutoff, use a stratified random split. The decision threshold
maximises informedness on out-of-fold predictions of the training split, so
the test split plays no part in choosing it.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.ensemble import RandomForestClassifier
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold, train_test_split
from sklearn.pipeline import Pipeline

from pipe.errors import DataError
from pipe.metrics import informedness_threshold

log = logging.getLogger(__name__)

DEFAULT_MODEL_SETTINGS = {
    "estimator": "random_forest",
    "n_estimators": 300,
    "min_samples_leaf": 3,
    "max_features": "sqrt",
    "test_size": 0.2,
    "folds": 5,
}


@dataclass
class TrainedModel:
    """A fitted pipeline, its threshold and what was measured while fitting."""

    pipeline: Pipeline
    threshold: float
    feature_names: list[str]
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
            "cross-validation folds need; widen the date range or lengthen --window"
        )


def split_train_test(raw: pd.DataFrame, timed: bool, test_size: float, seed: int) -> np.ndarray:
    """Return a boolean mask over ``raw``'s rows: True for the test split.

    Timed: the entities on the latest cutoff days, whole days only, about
    ``test_size`` of the rows. Untimed (or a timed cohort with one cutoff day):
    a stratified random split seeded by ``seed``.
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


def make_estimator(settings: dict, seed: int) -> Pipeline:
    """Return the unfitted pipeline that ``settings`` describe."""
    if settings["estimator"] != "random_forest":
        raise ValueError(f"unknown estimator {settings['estimator']!r}")
    forest = RandomForestClassifier(
        n_estimators=settings["n_estimators"],
        min_samples_leaf=settings["min_samples_leaf"],
        max_features=settings["max_features"],
        class_weight="balanced_subsample",
        n_jobs=-1,
        random_state=seed,
    )
    return Pipeline([("forest", forest)])


def fit_model(X: sp.csr_matrix, y: np.ndarray, feature_names: list[str], settings: dict, seed: int) -> TrainedModel:
    """Fit the estimator on (X, y) and choose its threshold from out-of-fold scores.

    Parameters
    ----------
    X : sparse matrix of shape (n_train, n_features)
    y : array of shape (n_train,), 0 or 1
    settings : dict
        See ``DEFAULT_MODEL_SETTINGS``.
    seed : int
        The ``random_state`` of the folds and the estimator.
    """
    folds = settings["folds"]
    check_labels(y, folds, "the training split")
    timings = {}

    # Out-of-fold scores: each entity scored by a model that never saw it.
    started = time.perf_counter()
    out_of_fold = np.zeros(len(y), dtype=float)
    cv_scores = []
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    for fold, (fit_index, held_index) in enumerate(splitter.split(np.zeros(len(y)), y), start=1):
        estimator = make_estimator(settings, seed).fit(X[fit_index], y[fit_index])
        out_of_fold[held_index] = estimator.predict_proba(X[held_index])[:, 1]
        cv_scores.append(float(roc_auc_score(y[held_index], out_of_fold[held_index])))
        log.info("cross-validation fold %d/%d: ROC AUC %.4f", fold, folds, cv_scores[-1])
    threshold = informedness_threshold(y, out_of_fold)
    timings["cross_validation_s"] = time.perf_counter() - started

    started = time.perf_counter()
    pipeline = make_estimator(settings, seed).fit(X, y)
    timings["fit_s"] = time.perf_counter() - started
    log.info("fitted %s on %d entities x %d features in %.1f s", settings["estimator"], X.shape[0], X.shape[1], timings["fit_s"])
    return TrainedModel(pipeline, threshold, list(feature_names), cv_scores, timings)
