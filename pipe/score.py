"""Score stage: test metrics, feature importances and the model's files."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pandas as pd
from sklearn.calibration import calibration_curve
from sklearn.metrics import precision_recall_curve, roc_curve

from pipe.metrics import binary_metrics


def predict_scores(pipeline, X, rows_per_chunk: int = 20_000) -> np.ndarray:
    """Return the probability of class 1 for each row of ``X``, the same on every run.

    A forest with ``n_jobs`` > 1 adds its trees' probabilities in thread
    order, so the last bit of a score can change between runs. Here each row
    chunk is scored by one thread that adds the trees in order, and the
    chunks run in parallel threads (tree prediction releases the GIL).
    """
    estimator = pipeline[-1]
    n_rows = X.shape[0]
    if n_rows == 0:
        return np.zeros(0, dtype=float)
    bounds = list(range(0, n_rows, rows_per_chunk)) + [n_rows]
    saved_jobs = getattr(estimator, "n_jobs", None)
    if saved_jobs is not None:
        estimator.n_jobs = 1
    try:
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            parts = list(pool.map(lambda i: pipeline.predict_proba(X[bounds[i]:bounds[i + 1]])[:, 1], range(len(bounds) - 1)))
    finally:
        if saved_jobs is not None:
            estimator.n_jobs = saved_jobs
    return np.concatenate(parts)


def feature_importances(pipeline, feature_names: list[str]) -> pd.DataFrame:
    """Return ``feature, importance, rank``, most important first (rank 1).

    Importances are the final estimator's ``feature_importances_``
    (mean decrease in impurity for forests), which sum to 1.
    """
    estimator = pipeline[-1]
    table = pd.DataFrame({"feature": feature_names, "importance": estimator.feature_importances_.astype(float)})
    table = table.sort_values(["importance", "feature"], ascending=[False, True], kind="stable").reset_index(drop=True)
    table["rank"] = np.arange(1, len(table) + 1)
    return table


def _thin(x: np.ndarray, y: np.ndarray, points: int = 400) -> tuple[list[float], list[float]]:
    if len(x) > points:
        keep = np.unique(np.linspace(0, len(x) - 1, points).round().astype(int))
        x, y = x[keep], y[keep]
    return [float(v) for v in x], [float(v) for v in y]


def test_curves(y_true: np.ndarray, score: np.ndarray, bins: int = 10) -> dict:
    """Return ROC, precision-recall and calibration curves, thinned for JSON."""
    fpr, tpr, _ = roc_curve(y_true, score)
    precision, recall, _ = precision_recall_curve(y_true, score)
    observed, predicted = calibration_curve(y_true, score, n_bins=bins, strategy="quantile")
    return {
        "roc": dict(zip(("fpr", "tpr"), _thin(fpr, tpr))),
        "precision_recall": dict(zip(("recall", "precision"), _thin(recall[::-1], precision[::-1]))),
        "calibration": {"mean_predicted": [float(v) for v in predicted], "fraction_positive": [float(v) for v in observed]},
    }


def score_test_split(pipeline, threshold: float, X_test, y_test: np.ndarray) -> tuple[dict, dict, np.ndarray]:
    """Score the test split; return its metrics, its curves and the scores."""
    score = predict_scores(pipeline, X_test)
    return binary_metrics(y_test, score, threshold), test_curves(y_test, score), score
