{#- 1 when paid subscriptions fail to cover [cutoff_at, cutoff_at + window days). -#}
{% import 'macros/dialect.sql' as d with context %}
{% import 'macros/coverage.sql' as coverage with context %}
SELECT entity_id, CASE WHEN covered THEN 0 ELSE 1 END AS label
FROM (
    {{ coverage.paid_coverage("SELECT entity_id, cutoff_at AS from_at, " ~ d.add_days('cutoff_at', window) ~ " AS to_at FROM pipe_eligible", key) | indent(4) }}
) paid
