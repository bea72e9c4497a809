{#- A/B groups written by `pipe predict`, one row per (project, day, entity_id).
    An entity's group depends only on the project's salt and its id. The
    dialect's create_output_table adds the key columns project and day. -#}
{% import 'macros/dialect.sql' as d with context %}
{{ d.create_output_table(name, [
    ("entity_id", "BIGINT", true),
    ("ab_group", "STRING", true),
]) }}
