{#- Live metrics written by `pipe evaluate`, one row per (project, day).
    `day` is the evaluation day D and `prediction_day` is D - window, the day
    whose predictions' label windows closed at the start of D. Rates whose
    denominator is zero, and ROC AUC when one class is missing, are NULL. The
    confusion matrices are JSON [[tn, fp], [fn, tp]]; the normalized one
    divides each row by its true-class count. The dialect's
    create_output_table adds the key columns project and day. -#}
{% import 'macros/dialect.sql' as d with context %}
{{ d.create_output_table(name, [
    ("prediction_day", "DATE", true),
    ("n", "BIGINT", true),
    ("positives", "BIGINT", true),
    ("negatives", "BIGINT", true),
    ("base_rate", "DOUBLE", false),
    ("tp", "BIGINT", true),
    ("fp", "BIGINT", true),
    ("tn", "BIGINT", true),
    ("fn", "BIGINT", true),
    ("tpr", "DOUBLE", false),
    ("tnr", "DOUBLE", false),
    ("fpr", "DOUBLE", false),
    ("fnr", "DOUBLE", false),
    ("precision", "DOUBLE", false),
    ("informedness", "DOUBLE", false),
    ("roc_auc", "DOUBLE", false),
    ("average_precision", "DOUBLE", false),
    ("threshold", "DOUBLE", true),
    ("confusion_matrix", "STRING", true),
    ("confusion_matrix_normalized", "STRING", true),
    ("model_sha", "STRING", true),
]) }}
