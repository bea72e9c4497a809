{#- pipe_evaluations for Spark: the columns of sql/outputs/pipe_evaluations.sql, partitioned
    by (project, day) so that a day's rows are replaced by overwriting one
    partition. -#}
CREATE TABLE IF NOT EXISTS {{ name }} (
    prediction_day DATE,
    n BIGINT,
    positives BIGINT,
    negatives BIGINT,
    base_rate DOUBLE,
    tp BIGINT,
    fp BIGINT,
    tn BIGINT,
    fn BIGINT,
    tpr DOUBLE,
    tnr DOUBLE,
    fpr DOUBLE,
    fnr DOUBLE,
    precision DOUBLE,
    informedness DOUBLE,
    roc_auc DOUBLE,
    average_precision DOUBLE,
    threshold DOUBLE,
    confusion_matrix STRING,
    confusion_matrix_normalized STRING,
    model_sha STRING,
    project STRING,
    day DATE
)
USING parquet
PARTITIONED BY (project, day)
