{#- Long rows (entity_id, feature, value) from the subscriptions that started
    before the cutoff. Each plan is clipped to [started_at, cutoff_at): an
    ended_at that is NULL or at or after the cutoff counts as the cutoff, so
    nothing dated at or after the cutoff changes a value.

    subscriptions__plans                plans of any kind
    subscriptions__paid_plans           paid plans
    subscriptions__paid_days            days covered by at least one paid plan;
                                        overlapping plans count once
    subscriptions__paid_active          1 when a paid plan is active just before the cutoff
    subscriptions__product__PRODUCT     1 for each product the entity had, paid or not -#}
{% import 'macros/dialect.sql' as d with context %}
WITH plans AS (
    SELECT
        e.entity_id,
        e.cutoff_at,
        COALESCE(s.product, 'unknown') AS product,
        s.is_paid,
        s.started_at,
        CASE WHEN s.ended_at IS NULL OR s.ended_at > e.cutoff_at THEN e.cutoff_at ELSE s.ended_at END AS ended_at
    FROM pipe_eligible e
    JOIN {{ table('subscriptions') }} s
      ON s.{{ key }} = e.entity_id
     AND s.started_at < e.cutoff_at
),
paid AS (
    -- span_start: where the plan starts adding paid days, that is after the
    -- latest end of the entity's earlier paid plans when that is later.
    SELECT
        entity_id,
        cutoff_at,
        ended_at,
        CASE WHEN reach_before > started_at THEN reach_before ELSE started_at END AS span_start
    FROM (
        SELECT
            plans.*,
            MAX(ended_at) OVER (
                PARTITION BY entity_id ORDER BY started_at, ended_at
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
            ) AS reach_before
        FROM plans
        WHERE is_paid
    ) ordered
),
paid_totals AS (
    SELECT
        entity_id,
        COUNT(*) AS paid_plans,
        -- Microseconds are summed as integers, so the total is exact whatever
        -- order the engine adds them in.
        SUM(CASE WHEN ended_at > span_start THEN {{ d.microseconds_between('span_start', 'ended_at') }} ELSE 0 END) / 86400000000.0 AS paid_days,
        MAX(CASE WHEN ended_at = cutoff_at THEN 1 ELSE 0 END) AS paid_active
    FROM paid
    GROUP BY entity_id
)
SELECT entity_id, 'subscriptions__plans' AS feature, CAST(COUNT(*) AS DOUBLE) AS value
FROM plans
GROUP BY entity_id
UNION ALL
SELECT entity_id, 'subscriptions__paid_plans', CAST(paid_plans AS DOUBLE)
FROM paid_totals
UNION ALL
SELECT entity_id, 'subscriptions__paid_days', CAST(paid_days AS DOUBLE)
FROM paid_totals
WHERE paid_days > 0
UNION ALL
SELECT entity_id, 'subscriptions__paid_active', 1.0
FROM paid_totals
WHERE paid_active = 1
UNION ALL
SELECT DISTINCT entity_id, {{ d.concat("'subscriptions__product__'", 'product') }}, 1.0
FROM plans
