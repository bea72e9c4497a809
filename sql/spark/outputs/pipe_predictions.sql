{#- pipe_predictions for Spark: the columns of sql/outputs/pipe_predictions.sql, partitioned
    by (project, day) so that a day's rows are replaced by overwriting one
    partition. -#}
CREATE TABLE IF NOT EXISTS {{ name }} (
    entity_id BIGINT,
    score DOUBLE,
    predicted TINYINT,
    threshold DOUBLE,
    model_sha STRING,
    project STRING,
    day DATE
)
USING parquet
PARTITIONED BY (project, day)
