{#- Long rows (entity_id, feature, value) from the entity's own attributes.
    The calendar features use the UTC date of created_at; week of month is
    1 for days 1-7, 2 for days 8-14, and so on. -#}
{% import 'macros/dialect.sql' as d with context %}
SELECT entity_id, 'signup__day_of_week' AS feature, CAST({{ d.iso_day_of_week('created_at') }} AS DOUBLE) AS value
FROM pipe_eligible
UNION ALL
SELECT entity_id, 'signup__week_of_month', CAST(FLOOR(({{ d.day_of_month('created_at') }} - 1) / 7) + 1 AS DOUBLE)
FROM pipe_eligible
UNION ALL
SELECT entity_id, 'signup__month', CAST({{ d.month('created_at') }} AS DOUBLE)
FROM pipe_eligible
UNION ALL
SELECT entity_id, 'signup__quarter', CAST(FLOOR(({{ d.month('created_at') }} - 1) / 3) + 1 AS DOUBLE)
FROM pipe_eligible
UNION ALL
SELECT entity_id, {{ d.concat("'lang__'", "COALESCE(lang, 'unknown')") }}, 1.0
FROM pipe_eligible
UNION ALL
SELECT entity_id, {{ d.concat("'country__'", "COALESCE(country, 'unknown')") }}, 1.0
FROM pipe_eligible
