{#- The cohort's population with each entity's cutoff.
    Timed: entities whose anchor date is in [anchor_start, anchor_end], both
    included; cutoff = midnight UTC at the end of day `days`, that is the
    anchor date + `days` days. Untimed: entities created before the shared
    cutoff. -#}
{% import 'macros/dialect.sql' as d with context %}
WITH candidates AS (
    {% include cohort_template %}
)
SELECT
    c.*,
{% if timed %}
    {{ d.add_days(d.day_start('c.anchor_at'), days) }} AS cutoff_at
{% else %}
    CAST({{ param('cutoff', cutoff) }} AS TIMESTAMP) AS cutoff_at
{% endif %}
FROM candidates c
{% if timed %}
WHERE CAST(c.anchor_at AS DATE) >= CAST({{ param('anchor_start', anchor_start) }} AS DATE)
  AND CAST(c.anchor_at AS DATE) <= CAST({{ param('anchor_end', anchor_end) }} AS DATE)
{% else %}
WHERE c.created_at < CAST({{ param('cutoff', cutoff) }} AS TIMESTAMP)
  AND c.anchor_at < CAST({{ param('cutoff', cutoff) }} AS TIMESTAMP)
{% endif %}
{% if with_ids %}
  AND c.entity_id IN (SELECT entity_id FROM pipe_ids)
{% endif %}
