{#- Candidate sites: one row per site with its anchor. `anchor` is
    "created_at" (the site's creation) or "first_paid" (the start of its
    first paid subscription; sites never paid have no row). -#}
SELECT
    s.site_id AS entity_id,
    s.created_at,
{% if anchor == "first_paid" %}
    p.first_paid_at AS anchor_at,
{% else %}
    s.created_at AS anchor_at,
{% endif %}
    s.lang,
    s.country
FROM {{ table('sites') }} s
{% if anchor == "first_paid" %}
JOIN (
    SELECT site_id, MIN(started_at) AS first_paid_at
    FROM {{ table('subscriptions') }} sub
    WHERE is_paid
    GROUP BY site_id
) p ON p.site_id = s.site_id
{% endif %}
