"""Binary classification metrics at a decision threshold.

Informedness (Youden's J) is TPR + TNR - 1. Rates whose denominator is zero
are None, and so is ROC AUC when only one class is present.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import average_precision_score, roc_auc_score, roc_curve


def _rate(numerator: int, denominator: int) -> float | None:
    return float(numerator / denominator) if denominator else None


def binary_metrics(y_true: np.ndarray, score: np.ndarray, threshold: float) -> dict:
    """Return counts, rates, confusion matrices and ranking scores.

    Parameters
    ----------
    y_true : array of shape (n,), 0 or 1
    score : array of shape (n,), the predicted probability of class 1
    threshold : float
        An entity is predicted 1 when its score is at or above it.

    Returns
    -------
    dict
        n, positives, negatives, base_rate, tp, fp, tn, fn, tpr, tnr, fpr,
        fnr, precision, informedness, roc_auc, average_precision,
        confusion_matrix ([[tn, fp], [fn, tp]]) and
        confusion_matrix_normalized (each row divided by its true-class count).
    """
    y_true = np.asarray(y_true).astype(int)
    predicted = (np.asarray(score) >= threshold).astype(int)
    tp = int(((predicted == 1) & (y_true == 1)).sum())
    fp = int(((predicted == 1) & (y_true == 0)).sum())
    tn = int(((predicted == 0) & (y_true == 0)).sum())
    fn = int(((predicted == 0) & (y_true == 1)).sum())
    positives, negatives = tp + fn, tn + fp
    tpr, tnr = _rate(tp, positives), _rate(tn, negatives)
    both_classes = positives > 0 and negatives > 0
    return {
        "threshold": float(threshold),
        "n": int(len(y_true)),
        "positives": positives,
        "negatives": negatives,
        "base_rate": _rate(positives, len(y_true)),
        "tp": tp,
        "fp": fp,
        "tn": tn,
        "fn": fn,
        "tpr": tpr,
        "tnr": tnr,
        "fpr": _rate(fp, negatives),
        "fnr": _rate(fn, positives),
        "precision": _rate(tp, tp + fp),
        "informedness": tpr + tnr - 1 if both_classes else None,
        "roc_auc": float(roc_auc_score(y_true, score)) if both_classes else None,
        "average_precision": float(average_precision_score(y_true, score)) if both_classes else None,
        "confusion_matrix": [[tn, fp], [fn, tp]],
        "confusion_matrix_normalized": [
            [_rate(tn, negatives), _rate(fp, negatives)],
            [_rate(fn, positives), _rate(tp, positives)],
        ],
    }


def informedness_threshold(y_true: np.ndarray, score: np.ndarray) -> float:
    """Return the score threshold that maximises informedness (TPR - FPR).

    Ties go to the highest threshold, the one that predicts fewer positives.
    """
    fpr, tpr, thresholds = roc_curve(y_true, score)
    finite = np.isfinite(thresholds)
    gain = np.where(finite, tpr - fpr, -np.inf)
    return float(thresholds[int(np.argmax(gain))])
