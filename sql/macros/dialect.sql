{#- Constructs that differ between SQL dialects. This file is the DuckDB
    version and the default; an engine overrides it at
    sql/<engine>/macros/dialect.sql. Import it "with context". -#}

{# The timestamp `days` whole days after `ts`; `days` is an integer expression. #}
{% macro add_days(ts, days) %}({{ ts }} + to_days(CAST({{ days }} AS INTEGER))){% endmacro %}

{# Midnight UTC at the start of the day of `ts`. #}
{% macro day_start(ts) %}CAST(CAST({{ ts }} AS DATE) AS TIMESTAMP){% endmacro %}

{# True when the regular expression matches anywhere in `text` (search semantics, RE2 syntax). #}
{% macro regex_search(text, pattern) %}regexp_matches({{ text }}, {{ pattern }}){% endmacro %}

{# ISO day of week of `ts`: 1 for Monday to 7 for Sunday. #}
{% macro iso_day_of_week(ts) %}isodow({{ ts }}){% endmacro %}

{% macro day_of_month(ts) %}dayofmonth({{ ts }}){% endmacro %}

{% macro month(ts) %}month({{ ts }}){% endmacro %}

{# The concatenation of any number of string expressions. #}
{% macro concat() %}({{ varargs | join(' || ') }}){% endmacro %}

{# Whole days from the date `start` to the date `end`; negative when `end` is earlier. #}
{% macro days_between(start, end) %}date_diff('day', {{ start }}, {{ end }}){% endmacro %}

{# Whole microseconds from the timestamp `start` to the timestamp `end`, as a BIGINT. #}
{% macro microseconds_between(start, end) %}date_diff('microsecond', {{ start }}, {{ end }}){% endmacro %}

{# The CREATE statement of an output table keyed by (project, day).
   `columns` lists the other columns as (name, type, not_null) in order;
   types are BIGINT, TINYINT, DOUBLE, DATE and STRING. DuckDB keeps the key
   columns first and every row in one table. #}
{% macro create_output_table(name, columns) %}
CREATE TABLE IF NOT EXISTS {{ name }} (
    project STRING NOT NULL,
    day DATE NOT NULL,
{% for column, type, not_null in columns %}
    {{ column }} {{ type }}{{ " NOT NULL" if not_null }}{{ "," if not loop.last }}
{% endfor %}
)
{% endmacro %}
