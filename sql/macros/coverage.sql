{#- paid_coverage(intervals, key): one row (entity_id, covered) per row of
    `intervals` (entity_id, from_at, to_at), where covered is true when the
    entity's paid subscriptions, taken together, are active at every instant
    of [from_at, to_at) with no gap. Subscriptions are half-open
    [started_at, ended_at), ended_at NULL while active, so a plan that ends at
    the instant another starts leaves no gap. -#}
{% macro paid_coverage(intervals, key) %}
WITH intervals AS (
    {{ intervals | indent(4) }}
),
spans AS (
    SELECT
        i.entity_id,
        i.from_at,
        i.to_at,
        CASE WHEN s.started_at > i.from_at THEN s.started_at ELSE i.from_at END AS span_start,
        CASE WHEN s.ended_at IS NULL OR s.ended_at > i.to_at THEN i.to_at ELSE s.ended_at END AS span_end
    FROM intervals i
    JOIN {{ table('subscriptions') }} s
      ON s.{{ key }} = i.entity_id
     AND s.is_paid
     AND s.started_at < i.to_at
     AND (s.ended_at IS NULL OR s.ended_at > i.from_at)
),
reach AS (
    SELECT
        spans.*,
        MAX(span_end) OVER (
            PARTITION BY entity_id ORDER BY span_start, span_end
            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
        ) AS reach_before
    FROM spans
),
per_entity AS (
    SELECT
        entity_id,
        MIN(span_start) = MIN(from_at)
            AND MAX(span_end) = MAX(to_at)
            AND SUM(CASE WHEN reach_before IS NOT NULL AND span_start > reach_before THEN 1 ELSE 0 END) = 0
            AS covered
    FROM reach
    GROUP BY entity_id
)
SELECT i.entity_id, COALESCE(p.covered, FALSE) AS covered
FROM intervals i
LEFT JOIN per_entity p ON p.entity_id = i.entity_id
{% endmacro %}
