{#- Free: timed, no paid subscription active at any instant of
    [anchor_at, cutoff_at); untimed, none active just before the cutoff
    (started before it and not ended before it). -#}
SELECT c.entity_id, COUNT(s.{{ key }}) = 0 AS eligible
FROM pipe_cohort c
LEFT JOIN {{ table('subscriptions') }} s
  ON s.{{ key }} = c.entity_id
 AND s.is_paid
 AND s.started_at < c.cutoff_at
{% if timed %}
 AND (s.ended_at IS NULL OR s.ended_at > c.anchor_at)
{% else %}
 AND (s.ended_at IS NULL OR s.ended_at >= c.cutoff_at)
{% endif %}
GROUP BY c.entity_id
