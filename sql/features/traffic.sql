{#- Long rows (entity_id, feature, value) from daily traffic. A day counts
    when created_at's date <= day < cutoff_at's date, so the cutoff day and
    the days before creation never count. A user's traffic is the sum over
    the user's sites, day by day.

    traffic__views, traffic__visitors  totals
    traffic__days_with_views           days with at least one view
    traffic__peak_day_views            max daily views
    traffic__views_last7d              views in the 7 days before the cutoff date
    traffic__views_prev7d              views in the 7 days before those
    traffic__views_trend_7d            ln((views_last7d + 1) / (views_prev7d + 1)):
                                       0 when flat or without traffic, positive when rising

    One scan of traffic, grouped by entity; the feature columns are unpivoted
    by a cross join. -#}
{% import 'macros/dialect.sql' as d with context %}
{% import 'macros/unpivot.sql' as features with context %}
{% set last7_start = 'CAST(' ~ d.add_days('daily.cutoff_at', -7) ~ ' AS DATE)' %}
{% set prev7_start = 'CAST(' ~ d.add_days('daily.cutoff_at', -14) ~ ' AS DATE)' %}
{% set values = [
    ('views', 't.views'),
    ('visitors', 't.visitors'),
    ('days_with_views', 't.days_with_views'),
    ('peak_day_views', 't.peak_day_views'),
    ('views_last7d', 't.views_last7d'),
    ('views_prev7d', 't.views_prev7d'),
    ('views_trend_7d', 'LN((t.views_last7d + 1.0) / (t.views_prev7d + 1.0))'),
] %}
WITH daily AS (
{% if entity == 'user' %}
    SELECT e.entity_id, e.cutoff_at, t.day, SUM(t.views) AS views, SUM(t.visitors) AS visitors
    FROM pipe_eligible e
    JOIN {{ table('sites') }} s
      ON s.user_id = e.entity_id
    JOIN {{ table('traffic') }} t
      ON t.site_id = s.site_id
     AND t.day >= CAST(e.created_at AS DATE)
     AND t.day < CAST(e.cutoff_at AS DATE)
    GROUP BY e.entity_id, e.cutoff_at, t.day
{% else %}
    SELECT e.entity_id, e.cutoff_at, t.day, t.views, t.visitors
    FROM pipe_eligible e
    JOIN {{ table('traffic') }} t
      ON t.site_id = e.entity_id
     AND t.day >= CAST(e.created_at AS DATE)
     AND t.day < CAST(e.cutoff_at AS DATE)
{% endif %}
),
totals AS (
    SELECT
        daily.entity_id,
        SUM(daily.views) AS views,
        SUM(daily.visitors) AS visitors,
        SUM(CASE WHEN daily.views > 0 THEN 1 ELSE 0 END) AS days_with_views,
        MAX(daily.views) AS peak_day_views,
        SUM(CASE WHEN daily.day >= {{ last7_start }} THEN daily.views ELSE 0 END) AS views_last7d,
        SUM(CASE WHEN daily.day >= {{ prev7_start }} AND daily.day < {{ last7_start }} THEN daily.views ELSE 0 END) AS views_prev7d
    FROM daily
    GROUP BY daily.entity_id
),
{{ features.unpivot('totals', 't', 'traffic', values) }}
