{#- pipe_ab_groups for Spark: the columns of sql/outputs/pipe_ab_groups.sql, partitioned
    by (project, day) so that a day's rows are replaced by overwriting one
    partition. -#}
CREATE TABLE IF NOT EXISTS {{ name }} (
    entity_id BIGINT,
    ab_group STRING,
    project STRING,
    day DATE
)
USING parquet
PARTITIONED BY (project, day)
