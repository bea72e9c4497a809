{#- Scores written by `pipe predict`, one row per (project, day, entity_id).
    `day` is the cutoff date of the scored entities; `predicted` is 1 when
    `score` is at or above `threshold`. The dialect's create_output_table
    adds the key columns project and day, and a partitioning where the
    engine has one. -#}
{% import 'macros/dialect.sql' as d with context %}
{{ d.create_output_table(name, [
    ("entity_id", "BIGINT", true),
    ("score", "DOUBLE", true),
    ("predicted", "TINYINT", true),
    ("threshold", "DOUBLE", true),
    ("model_sha", "STRING", true),
]) }}
