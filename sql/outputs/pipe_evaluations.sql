{#- Live metrics written by `pipe evaluate`, one row per (project, day).
    `day` is the evaluation day D and `prediction_day` is D - window, the day
    whose predictions' label windows closed at the start of D. Rates whose
    denominator is zero, and ROC AUC when one class is missing, are NULL. The
    confusion matrices are JSON [[tn, fp], [fn, tp]]; the normalized one
    divides each row by its true-class count. -#}
CREATE TABLE IF NOT EXISTS {{ name }} (
    project VARCHAR NOT NULL,
    day DATE NOT NULL,
    prediction_day DATE NOT NULL,
    n BIGINT NOT NULL,
    positives BIGINT NOT NULL,
    negatives BIGINT NOT NULL,
    base_rate DOUBLE,
    tp BIGINT NOT NULL,
    fp BIGINT NOT NULL,
    tn BIGINT NOT NULL,
    fn BIGINT NOT NULL,
    tpr DOUBLE,
    tnr DOUBLE,
    fpr DOUBLE,
    fnr DOUBLE,
    precision DOUBLE,
    informedness DOUBLE,
    roc_auc DOUBLE,
    average_precision DOUBLE,
    threshold DOUBLE NOT NULL,
    confusion_matrix VARCHAR NOT NULL,
    confusion_matrix_normalized VARCHAR NOT NULL,
    model_sha VARCHAR NOT NULL
)
