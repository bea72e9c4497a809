{#- The constructs that Impala and Spark SQL share, both being HiveQL's heirs,
    where they differ from DuckDB's in sql/macros/dialect.sql. Each engine's
    own file (sql/impala/, sql/spark/) holds what differs between the two. -#}

{# ISO day of week of `ts`: 1 for Monday to 7 for Sunday; dayofweek counts from 1 on Sunday. #}
{% macro iso_day_of_week(ts) %}(MOD(dayofweek({{ ts }}) + 5, 7) + 1){% endmacro %}

{# The concatenation of any number of string expressions; NULL when one is NULL. #}
{% macro concat() %}concat({{ varargs | join(', ') }}){% endmacro %}

{# Whole days from the date `start` to the date `end`; negative when `end` is earlier. #}
{% macro days_between(start, end) %}datediff({{ end }}, {{ start }}){% endmacro %}
