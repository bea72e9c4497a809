{#- Long rows (entity_id, feature, value): how many times each event name
    occurred before the entity's cutoff. -#}
{% import 'macros/dialect.sql' as d with context %}
SELECT
    e.entity_id,
    {{ d.concat("'events__'", 'ev.event') }} AS feature,
    CAST(COUNT(*) AS DOUBLE) AS value
FROM pipe_eligible e
JOIN {{ table('events') }} ev
  ON ev.{{ key }} = e.entity_id
 AND ev.ts < e.cutoff_at
GROUP BY e.entity_id, ev.event
