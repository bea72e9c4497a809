{#- Long rows (entity_id, feature, value): how many times each event name
    occurred in each period, named events_PERIOD__EVENT.

    Every period lies inside the analysis period [created_at, cutoff_at), so
    events dated before the entity's creation are never counted. In a real
    warehouse such events come from clock skew or reused ids, and the demo
    warehouse has none. Events with no name are skipped.
    Timed: 1d and 7d are [anchor_at, anchor_at + N days), also before the
    cutoff; a period of N >= `days` days is left out because the cutoff ends
    it, which makes it equal to "all" for free and any cohorts. all is the
    whole analysis period.
    Untimed: lastNd is [cutoff_at - N days, cutoff_at); all is the whole
    analysis period.

    One scan of events: each period is a conditional count in one GROUP BY,
    and the periods are unpivoted by a cross join, not by a UNION ALL that
    would read the counts once per period. -#}
{% import 'macros/dialect.sql' as d with context %}
{% set ns = namespace(periods=[]) %}
{% if timed %}
{% for n in (1, 7) if n < days %}
{% set ns.periods = ns.periods + [('%dd' % n, 'ev.ts >= e.anchor_at AND ev.ts < ' ~ d.add_days('e.anchor_at', n))] %}
{% endfor %}
{% else %}
{% for n in (1, 7, 30) %}
{% set ns.periods = ns.periods + [('last%dd' % n, 'ev.ts >= ' ~ d.add_days('e.cutoff_at', -n))] %}
{% endfor %}
{% endif %}
{% set periods = ns.periods %}
{# With --days 1 no period fits before the cutoff and only "all" is left. #}
{% if periods %}
{% set value %}CASE p.period{% for name, _ in periods %} WHEN '{{ name }}' THEN c.n_{{ name }}{% endfor %} ELSE c.n_all END{% endset %}
{% else %}
{% set value %}c.n_all{% endset %}
{% endif %}
WITH counts AS (
    SELECT
        e.entity_id,
        ev.event,
{% for name, condition in periods %}
        SUM(CASE WHEN {{ condition }} THEN 1 ELSE 0 END) AS n_{{ name }},
{% endfor %}
        COUNT(*) AS n_all
    FROM pipe_eligible e
    JOIN {{ table('events') }} ev
      ON ev.{{ key }} = e.entity_id
     AND ev.ts >= e.created_at
     AND ev.ts < e.cutoff_at
     AND ev.event IS NOT NULL
    GROUP BY e.entity_id, ev.event
),
periods AS (
{% for name, _ in periods %}
    SELECT '{{ name }}' AS period
    UNION ALL
{% endfor %}
    SELECT 'all' AS period
)
SELECT
    c.entity_id,
    {{ d.concat("'events_'", 'p.period', "'__'", 'c.event') }} AS feature,
    CAST({{ value }} AS DOUBLE) AS value
FROM counts c
CROSS JOIN periods p
WHERE {{ value }} > 0
