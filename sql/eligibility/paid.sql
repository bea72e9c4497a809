{#- Paid: timed, paid subscriptions cover [anchor_at, cutoff_at) with no
    gap; untimed, a paid subscription is active just before the cutoff. -#}
{% if timed %}
{% import 'macros/coverage.sql' as coverage with context %}
SELECT entity_id, covered AS eligible
FROM (
    {{ coverage.paid_coverage("SELECT entity_id, anchor_at AS from_at, cutoff_at AS to_at FROM pipe_cohort", key) | indent(4) }}
) paid
{% else %}
SELECT c.entity_id, COUNT(s.{{ key }}) > 0 AS eligible
FROM pipe_cohort c
LEFT JOIN {{ table('subscriptions') }} s
  ON s.{{ key }} = c.entity_id
 AND s.is_paid
 AND s.started_at < c.cutoff_at
 AND (s.ended_at IS NULL OR s.ended_at >= c.cutoff_at)
GROUP BY c.entity_id
{% endif %}
