{#- 1 when an event matching `pattern` occurs in [cutoff_at, cutoff_at + window days). -#}
{% import 'macros/dialect.sql' as d with context %}
SELECT e.entity_id, CASE WHEN COUNT(ev.{{ key }}) > 0 THEN 1 ELSE 0 END AS label
FROM pipe_eligible e
LEFT JOIN {{ table('events') }} ev
  ON ev.{{ key }} = e.entity_id
 AND ev.ts >= e.cutoff_at
 AND ev.ts < {{ d.add_days('e.cutoff_at', window) }}
 AND {{ d.regex_search('ev.event', param('pattern', pattern)) }}
GROUP BY e.entity_id
