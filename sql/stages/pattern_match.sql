{#- One event name that the pattern of an event_like_PATTERN conversion
    matches, or no row when it matches none; init warns about such a pattern. -#}
{% import 'macros/dialect.sql' as d with context %}
SELECT ev.event
FROM {{ table('events') }} ev
WHERE {{ d.regex_search('ev.event', param('pattern', pattern)) }}
LIMIT 1
