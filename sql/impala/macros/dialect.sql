{#- Impala versions of the constructs in sql/macros/dialect.sql (Impala 3.3
    or newer, for the DATE type). Impala's TIMESTAMP has no time zone, and
    pipe's timestamps are UTC. -#}

{# The timestamp `days` whole days after `ts`; `days` is an integer expression. #}
{% macro add_days(ts, days) %}days_add({{ ts }}, CAST({{ days }} AS INT)){% endmacro %}

{# Midnight UTC at the start of the day of `ts`. #}
{% macro day_start(ts) %}CAST(CAST({{ ts }} AS DATE) AS TIMESTAMP){% endmacro %}

{# True when the regular expression matches anywhere in `text` (search semantics, RE2 syntax). #}
{% macro regex_search(text, pattern) %}regexp_like({{ text }}, {{ pattern }}){% endmacro %}

{# ISO day of week of `ts`: 1 for Monday to 7 for Sunday; dayofweek counts from 1 on Sunday. #}
{% macro iso_day_of_week(ts) %}(MOD(dayofweek({{ ts }}) + 5, 7) + 1){% endmacro %}

{% macro day_of_month(ts) %}dayofmonth({{ ts }}){% endmacro %}

{% macro month(ts) %}month({{ ts }}){% endmacro %}

{# The concatenation of any number of string expressions; NULL when one is NULL. #}
{% macro concat() %}concat({{ varargs | join(', ') }}){% endmacro %}

{# Whole days from the date `start` to the date `end`; negative when `end` is earlier. #}
{% macro days_between(start, end) %}datediff({{ end }}, {{ start }}){% endmacro %}

{# Whole microseconds from the timestamp `start` to the timestamp `end`, as a BIGINT. #}
{% macro microseconds_between(start, end) %}(utc_to_unix_micros({{ end }}) - utc_to_unix_micros({{ start }})){% endmacro %}
