{#- Spark SQL versions of the constructs in sql/macros/dialect.sql, for the
    Spark engine and for Spark's Thrift server reached by the Impala engine.
    The session's time zone is UTC, which both engines set. -#}

{# The timestamp `days` whole days (of 24 hours) after `ts`; `days` is an integer expression. #}
{% macro add_days(ts, days) %}({{ ts }} + make_dt_interval(CAST({{ days }} AS INT))){% endmacro %}

{# Midnight UTC at the start of the day of `ts`. #}
{% macro day_start(ts) %}CAST(CAST({{ ts }} AS DATE) AS TIMESTAMP){% endmacro %}

{# True when the regular expression matches anywhere in `text` (search semantics, java.util.regex syntax). #}
{% macro regex_search(text, pattern) %}({{ text }} RLIKE {{ pattern }}){% endmacro %}

{# ISO day of week of `ts`: 1 for Monday to 7 for Sunday; dayofweek counts from 1 on Sunday. #}
{% macro iso_day_of_week(ts) %}(MOD(dayofweek({{ ts }}) + 5, 7) + 1){% endmacro %}

{% macro day_of_month(ts) %}dayofmonth({{ ts }}){% endmacro %}

{% macro month(ts) %}month({{ ts }}){% endmacro %}

{# The concatenation of any number of string expressions; NULL when one is NULL. #}
{% macro concat() %}concat({{ varargs | join(', ') }}){% endmacro %}

{# Whole days from the date `start` to the date `end`; negative when `end` is earlier. #}
{% macro days_between(start, end) %}datediff({{ end }}, {{ start }}){% endmacro %}

{# Whole microseconds from the timestamp `start` to the timestamp `end`, as a BIGINT. #}
{% macro microseconds_between(start, end) %}(unix_micros({{ end }}) - unix_micros({{ start }})){% endmacro %}
