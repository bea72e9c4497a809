{#- Spark SQL versions of the constructs in sql/macros/dialect.sql, for the
    Spark engine and for Spark's Thrift server reached by the Impala engine;
    sql/hive/macros/dialect.sql has those that Spark shares with Impala. The
    session's time zone is UTC, which both engines set. -#}

{# The timestamp `days` whole days (of 24 hours) after `ts`; `days` is an integer expression. #}
{% macro add_days(ts, days) %}({{ ts }} + make_dt_interval(CAST({{ days }} AS INT))){% endmacro %}

{# True when the regular expression matches anywhere in `text` (search semantics, java.util.regex syntax). #}
{% macro regex_search(text, pattern) %}({{ text }} RLIKE {{ pattern }}){% endmacro %}

{# Whole microseconds from the timestamp `start` to the timestamp `end`, as a BIGINT. #}
{% macro microseconds_between(start, end) %}(unix_micros({{ end }}) - unix_micros({{ start }})){% endmacro %}

{# An output table partitioned by (project, day): Spark's data source tables
   list the partition columns last among the columns, and NOT NULL is not
   enforced on Parquet, so it is left out. #}
{% macro create_output_table(name, columns) %}
CREATE TABLE IF NOT EXISTS {{ name }} (
{% for column, type, not_null in columns %}
    {{ column }} {{ type }},
{% endfor %}
    project STRING,
    day DATE
)
USING parquet
PARTITIONED BY (project, day)
{% endmacro %}
