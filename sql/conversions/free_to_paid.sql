{#- 1 when a paid subscription starts in [cutoff_at, cutoff_at + window days). -#}
{% import 'macros/dialect.sql' as d with context %}
SELECT e.entity_id, CASE WHEN COUNT(s.{{ key }}) > 0 THEN 1 ELSE 0 END AS label
FROM pipe_eligible e
LEFT JOIN {{ table('subscriptions') }} s
  ON s.{{ key }} = e.entity_id
 AND s.is_paid
 AND s.started_at >= e.cutoff_at
 AND s.started_at < {{ d.add_days('e.cutoff_at', window) }}
GROUP BY e.entity_id
