{#- Impala versions of the constructs in sql/macros/dialect.sql (Impala 3.3
    or newer, for the DATE type); sql/hive/macros/dialect.sql has those that
    Impala shares with Spark. Impala's TIMESTAMP has no time zone, and pipe's
    timestamps are UTC. -#}

{# The timestamp `days` whole days after `ts`; `days` is an integer expression. #}
{% macro add_days(ts, days) %}days_add({{ ts }}, CAST({{ days }} AS INT)){% endmacro %}

{# True when the regular expression matches anywhere in `text` (search semantics, RE2 syntax). #}
{% macro regex_search(text, pattern) %}regexp_like({{ text }}, {{ pattern }}){% endmacro %}

{# Whole microseconds from the timestamp `start` to the timestamp `end`, as a BIGINT. #}
{% macro microseconds_between(start, end) %}(utc_to_unix_micros({{ end }}) - utc_to_unix_micros({{ start }})){% endmacro %}

{# An output table partitioned by (project, day): Impala's partition columns
   are declared only in PARTITIONED BY, and NOT NULL is not supported. #}
{% macro create_output_table(name, columns) %}
CREATE TABLE IF NOT EXISTS {{ name }} (
{% for column, type, not_null in columns %}
    {{ column }} {{ type }}{{ "," if not loop.last }}
{% endfor %}
)
PARTITIONED BY (project STRING, day DATE)
STORED AS PARQUET
{% endmacro %}
