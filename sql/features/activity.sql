{#- Long rows (entity_id, feature, value) that describe activity, that is
    events of any name, over [anchor_at, cutoff_at). Day numbers count from
    the anchor's UTC date, which is day 1, so that no active entity gets the
    value 0, which the sparse matrix cannot tell from a missing value.

    activity__events                total events
    activity__active_days           distinct UTC dates with an event
    activity__events_per_active_day events / active_days
    activity__first_active_day      day number of the first event
    activity__last_active_day       day number of the last event
    timed, when `days` > 7:
    activity__active_days_7d        active days in [anchor_at, anchor_at + 7 days)
    untimed only:
    activity__active_days_last7d    active days in the last 7 days before the cutoff
    activity__active_days_last30d   the same over 30 days
    activity__days_since_active     days from the last active date to the cutoff date (at least 1)

    One scan of events, grouped by entity and day, then by entity; the
    feature columns are unpivoted by a cross join. -#}
{% import 'macros/dialect.sql' as d with context %}
{% import 'macros/unpivot.sql' as features with context %}
{% set values = [
    ('events', 'CAST(a.events AS DOUBLE)'),
    ('active_days', 'CAST(a.active_days AS DOUBLE)'),
    ('events_per_active_day', 'CAST(a.events AS DOUBLE) / a.active_days'),
    ('first_active_day', 'CAST(a.first_active_day AS DOUBLE)'),
    ('last_active_day', 'CAST(a.last_active_day AS DOUBLE)'),
] %}
{% if timed and days > 7 %}
{% set values = values + [('active_days_7d', 'CAST(a.active_days_7d AS DOUBLE)')] %}
{% elif not timed %}
{% set values = values + [
    ('active_days_last7d', 'CAST(a.active_days_last7d AS DOUBLE)'),
    ('active_days_last30d', 'CAST(a.active_days_last30d AS DOUBLE)'),
    ('days_since_active', 'CAST(a.days_since_active AS DOUBLE)'),
] %}
{% endif %}
WITH days AS (
    -- One row per entity and active day, keyed by the day number. Two
    -- GROUP BYs on integers are much cheaper than COUNT(DISTINCT day) per entity.
    SELECT
        e.entity_id,
        {{ d.days_between('CAST(e.anchor_at AS DATE)', 'CAST(ev.ts AS DATE)') }} + 1 AS day_number,
{% if timed and days > 7 %}
        MAX(CASE WHEN ev.ts < {{ d.add_days('e.anchor_at', 7) }} THEN 1 ELSE 0 END) AS in_7d,
{% elif not timed %}
        {#- The same for every event of the day: days from the day to the cutoff's date, at least 1. #}
        MIN({{ d.days_between('CAST(ev.ts AS DATE)', 'CAST(e.cutoff_at AS DATE)') }}) AS days_to_cutoff,
{% endif %}
        COUNT(*) AS events
    FROM pipe_eligible e
    JOIN {{ table('events') }} ev
      ON ev.{{ key }} = e.entity_id
     AND ev.ts >= e.anchor_at
     AND ev.ts < e.cutoff_at
    GROUP BY e.entity_id, {{ d.days_between('CAST(e.anchor_at AS DATE)', 'CAST(ev.ts AS DATE)') }} + 1
),
activity AS (
    SELECT
        entity_id,
{% if timed and days > 7 %}
        SUM(in_7d) AS active_days_7d,
{% elif not timed %}
        {#- The cutoff is midnight, so the last N days are whole dates. #}
        SUM(CASE WHEN days_to_cutoff <= 7 THEN 1 ELSE 0 END) AS active_days_last7d,
        SUM(CASE WHEN days_to_cutoff <= 30 THEN 1 ELSE 0 END) AS active_days_last30d,
        MIN(days_to_cutoff) AS days_since_active,
{% endif %}
        SUM(events) AS events,
        COUNT(*) AS active_days,
        MIN(day_number) AS first_active_day,
        MAX(day_number) AS last_active_day
    FROM days
    GROUP BY entity_id
),
{{ features.unpivot('activity', 'a', 'activity', values) }}
